import { chunks, oldestUnits } from '../retention-pick.js';
import { and, asc, count, desc, eq, inArray, isNotNull, isNull, lt, min, notInArray, or, sql, type SQL } from 'drizzle-orm';
import type { CaoDb, CaoDrizzle } from '../../db/db.js';
import { journal, messages, terminals, type JournalRow, type MessageKind, type NewJournalRow, type TerminalRow } from '../../db/schema.js';
import type { JournalRows, RetentionResult, RetentionSettings } from '../types.js';

/** Ids per DELETE … IN (…): well under SQLite's bound on bound parameters. */
const CHUNK = 500;

const p = sql.placeholder;

function prepare(db: CaoDrizzle) {
  return {
    messageFacts: db
      .select({ kind: messages.kind, bytes: sql<number>`length(cast(${messages.body} as blob))`, senderId: messages.senderId })
      .from(messages)
      .where(eq(messages.id, p('id')))
      .prepare(),
  };
}

/** The run journal on SQLite. */
/** Rows per INSERT statement. */
const INSERT_CHUNK = 2000;

export class SqliteJournal implements JournalRows {
  private readonly db: CaoDrizzle;
  private readonly q: ReturnType<typeof prepare>;

  constructor(cao: CaoDb) {
    this.db = cao.db;
    this.q = prepare(this.db);
  }

  async append(rows: NewJournalRow[]): Promise<void> {
    if (!rows.length) return;
    this.db.transaction(
      (tx) => {
        // one statement per chunk: SQLite takes at most 32,766 bound variables in one (7 a row)
        for (const part of chunks(rows, INSERT_CHUNK)) tx.insert(journal).values(part).run();
        // a warm spare's start-up, journalled before anyone took it, joins the run of the caller that took it
        for (const r of rows)
          if (r.type === 'terminal.taken' && r.runId && r.terminalId)
            tx.update(journal)
              .set({ runId: r.runId })
              .where(and(eq(journal.terminalId, r.terminalId), isNull(journal.runId)))
              .run();
      },
      { behavior: 'immediate' },
    );
  }

  async messageFacts(id: number): Promise<{ kind: MessageKind; bytes: number; senderId: string } | undefined> {
    return this.q.messageFacts.get({ id });
  }

  async recentRuns(limit: number): Promise<string[]> {
    return this.db
      .select({ runId: journal.runId, first: sql<number>`min(${journal.id})` })
      .from(journal)
      .where(isNotNull(journal.runId))
      .groupBy(journal.runId)
      .orderBy(desc(sql`min(${journal.id})`))
      .limit(limit)
      .all()
      .map((r) => r.runId!);
  }

  async rowsOfRun(runId: string, opts: { types?: string[]; limit?: number } = {}): Promise<JournalRow[]> {
    const where = opts.types ? and(eq(journal.runId, runId), inArray(journal.type, opts.types)) : eq(journal.runId, runId);
    const q = this.db.select().from(journal).where(where).orderBy(asc(journal.id));
    return opts.limit !== undefined ? q.limit(opts.limit).all() : q.all();
  }

  async terminalsOfRun(runId: string): Promise<TerminalRow[]> {
    return this.db.select().from(terminals).where(eq(terminals.runId, runId)).orderBy(asc(terminals.createdAt)).all();
  }

  async runLive(runId: string): Promise<boolean> {
    return !!this.db
      .select({ id: terminals.id })
      .from(terminals)
      .where(and(eq(terminals.runId, runId), isNull(terminals.endedAt)))
      .limit(1)
      .get();
  }

  async runSpan(runId: string): Promise<{ first: number | null; last: number | null; n: number }> {
    const span = this.db
      .select({ first: sql<number | null>`min(${journal.at})`, last: sql<number | null>`max(${journal.at})`, n: sql<number>`count(*)` })
      .from(journal)
      .where(eq(journal.runId, runId))
      .get();
    return { first: span?.first ?? null, last: span?.last ?? null, n: span?.n ?? 0 };
  }

