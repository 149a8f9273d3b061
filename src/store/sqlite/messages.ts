import { assertExternalInbox, mailRefusal } from '../refusals.js';
import { and, asc, count, desc, eq, gt, inArray, notExists, sql, type SQL } from 'drizzle-orm';
import type { MessageState } from '../../bus/bus.js';
import type { CaoDb, CaoDrizzle } from '../../db/db.js';
import { messages, terminals, type MessageRow, type TerminalKind } from '../../db/schema.js';
import { CaoError } from '../../util/errors.js';
import type { FailedMail, ListMessagesOptions, MessageRows, NewMessage } from '../types.js';
import { failMailIn, type SqliteTerminals } from './terminals.js';

const p = sql.placeholder;

/** Hot-path statements, compiled once (building a drizzle query costs far more than running it). */
function prepare(db: CaoDrizzle) {
  const byReceiver = (status: MessageState) => and(eq(messages.receiverId, p('receiverId')), eq(messages.status, status));
  const oldestPending = db.select({ id: messages.id }).from(messages).where(byReceiver('pending')).orderBy(asc(messages.id)).limit(1);
  const inFlight = db
    .select({ one: sql`1` })
    .from(messages)
    .where(byReceiver('delivering'));
  const giveUp = sql`${messages.attempts} + 1 >= ${p('maxAttempts')}`;
  return {
    insertMessage: db
      .insert(messages)
      .values({ senderId: p('senderId'), receiverId: p('receiverId'), body: p('body'), kind: p('kind'), status: 'pending', createdAt: p('now') })
      .returning()
      .prepare(),
    /** The claim: one statement, conditional on "still pending" and "nothing of this receiver in flight". */
    claimNext: db
      .update(messages)
      .set({ status: 'delivering' })
      .where(and(sql`${messages.id} = (${oldestPending})`, eq(messages.status, 'pending'), notExists(inFlight)))
      .returning()
      .prepare(),
    markDelivered: db
      .update(messages)
      .set({ status: 'delivered', deliveredAt: sql`${p('now')}`, error: null })
      .where(and(eq(messages.id, p('id')), eq(messages.status, 'delivering')))
      .returning()
      .prepare(),
    releaseForRetry: db
      .update(messages)
      .set({
        attempts: sql`${messages.attempts} + 1`,
        status: sql`case when ${giveUp} then 'failed' else 'pending' end`,
        error: sql`case when ${giveUp} then 'gave up after ' || (${messages.attempts} + 1) || ' attempts: ' || ${p('error')} else ${p('error')} end`,
      })
      .where(and(eq(messages.id, p('id')), eq(messages.status, 'delivering')))
      .returning()
      .prepare(),
    requeue: db
      .update(messages)
      .set({ status: 'pending' })
      .where(and(eq(messages.id, p('id')), eq(messages.status, 'delivering')))
      .returning()
      .prepare(),
    fail: db
      .update(messages)
      .set({ status: 'failed', error: sql`${p('reason')}` })
      .where(and(eq(messages.id, p('id')), inArray(messages.status, ['pending', 'delivering'])))
      .returning()
      .prepare(),
    byId: db
      .select()
      .from(messages)
      .where(eq(messages.id, p('id')))
      .prepare(),
    pendingReceivers: db.selectDistinct({ id: messages.receiverId }).from(messages).where(eq(messages.status, 'pending')).prepare(),
    pendingReceiversOfKind: db
      .selectDistinct({ id: messages.receiverId })
      .from(messages)
      .innerJoin(terminals, eq(terminals.id, messages.receiverId))
      .where(and(eq(messages.status, 'pending'), eq(terminals.kind, p('kind'))))
      .prepare(),
    countPending: db.select({ n: count() }).from(messages).where(byReceiver('pending')).prepare(),
    countUndelivered: db
      .select({ n: count() })
      .from(messages)
      .where(and(eq(messages.receiverId, p('receiverId')), inArray(messages.status, ['pending', 'delivering'])))
      .prepare(),
  };
}

/** The messages table on SQLite: every method runs synchronously when called (better-sqlite3) and returns a settled promise. */
export class SqliteMessages implements MessageRows {
  private readonly db: CaoDrizzle;
  private readonly q: ReturnType<typeof prepare>;
  private readonly insert: (batch: NewMessage[], now: number) => (MessageRow | CaoError)[];

