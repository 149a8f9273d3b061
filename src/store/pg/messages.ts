import pg, { type QueryResult } from 'pg';
import { assertExternalInbox, mailRefusal } from '../refusals.js';
import { and, asc, count, desc, eq, getTableColumns, gt, inArray, sql, type SQL } from 'drizzle-orm';
import type { MessageState } from '../../bus/bus.js';
import { messages, terminals } from '../../db/schema-pg.js';
import type { MessageRow, TerminalKind, TerminalRow } from '../../db/schema.js';
import { CaoError } from '../../util/errors.js';
import type { FailedMail, ListMessagesOptions, MessageRows, NewMessage } from '../types.js';
import { asFailed, LOCK_CLAIM, MAIL_CHANNEL, type PgDb } from './db.js';

/**
 * A message row as JSON with MessageRow's keys, for the statements that do not go through drizzle's mapping: built
 * from the table's own columns, so it follows the schema.
 */
const MESSAGE_JSON = `json_build_object(${Object.entries(getTableColumns(messages))
  .map(([key, column]) => `'${key}', ${column.name}`)
  .join(', ')})`;

/** A receiver's row as insertBatch reads it (JSON from the statement). */
interface Receiver {
  id: string;
  endedAt: number | null;
  status: TerminalRow['status'];
}

/**
 * Message rows on PostgreSQL, with SQLite's single-writer guarantees kept under READ COMMITTED and many hubs:
 * - insertBatch reads its receivers FOR SHARE: a terminal ending (an UPDATE of its row) waits for the batch to commit,
 *   then fails its pending mail in a statement that sees the batch; or the batch waits and sees the receiver ended.
 * - claimNext takes a transaction lock of its receiver first, so the claims of one receiver are one at a time and
 *   each one's conditional UPDATE sees the one before it committed.
 * - takeForExternal takes its rows FOR UPDATE SKIP LOCKED: two readers never both get a message.
 */
export class PgMessageRows implements MessageRows {
  /** Every delivered message is marked so: built once, prepared once per connection (named). */
  private readonly markDeliveredQuery;

  /** `origin`: this store's own tag on its wake-ups (its watchMail does not wake itself). */
  constructor(
    private readonly db: PgDb,
    private readonly origin = '',
  ) {
    this.markDeliveredQuery = db
      .update(messages)
      .set({ status: 'delivered', deliveredAt: sql`${sql.placeholder('now')}`, error: null })
      .where(and(eq(messages.id, sql.placeholder('id')), eq(messages.status, 'delivering')))
      .returning()
      .prepare('cao_mark_delivered');
  }

  /**
   * One statement, so one round trip and its own commit (a group commit of many sends was five: BEGIN, the receivers,
   * the INSERT, the NOTIFY, COMMIT; that capped the intake): the receivers read FOR SHARE, the rows of the live ones
   * inserted in the batch's order, their hubs woken (pg_notify, sent at the commit), and what was read handed back.
   */
  async insertBatch(batch: NewMessage[], now: number): Promise<(MessageRow | CaoError)[]> {
    if (!batch.length) return [];
    // in one order of ids, so that two batches to the same receivers never wait for each other in a circle
    const ids = [...new Set(batch.map((m) => m.receiverId))].sort();
    const col = (f: (m: NewMessage) => string) => sql.param(batch.map(f));
    const result = await this.db.execute<{ receivers: Receiver[]; rows: MessageRow[] | null; woken: number }>(sql`
      with v as (
        select * from unnest(${col((m) => m.senderId)}::text[], ${col((m) => m.receiverId)}::text[], ${col((m) => m.body)}::text[],
          ${col((m) => m.kind)}::text[]) with ordinality as v(sender_id, receiver_id, body, kind, ord)
      ), r as (
        select id, ended_at, status from ${terminals} where id = any(${sql.param(ids)}::text[]) order by id for share
      ), ins as (
        insert into ${messages} (sender_id, receiver_id, body, kind, status, created_at)
        select v.sender_id, v.receiver_id, v.body, v.kind, 'pending', ${now}::bigint
        from v join r on r.id = v.receiver_id and r.ended_at is null
        order by v.ord
        returning *
      ), woken as (
        select pg_notify(${MAIL_CHANNEL}, ${this.origin} || ' ' || x.receiver_id) from (select distinct receiver_id from ins) x
      )
      select
        (select coalesce(json_agg(json_build_object('id', id, 'endedAt', ended_at, 'status', status)), '[]') from r) as receivers,
        (select json_agg(${sql.raw(MESSAGE_JSON)} order by id) from ins) as rows,
        -- counted so that it runs: PostgreSQL never evaluates a CTE without data changes that nothing reads
        (select count(*) from woken)::int as woken`);
    const [{ receivers, rows }] = result.rows;
    const byId = new Map(receivers.map((r) => [r.id, r]));
    // identities are given in the order of the batch (ORDER BY ord); the refusals are the same check both engines make
    const inserted = rows ?? [];
    let next = 0;
    return batch.map((m) => mailRefusal(m.receiverId, byId.get(m.receiverId)) ?? inserted[next++]!);
  }

