import { chunks } from '../retention-pick.js';
import { and, asc, count, desc, eq, inArray, isNotNull, isNull, max, min, sql, type SQL } from 'drizzle-orm';
import { journal, messages, terminals } from '../../db/schema-pg.js';
import type { JournalRow, MessageKind, NewJournalRow, TerminalRow } from '../../db/schema.js';
import type { JournalRows, RetentionResult, RetentionSettings } from '../types.js';
import type { PgDb } from './db.js';
import { applyRetention } from './retention.js';

/** Rows per INSERT: a batch is one statement unless it would pass PostgreSQL's 65,535 bound parameters (7 a row). */
const INSERT_CHUNK = 5000;
const DELEGATION_TYPES = ['handoff.started', 'assign.started', 'handoff.ended', 'assign.ended'];

/** The run journal's rows on PostgreSQL (the journal's logic is above, in journal/). */
export class PgJournalRows implements JournalRows {
  /** `relaxed`: the pool whose commits do not wait for the WAL's flush (appends: see pg/index.ts). */
  constructor(
    private readonly db: PgDb,
    private readonly relaxed: PgDb = db,
  ) {}

  async append(rows: NewJournalRow[]): Promise<void> {
    if (!rows.length) return;
    await this.relaxed.transaction(async (tx) => {
      for (const part of chunks(rows, INSERT_CHUNK)) await tx.insert(journal).values(part);
      // a warm spare's start-up, journalled before anyone took it, joins the run of the caller that took it
      for (const r of rows)
        if (r.type === 'terminal.taken' && r.runId && r.terminalId)
          await tx
            .update(journal)
            .set({ runId: r.runId })
            .where(and(eq(journal.terminalId, r.terminalId), isNull(journal.runId)));
    });
  }

  async messageFacts(id: number): Promise<{ kind: MessageKind; bytes: number; senderId: string } | undefined> {
    const [m] = await this.db
      .select({ kind: messages.kind, bytes: sql<number>`octet_length(${messages.body})`.mapWith(Number), senderId: messages.senderId })
      .from(messages)
      .where(eq(messages.id, id));
    return m;
  }

  async recentRuns(limit: number): Promise<string[]> {
    const rows = await this.db
      .select({ runId: journal.runId })
      .from(journal)
      .where(isNotNull(journal.runId))
      .groupBy(journal.runId)
      .orderBy(desc(min(journal.id)))
      .limit(limit);
    return rows.map((r) => r.runId!);
  }

  rowsOfRun(runId: string, opts: { types?: string[]; limit?: number } = {}): Promise<JournalRow[]> {
    const where: SQL[] = [eq(journal.runId, runId)];
    if (opts.types) where.push(inArray(journal.type, opts.types));
    const q = this.db
      .select()
      .from(journal)
      .where(and(...where))
      .orderBy(asc(journal.id));
    return opts.limit === undefined ? q : q.limit(opts.limit);
  }

  terminalsOfRun(runId: string): Promise<TerminalRow[]> {
    return this.db.select().from(terminals).where(eq(terminals.runId, runId)).orderBy(asc(terminals.createdAt), asc(terminals.id));
  }

  async runLive(runId: string): Promise<boolean> {
    const rows = await this.db
      .select({ id: terminals.id })
      .from(terminals)
      .where(and(eq(terminals.runId, runId), isNull(terminals.endedAt)))
      .limit(1);
    return rows.length > 0;
  }

  async runSpan(runId: string): Promise<{ first: number | null; last: number | null; n: number }> {
    const [s] = await this.db
      .select({ first: min(journal.at), last: max(journal.at), n: count() })
      .from(journal)
      .where(eq(journal.runId, runId));
    return { first: s?.first ?? null, last: s?.last ?? null, n: s?.n ?? 0 };
  }

  async resolveRun(id: string): Promise<string | null> {
    if ((await this.db.select({ id: journal.id }).from(journal).where(eq(journal.runId, id)).limit(1)).length) return id;
    if ((await this.db.select({ id: terminals.id }).from(terminals).where(eq(terminals.runId, id)).limit(1)).length) return id;
    const [t] = await this.db.select({ runId: terminals.runId }).from(terminals).where(eq(terminals.id, id));
    if (t?.runId) return t.runId;
    const latest = async (where: SQL) =>
      (
        await this.db
          .select({ runId: journal.runId })
          .from(journal)
          .where(and(where, isNotNull(journal.runId)))
          .orderBy(desc(journal.id))
          .limit(1)
      )[0]?.runId ?? null;
    // a supervisor: the last run it started; else the last run the terminal was seen in (its row gone)
    return (
      (await latest(and(eq(journal.callerId, id), inArray(journal.type, ['handoff.started', 'assign.started']))!)) ??
      (await latest(eq(journal.terminalId, id)))
    );
  }

  async delegationRows(terminalIds: readonly string[]): Promise<Pick<JournalRow, 'type' | 'terminalId' | 'callerId' | 'at'>[]> {
    if (!terminalIds.length) return [];
    return this.db
      .select({ type: journal.type, terminalId: journal.terminalId, callerId: journal.callerId, at: journal.at })
      .from(journal)
      .where(and(inArray(journal.terminalId, [...terminalIds]), inArray(journal.type, DELEGATION_TYPES)))
      .orderBy(asc(journal.id));
  }

  applyRetention(settings: RetentionSettings, now: number): Promise<RetentionResult> {
    return applyRetention(this.db, settings, now);
  }
}