  constructor(cao: CaoDb, terminalRows: SqliteTerminals) {
    this.db = cao.db;
    this.q = prepare(this.db);
    // Check each receiver and insert under one write lock: an ended receiver cannot slip in between. A refused
    // message refuses only itself, not the rest of its batch.
    const insert = cao.sqlite.transaction((batch: NewMessage[], now: number) =>
      batch.map((m) => {
        const receiver = terminalRows.getSync(m.receiverId);
        const refused = mailRefusal(m.receiverId, receiver);
        if (refused) return refused;
        return this.q.insertMessage.get({ ...m, now })!;
      }),
    );
    this.insert = (batch, now) => insert.immediate(batch, now);
  }

  async insertBatch(batch: NewMessage[], now: number): Promise<(MessageRow | CaoError)[]> {
    return this.insert(batch, now);
  }

  async claimNext(receiverId: string): Promise<MessageRow | null> {
    return this.q.claimNext.get({ receiverId }) ?? null;
  }

  async markDelivered(id: number, now: number): Promise<MessageRow | null> {
    return this.q.markDelivered.get({ id, now }) ?? null;
  }

  async releaseForRetry(id: number, error: string, maxAttempts: number): Promise<MessageRow | null> {
    return this.q.releaseForRetry.get({ id, error, maxAttempts }) ?? null;
  }

  async requeue(id: number): Promise<MessageRow | null> {
    return this.q.requeue.get({ id }) ?? null;
  }

  async fail(id: number, reason: string): Promise<MessageRow | null> {
    return this.q.fail.get({ id, reason }) ?? null;
  }

  async failFor(receiverId: string, from: MessageState[], reason: string): Promise<FailedMail[]> {
    return failMailIn(this.db, receiverId, from, reason);
  }

  async takeForExternal(receiverId: string, limit: number, now: number): Promise<MessageRow[]> {
    const n = Math.max(1, Math.floor(limit));
    const rows = this.db.transaction(
      (tx) => {
        const receiver = tx.select({ kind: terminals.kind }).from(terminals).where(eq(terminals.id, receiverId)).get();
        assertExternalInbox(receiverId, receiver);
        const oldest = tx
          .select({ id: messages.id })
          .from(messages)
          .where(and(eq(messages.receiverId, receiverId), eq(messages.status, 'pending')))
          .orderBy(asc(messages.id))
          .limit(n);
        return tx.update(messages).set({ status: 'delivered', deliveredAt: now }).where(inArray(messages.id, oldest)).returning().all();
      },
      { behavior: 'immediate' },
    );
    return rows.sort((a, b) => a.id - b.id);
  }

  async pendingReceivers(kind?: TerminalKind): Promise<string[]> {
    const rows = kind ? this.q.pendingReceiversOfKind.all({ kind }) : this.q.pendingReceivers.all();
    return rows.map((r) => r.id);
  }

  async get(id: number): Promise<MessageRow | undefined> {
    return this.q.byId.get({ id });
  }

  async list(opts: ListMessagesOptions = {}): Promise<MessageRow[]> {
    const where: SQL[] = [];
    if (opts.receiverId !== undefined) where.push(eq(messages.receiverId, opts.receiverId));
    if (opts.senderId !== undefined) where.push(eq(messages.senderId, opts.senderId));
    if (opts.status !== undefined) {
      where.push(Array.isArray(opts.status) ? inArray(messages.status, opts.status) : eq(messages.status, opts.status));
    }
    if (opts.afterId !== undefined) where.push(gt(messages.id, opts.afterId));
    return this.db
      .select()
      .from(messages)
      .where(and(...where))
      .orderBy(opts.order === 'desc' ? desc(messages.id) : asc(messages.id))
      .limit(Math.max(1, Math.floor(opts.limit ?? 100)))
      .all();
  }

  async countPending(receiverId: string): Promise<number> {
    return this.q.countPending.get({ receiverId })?.n ?? 0;
  }

  async countUndelivered(receiverId: string): Promise<number> {
    return this.q.countUndelivered.get({ receiverId })?.n ?? 0;
  }
}
