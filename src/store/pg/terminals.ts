import { and, asc, eq, inArray, isNull, ne, or, sql, type SQL } from 'drizzle-orm';
import { messages, terminals } from '../../db/schema-pg.js';
import type { NewTerminalRow, TerminalRow } from '../../db/schema.js';
import type { AgentStatus } from '../../status/types.js';
import { CaoError } from '../../util/errors.js';
import type { FailedMail, ListTerminalsOptions, TerminalRows } from '../types.js';
import { asFailed, type PgDb } from './db.js';

const p = sql.placeholder;

/**
 * Status changes come with every turn of every agent: their statements are built once and prepared once per
 * connection (named), not built by drizzle and parsed by the server each time.
 */
function prepared(relaxed: PgDb) {
  const live = and(eq(terminals.id, p('id')), isNull(terminals.endedAt));
  return {
    setStatus: relaxed
      .update(terminals)
      .set({ status: sql`${p('status')}`, question: sql`${p('question')}` })
      .where(live)
      .returning({ id: terminals.id })
      .prepare('cao_set_status'),
    setStatusError: relaxed
      .update(terminals)
      .set({ status: sql`${p('status')}`, lastError: sql`${p('error')}`, question: sql`${p('question')}` })
      .where(live)
      .returning({ id: terminals.id })
      .prepare('cao_set_status_error'),
  };
}

/**
 * Terminal rows on PostgreSQL. What must be atomic against other hubs on the same database takes the rows it
 * changes by an UPDATE or SELECT … FOR UPDATE inside its transaction: `end` and `recover` thereby wait for an
 * insertBatch holding the receiver FOR SHARE (and it for them), so their fail-pending statement sees its messages.
 */
export class PgTerminalRows implements TerminalRows {
  private readonly q: ReturnType<typeof prepared>;

  /** `relaxed`: the pool whose commits do not wait for the WAL's flush (statuses: see pg/index.ts). */
  constructor(
    private readonly db: PgDb,
    relaxed: PgDb = db,
  ) {
    this.q = prepared(relaxed);
  }

  async insert(row: NewTerminalRow): Promise<TerminalRow | null> {
    const [inserted] = await this.db.insert(terminals).values(row).onConflictDoNothing().returning();
    return inserted ?? null;
  }

  ensureExternal(name: string, now: number): Promise<{ row: TerminalRow; created: boolean }> {
    return this.db.transaction(async (tx) => {
      const read = async () => (await tx.select().from(terminals).where(eq(terminals.id, name)).for('update'))[0];
      let existing = await read();
      if (!existing) {
        const [inserted] = await tx
          .insert(terminals)
          .values({ id: name, kind: 'external', status: 'idle', createdAt: now })
          .onConflictDoNothing()
          .returning();
        if (inserted) return { row: inserted, created: true };
        existing = await read(); // another hub inserted it meanwhile (its insert committed: ours did nothing)
        if (!existing) throw new CaoError('internal', `terminal ${name} was inserted and is gone`);
      }
      if (existing.kind !== 'external') throw new CaoError('name_taken', `"${name}" is a worker terminal id, not an external supervisor`);
      if (existing.endedAt === null) return { row: existing, created: false };
      const [reopened] = await tx.update(terminals).set({ endedAt: null, status: 'idle', lastError: null }).where(eq(terminals.id, name)).returning();
      return { row: reopened!, created: true };
    });
  }

  async setStatus(id: string, status: AgentStatus, error?: string, question: string | null = null): Promise<boolean> {
    const rows =
      error === undefined
        ? await this.q.setStatus.execute({ id, status, question })
        : await this.q.setStatusError.execute({ id, status, error, question });
    return rows.length > 0;
  }

  end(
    id: string,
    status: AgentStatus,
    now: number,
    reason: string | undefined,
    mailReason: string,
  ): Promise<{ row: TerminalRow; failed: FailedMail[] } | null> {
    return this.db.transaction(async (tx) => {
      const [row] = await tx
        .update(terminals)
        .set({ endedAt: now, status, ...(reason !== undefined ? { lastError: reason } : {}) })
        .where(and(eq(terminals.id, id), isNull(terminals.endedAt)))
        .returning();
      if (!row) return null;
      if (row.kind !== 'worker') return { row, failed: [] };
      const failed = await tx
        .update(messages)
        .set({ status: 'failed', error: mailReason })
        .where(and(eq(messages.receiverId, id), eq(messages.status, 'pending')))
        .returning({ id: messages.id, receiverId: messages.receiverId });
      return { row, failed: asFailed(failed, mailReason) };
    });
  }

  async adopt(id: string, hubId: string): Promise<boolean> {
    const rows = await this.db
      .update(terminals)
      .set({ hubId })
      .where(and(eq(terminals.id, id), isNull(terminals.endedAt)))
      .returning({ id: terminals.id });
    return rows.length > 0;
  }

  async setCreator(id: string, creatorId: string, runId: string | null): Promise<boolean> {
    const rows = await this.db
      .update(terminals)
      .set({ creatorId, runId })
      .where(and(eq(terminals.id, id), isNull(terminals.endedAt)))
      .returning({ id: terminals.id });
    return rows.length > 0;
  }

  async get(id: string): Promise<TerminalRow | undefined> {
    return (await this.db.select().from(terminals).where(eq(terminals.id, id)))[0];
  }

  list(opts: ListTerminalsOptions = {}): Promise<TerminalRow[]> {
    const where: SQL[] = [];
    if (!opts.includeEnded) where.push(isNull(terminals.endedAt));
    if (opts.kind) where.push(eq(terminals.kind, opts.kind));
    if (opts.hubId !== undefined) where.push(eq(terminals.hubId, opts.hubId));
    return this.db
      .select()
      .from(terminals)
      .where(and(...where))
      .orderBy(asc(terminals.createdAt), asc(terminals.id));
  }

  recover(
    currentHubId: string,
    now: number,
    isHubAlive?: (hubId: string) => boolean,
  ): Promise<{ ended: { id: string; pid: number | null }[]; failed: FailedMail[] }> {
    return this.db.transaction(async (tx) => {
      // FOR UPDATE: a second hub recovering at once waits, then finds these rows ended (READ COMMITTED re-checks them)
      const stale = (
        await tx
          .select({ id: terminals.id, pid: terminals.pid, hubId: terminals.hubId })
          .from(terminals)
          .where(and(eq(terminals.kind, 'worker'), isNull(terminals.endedAt), or(isNull(terminals.hubId), ne(terminals.hubId, currentHubId))))
          .orderBy(asc(terminals.id)) // rows are locked in id order, as insertBatch does: no deadlock between them
          .for('update')
      ).filter((t) => !(t.hubId !== null && isHubAlive?.(t.hubId)));
      if (!stale.length) return { ended: [], failed: [] };
      const ids = stale.map((t) => t.id);
      await tx.update(terminals).set({ endedAt: now, status: 'exited', lastError: 'hub restarted' }).where(inArray(terminals.id, ids));
      const rows = await tx
        .update(messages)
        .set({ status: 'failed', error: sql`'receiver ' || ${messages.receiverId} || ' died with the previous hub'` })
        .where(and(inArray(messages.receiverId, ids), inArray(messages.status, ['pending', 'delivering'])))
        .returning({ id: messages.id, receiverId: messages.receiverId });
      const failed: FailedMail[] = [];
      for (const id of ids)
        failed.push(
          ...asFailed(
            rows.filter((r) => r.receiverId === id),
            `receiver ${id} died with the previous hub`,
          ),
        );
      return { ended: stale.map((t) => ({ id: t.id, pid: t.pid })), failed };
    });
  }
}
