import { and, asc, eq, inArray, isNull, ne, or, sql, type SQL } from 'drizzle-orm';
import type { CaoDb, CaoDrizzle } from '../../db/db.js';
import { messages, terminals, type NewTerminalRow, type TerminalRow } from '../../db/schema.js';
import type { MessageState } from '../../bus/bus.js';
import type { AgentStatus } from '../../status/types.js';
import { CaoError } from '../../util/errors.js';
import type { FailedMail, ListTerminalsOptions, TerminalRows } from '../types.js';

const p = sql.placeholder;

/** Fails a receiver's mail in `from` (inside the caller's transaction when given one); ordered by id. */
export function failMailIn(tx: Pick<CaoDrizzle, 'update'>, receiverId: string, from: MessageState[], reason: string): FailedMail[] {
  return tx
    .update(messages)
    .set({ status: 'failed', error: reason })
    .where(and(eq(messages.receiverId, receiverId), inArray(messages.status, from)))
    .returning({ id: messages.id, receiverId: messages.receiverId })
    .all()
    .sort((a, b) => a.id - b.id)
    .map((r) => ({ messageId: r.id, receiverId: r.receiverId, error: reason }));
}

function prepare(db: CaoDrizzle) {
  return {
    byId: db
      .select()
      .from(terminals)
      .where(eq(terminals.id, p('id')))
      .prepare(),
    // status changes come with every turn of every agent
    setStatus: db
      .update(terminals)
      .set({ status: sql`${p('status')}`, question: sql`${p('question')}` })
      .where(and(eq(terminals.id, p('id')), isNull(terminals.endedAt)))
      .prepare(),
    setStatusError: db
      .update(terminals)
      .set({ status: sql`${p('status')}`, lastError: sql`${p('error')}`, question: sql`${p('question')}` })
      .where(and(eq(terminals.id, p('id')), isNull(terminals.endedAt)))
      .prepare(),
  };
}

/** The terminals table on SQLite: every method runs synchronously when called (better-sqlite3) and returns a settled promise. */
export class SqliteTerminals implements TerminalRows {
  private readonly db: CaoDrizzle;
  private readonly q: ReturnType<typeof prepare>;

  constructor(private readonly cao: CaoDb) {
    this.db = cao.db;
    this.q = prepare(this.db);
  }

  /** Synchronous read by key (the engine's own transactions use it). */
  getSync(id: string): TerminalRow | undefined {
    return this.q.byId.get({ id });
  }

  async insert(row: NewTerminalRow): Promise<TerminalRow | null> {
    return this.db.insert(terminals).values(row).onConflictDoNothing().returning().get() ?? null;
  }

  async ensureExternal(name: string, now: number): Promise<{ row: TerminalRow; created: boolean }> {
    return this.db.transaction(
      (tx) => {
        const existing = tx.select().from(terminals).where(eq(terminals.id, name)).get();
        if (existing && existing.kind !== 'external') {
          throw new CaoError('name_taken', `"${name}" is a worker terminal id, not an external supervisor`);
        }
        if (existing && existing.endedAt === null) return { row: existing, created: false };
        if (existing) {
          const reopened = tx
            .update(terminals)
            .set({ endedAt: null, status: 'idle', lastError: null })
            .where(eq(terminals.id, name))
            .returning()
            .get()!;
          return { row: reopened, created: true };
        }
        const inserted = tx.insert(terminals).values({ id: name, kind: 'external', status: 'idle', createdAt: now }).returning().get();
        return { row: inserted, created: true };
      },
      { behavior: 'immediate' },
    );
  }

  async setStatus(id: string, status: AgentStatus, error?: string, question: string | null = null): Promise<boolean> {
    const r = error === undefined ? this.q.setStatus.run({ id, status, question }) : this.q.setStatusError.run({ id, status, error, question });
    return r.changes > 0;
  }

  async end(
    id: string,
    status: AgentStatus,
    now: number,
    reason: string | undefined,
    mailReason: string,
  ): Promise<{ row: TerminalRow; failed: FailedMail[] } | null> {
    return this.db.transaction(
      (tx) => {
        const row = tx
          .update(terminals)
          .set({ endedAt: now, status, ...(reason !== undefined ? { lastError: reason } : {}) })
          .where(and(eq(terminals.id, id), isNull(terminals.endedAt)))
          .returning()
          .get();
        if (!row) return null;
        return { row, failed: row.kind === 'worker' ? failMailIn(tx, id, ['pending'], mailReason) : [] };
      },
      { behavior: 'immediate' },
    );
  }

  async adopt(id: string, hubId: string): Promise<boolean> {
    return (
      this.db
        .update(terminals)
        .set({ hubId })
        .where(and(eq(terminals.id, id), isNull(terminals.endedAt)))
        .run().changes > 0
    );
  }

  async setCreator(id: string, creatorId: string, runId: string | null): Promise<boolean> {
    return (
      this.db
        .update(terminals)
        .set({ creatorId, runId })
        .where(and(eq(terminals.id, id), isNull(terminals.endedAt)))
        .run().changes > 0
    );
  }

  async get(id: string): Promise<TerminalRow | undefined> {
    return this.q.byId.get({ id });
  }

  async list(opts: ListTerminalsOptions = {}): Promise<TerminalRow[]> {
    const where: SQL[] = [];
    if (!opts.includeEnded) where.push(isNull(terminals.endedAt));
    if (opts.kind) where.push(eq(terminals.kind, opts.kind));
    if (opts.hubId !== undefined) where.push(eq(terminals.hubId, opts.hubId));
    return this.db
      .select()
      .from(terminals)
      .where(and(...where))
      .orderBy(asc(terminals.createdAt), asc(terminals.id))
      .all();
  }

  async recover(
    currentHubId: string,
    now: number,
    isHubAlive?: (hubId: string) => boolean,
  ): Promise<{ ended: { id: string; pid: number | null }[]; failed: FailedMail[] }> {
    return this.db.transaction(
      (tx) => {
        const stale = tx
          .select({ id: terminals.id, pid: terminals.pid, hubId: terminals.hubId })
          .from(terminals)
          .where(and(eq(terminals.kind, 'worker'), isNull(terminals.endedAt), or(isNull(terminals.hubId), ne(terminals.hubId, currentHubId))))
          .all()
          .filter((t) => !(t.hubId !== null && isHubAlive?.(t.hubId)));
        const failed: FailedMail[] = [];
        for (const t of stale) {
          tx.update(terminals).set({ endedAt: now, status: 'exited', lastError: 'hub restarted' }).where(eq(terminals.id, t.id)).run();
          failed.push(...failMailIn(tx, t.id, ['pending', 'delivering'], `receiver ${t.id} died with the previous hub`));
        }
        return { ended: stale.map((t) => ({ id: t.id, pid: t.pid })), failed };
      },
      { behavior: 'immediate' },
    );
  }
}