  async resolveRun(id: string): Promise<string | null> {
    const db = this.db;
    if (db.select({ id: journal.id }).from(journal).where(eq(journal.runId, id)).limit(1).get()) return id;
    if (db.select({ id: terminals.id }).from(terminals).where(eq(terminals.runId, id)).limit(1).get()) return id;
    const t = db.select({ runId: terminals.runId }).from(terminals).where(eq(terminals.id, id)).get();
    if (t?.runId) return t.runId;
    const latest = (where: SQL) =>
      db
        .select({ runId: journal.runId })
        .from(journal)
        .where(and(where, isNotNull(journal.runId)))
        .orderBy(desc(journal.id))
        .limit(1)
        .get()?.runId ?? null;
    // a supervisor: the last run it started; else the last run the terminal was seen in (its row gone)
    return latest(and(eq(journal.callerId, id), inArray(journal.type, ['handoff.started', 'assign.started']))!) ?? latest(eq(journal.terminalId, id));
  }

  async delegationRows(terminalIds: readonly string[]): Promise<Pick<JournalRow, 'type' | 'terminalId' | 'callerId' | 'at'>[]> {
    if (!terminalIds.length) return [];
    return this.db
      .select({ type: journal.type, terminalId: journal.terminalId, callerId: journal.callerId, at: journal.at })
      .from(journal)
      .where(
        and(
          inArray(journal.terminalId, [...terminalIds]),
          inArray(journal.type, ['handoff.started', 'assign.started', 'handoff.ended', 'assign.ended']),
        ),
      )
      .orderBy(asc(journal.id))
      .all();
  }

  /**
   * Deletes journal rows older than `maxAgeMs`, then, beyond `maxRows`, the oldest runs whole (a run is never left
   * half-journalled by size: rows outside any run, the hub's own, go one by one): never a row of a run that has a
   * live agent (a terminal row not ended), nor of a live worker outside any run (a warm spare). So a run is journalled
   * whole for as long as any of its agents runs, however old its first rows are. One transaction.
   */
  async applyRetention(s: RetentionSettings, now: number): Promise<RetentionResult> {
    return this.db.transaction(
      (tx) => {
        const liveRuns = tx
          .selectDistinct({ runId: terminals.runId })
          .from(terminals)
          .where(and(isNull(terminals.endedAt), isNotNull(terminals.runId)));
        const liveWorkers = tx
          .select({ id: terminals.id })
          .from(terminals)
          .where(and(isNull(terminals.endedAt), eq(terminals.kind, 'worker')));
        const deletable: SQL = and(
          or(isNull(journal.runId), notInArray(journal.runId, liveRuns)),
          or(isNull(journal.terminalId), notInArray(journal.terminalId, liveWorkers)),
        )!;
        const byAge = tx
          .delete(journal)
          .where(and(lt(journal.at, now - s.maxAgeMs), deletable))
          .run().changes;
        const total = tx.select({ n: count() }).from(journal).get()?.n ?? 0;
        let bySize = 0;
        if (total > s.maxRows) {
          // oldest first by each run's first row; a row outside any run is a unit of its own
          const unit = sql<string>`coalesce(${journal.runId}, '#' || ${journal.id})`;
          const units = tx
            .select({ runId: journal.runId, first: min(journal.id), n: count() })
            .from(journal)
            .where(deletable)
            .groupBy(unit)
            .orderBy(asc(min(journal.id)))
            .all();
          const { runs, rows } = oldestUnits(units, total - s.maxRows);
          for (const part of chunks(runs, CHUNK))
            bySize += tx
              .delete(journal)
              .where(and(inArray(journal.runId, part), deletable))
              .run().changes;
          for (const part of chunks(rows, CHUNK)) bySize += tx.delete(journal).where(inArray(journal.id, part)).run().changes;
        }
        return { byAge, bySize };
      },
      { behavior: 'immediate' },
    );
  }
}