  /**
   * The receiver's claim lock, then the claim: two statements sent as one simple query, so one round trip (four as
   * BEGIN, lock, UPDATE, COMMIT). They run as one implicit transaction that holds the lock to its end, and the UPDATE,
   * a statement of its own under READ COMMITTED, sees every claim committed before the lock was granted. The simple
   * protocol carries no parameters: the id goes in as a quoted literal (pg's own escaping).
   */
  async claimNext(receiverId: string): Promise<MessageRow | null> {
    const id = pg.escapeLiteral(receiverId);
    const results = (await this.db.$client.query(`select pg_advisory_xact_lock(${LOCK_CLAIM}, hashtext(${id}));
      update messages set status = 'delivering'
      where id = (select id from messages where receiver_id = ${id} and status = 'pending' order by id limit 1)
        and status = 'pending'
        and not exists (select 1 from messages where receiver_id = ${id} and status = 'delivering')
      returning ${MESSAGE_JSON} as row`)) as unknown as QueryResult<{ row: MessageRow }>[];
    return results[1]?.rows[0]?.row ?? null;
  }

  async markDelivered(id: number, now: number): Promise<MessageRow | null> {
    const [row] = await this.markDeliveredQuery.execute({ id, now });
    return row ?? null;
  }

  async releaseForRetry(id: number, error: string, maxAttempts: number): Promise<MessageRow | null> {
    const giveUp = sql`${messages.attempts} + 1 >= ${maxAttempts}::integer`;
    const [row] = await this.db
      .update(messages)
      .set({
        attempts: sql`${messages.attempts} + 1`,
        status: sql`case when ${giveUp} then 'failed' else 'pending' end`,
        error: sql`case when ${giveUp} then 'gave up after ' || (${messages.attempts} + 1) || ' attempts: ' || ${error}::text else ${error}::text end`,
      })
      .where(and(eq(messages.id, id), eq(messages.status, 'delivering')))
      .returning();
    return row ?? null;
  }

  async requeue(id: number): Promise<MessageRow | null> {
    const [row] = await this.db
      .update(messages)
      .set({ status: 'pending' })
      .where(and(eq(messages.id, id), eq(messages.status, 'delivering')))
      .returning();
    return row ?? null;
  }

  async fail(id: number, reason: string): Promise<MessageRow | null> {
    const [row] = await this.db
      .update(messages)
      .set({ status: 'failed', error: reason })
      .where(and(eq(messages.id, id), inArray(messages.status, ['pending', 'delivering'])))
      .returning();
    return row ?? null;
  }

  async failFor(receiverId: string, from: MessageState[], reason: string): Promise<FailedMail[]> {
    if (!from.length) return [];
    const rows = await this.db
      .update(messages)
      .set({ status: 'failed', error: reason })
      .where(and(eq(messages.receiverId, receiverId), inArray(messages.status, from)))
      .returning({ id: messages.id, receiverId: messages.receiverId });
    return asFailed(rows, reason);
  }

  takeForExternal(receiverId: string, limit: number, now: number): Promise<MessageRow[]> {
    const n = Math.max(1, Math.floor(limit));
    return this.db.transaction(async (tx) => {
      const [receiver] = await tx.select({ kind: terminals.kind }).from(terminals).where(eq(terminals.id, receiverId));
      assertExternalInbox(receiverId, receiver);
      const oldest = tx
        .select({ id: messages.id })
        .from(messages)
        .where(and(eq(messages.receiverId, receiverId), eq(messages.status, 'pending')))
        .orderBy(asc(messages.id))
        .limit(n)
        .for('update', { skipLocked: true });
      const rows = await tx
        .update(messages)
        .set({ status: 'delivered', deliveredAt: now })
        .where(and(inArray(messages.id, oldest), eq(messages.status, 'pending')))
        .returning();
      return rows.sort((a, b) => a.id - b.id);
    });
  }

  async pendingReceivers(kind?: TerminalKind): Promise<string[]> {
    const rows = kind
      ? await this.db
          .selectDistinct({ id: messages.receiverId })
          .from(messages)
          .innerJoin(terminals, eq(terminals.id, messages.receiverId))
          .where(and(eq(messages.status, 'pending'), eq(terminals.kind, kind)))
          .orderBy(asc(messages.receiverId))
      : await this.db
          .selectDistinct({ id: messages.receiverId })
          .from(messages)
          .where(eq(messages.status, 'pending'))
          .orderBy(asc(messages.receiverId));
    return rows.map((r) => r.id);
  }

  async get(id: number): Promise<MessageRow | undefined> {
    return (await this.db.select().from(messages).where(eq(messages.id, id)))[0];
  }

  list(opts: ListMessagesOptions = {}): Promise<MessageRow[]> {
    const where: SQL[] = [];
    if (opts.receiverId !== undefined) where.push(eq(messages.receiverId, opts.receiverId));
    if (opts.senderId !== undefined) where.push(eq(messages.senderId, opts.senderId));
    if (opts.status !== undefined) where.push(Array.isArray(opts.status) ? inArray(messages.status, opts.status) : eq(messages.status, opts.status));
    if (opts.afterId !== undefined) where.push(gt(messages.id, opts.afterId));
    return this.db
      .select()
      .from(messages)
      .where(and(...where))
      .orderBy(opts.order === 'desc' ? desc(messages.id) : asc(messages.id))
      .limit(Math.max(1, Math.floor(opts.limit ?? 100)));
  }

  countPending(receiverId: string): Promise<number> {
    return this.count(and(eq(messages.receiverId, receiverId), eq(messages.status, 'pending'))!);
  }

  countUndelivered(receiverId: string): Promise<number> {
    return this.count(and(eq(messages.receiverId, receiverId), inArray(messages.status, ['pending', 'delivering']))!);
  }

  private async count(where: SQL): Promise<number> {
    const [r] = await this.db.select({ n: count() }).from(messages).where(where);
    return r?.n ?? 0;
  }
}
