import { and, asc, count, desc, eq, gt, inArray, notExists, sql, type SQL } from 'drizzle-orm';
import { announce, type Bus, type BusEvents, type MessageState } from '../bus/bus.js';
import type { CaoDrizzle } from '../db/db.js';
import { messages, terminals, type MessageKind, type MessageRow, type TerminalKind } from '../db/schema.js';
import type { CaoTx, MailOfEnded, TerminalRegistry } from '../registry/terminals.js';
import { CaoError } from '../util/errors.js';

/** Largest message body accepted, in UTF-8 bytes (64 KiB). */
export const MAX_MESSAGE_BYTES = 64 * 1024;

export interface ListMessagesOptions {
  receiverId?: string;
  senderId?: string;
  status?: MessageState | MessageState[];
  /** Only messages with an id greater than this (paging). */
  afterId?: number;
  /** Default 100. */
  limit?: number;
  /** By id; default 'asc' (oldest first). */
  order?: 'asc' | 'desc';
}

type StateEvent = BusEvents['message:state'];
type NewMessage = { senderId: string; receiverId: string; body: string; kind: MessageKind };

/** What every message must be, whatever its receiver: refused here, before anything is written. */
function checkMessage(senderId: string, receiverId: string, body: string): void {
  if (typeof senderId !== 'string' || senderId.trim() === '') {
    throw new CaoError('invalid_sender', 'sender id is empty');
  }
  if (senderId === receiverId) {
    throw new CaoError('self_send', `terminal ${senderId} cannot send a message to itself`);
  }
  checkBody(body);
}

/** What every message body must be: not empty, at most MAX_MESSAGE_BYTES (also checked before a worker is started for one). */
export function checkBody(body: string, what = 'message body'): void {
  if (typeof body !== 'string' || body.trim() === '') {
    throw new CaoError('empty_body', `${what} is empty (only whitespace)`);
  }
  const bytes = Buffer.byteLength(body, 'utf8');
  if (bytes > MAX_MESSAGE_BYTES) {
    throw new CaoError('body_too_large', `${what} is ${bytes} bytes; the limit is ${MAX_MESSAGE_BYTES} bytes (64 KiB)`);
  }
}

/**
 * The durable inbox: every message is written (pending) before anything else happens, then claimed by one
 * conditional UPDATE (delivering) before it is typed, and ends delivered or failed. Synchronous
 * (better-sqlite3); every state change is announced on the bus after it committed. Safe to use from several
 * processes on one file. Receivers are the registry's terminals: a message to an unknown or ended one is refused.
 */
export class MessageQueue implements MailOfEnded {
  readonly db: CaoDrizzle;
  private readonly bus: Bus | undefined;
  /** Hot-path statements, compiled once (building a drizzle query costs far more than running it). */
  private readonly q: ReturnType<typeof prepareStatements>;
  private readonly insertBatch: (batch: NewMessage[]) => (MessageRow | CaoError)[];
  /** Messages waiting for the next group commit (see enqueueSoon). */
  private batch: { m: NewMessage; resolve: (row: MessageRow) => void; reject: (e: Error) => void }[] = [];

  constructor(readonly registry: TerminalRegistry) {
    this.db = registry.db;
    this.bus = registry.bus;
    this.q = prepareStatements(this.db);
    // Check each receiver and insert under one write lock: an ended receiver cannot slip in between. A refused
    // message (checked before it writes anything) refuses only itself, not the rest of its batch.
    const insert = registry.cao.sqlite.transaction((batch: NewMessage[]) =>
      batch.map((m) => {
        const receiver = registry.getTerminal(m.receiverId);
        if (!receiver) return new CaoError('receiver_not_found', `receiver ${m.receiverId} does not exist`);
        if (receiver.endedAt !== null) return new CaoError('receiver_ended', `receiver ${m.receiverId} has ended (${receiver.status})`);
        return this.q.insertMessage.get({ ...m, now: Date.now() })!;
      }),
    );
    this.insertBatch = (batch) => insert.immediate(batch);
    registry.attachMail(this);
  }

  // ----------------------------------------------------------------- messages

  /**
   * Stores a message for `receiverId` (state `pending`). Refuses, writing nothing: an empty sender,
   * sending to oneself, an empty body, a body over MAX_MESSAGE_BYTES, an unknown or ended receiver.
   */
  enqueue(senderId: string, receiverId: string, body: string, kind: MessageKind = 'message'): MessageRow {
    checkMessage(senderId, receiverId, body);
    const [row] = this.insertBatch([{ senderId, receiverId, body, kind }]);
    if (row instanceof CaoError) throw row;
    this.announceQueued([row!]);
    return row!;
  }

  /**
   * enqueue() with group commit: messages handed in during one turn of the event loop are stored in one
   * transaction at the end of it, so a flood of sends pays for one commit instead of one each. Resolves
   * once the message is committed (never before), with the same refusals as enqueue().
   */
  enqueueSoon(senderId: string, receiverId: string, body: string, kind: MessageKind = 'message'): Promise<MessageRow> {
    try {
      checkMessage(senderId, receiverId, body);
    } catch (e) {
      return Promise.reject(e as Error);
    }
    return new Promise((resolve, reject) => {
      if (this.batch.push({ m: { senderId, receiverId, body, kind }, resolve, reject }) === 1) setImmediate(() => this.flush());
    });
  }

  /** Commits the messages waiting for a group commit (the hub calls this before it closes the database). */
  flush(): void {
    const batch = this.batch;
    if (!batch.length) return;
    this.batch = [];
    let results: (MessageRow | CaoError)[];
    try {
      results = this.insertBatch(batch.map((b) => b.m));
    } catch (e) {
      for (const b of batch) b.reject(e as Error);
      return;
    }
    this.announceQueued(results.filter((r): r is MessageRow => !(r instanceof CaoError)));
    results.forEach((r, i) => (r instanceof CaoError ? batch[i]!.reject(r) : batch[i]!.resolve(r)));
  }

  private announceQueued(rows: MessageRow[]): void {
    for (const row of rows) {
      announce(this.bus, 'message:queued', { messageId: row.id, senderId: row.senderId, receiverId: row.receiverId });
      this.emitStates([{ messageId: row.id, receiverId: row.receiverId, state: 'pending' }]);
    }
  }

  /**
   * Claims the oldest pending message of `receiverId` (pending → delivering), unless one of its
   * messages is already in flight: per-receiver order, one at a time. One conditional UPDATE, so two
   * callers (or two processes) can never claim the same message.
   */
  claimNext(receiverId: string): MessageRow | null {
    const row = this.q.claimNext.get({ receiverId });
    if (!row) return null;
    this.emitStates([{ messageId: row.id, receiverId, state: 'delivering' }]);
    return row;
  }

  /** delivering → delivered. Null if the message was not in flight (e.g. failed meanwhile). */
  markDelivered(id: number): MessageRow | null {
    const row = this.q.markDelivered.get({ id, now: Date.now() });
    if (row) this.emitStates([{ messageId: row.id, receiverId: row.receiverId, state: 'delivered' }]);
    return row ?? null;
  }

  /**
   * Typing failed: delivering → pending again with attempts+1, or → failed once `maxAttempts`
   * attempts have failed. Null if the message was not in flight.
   */
  releaseForRetry(id: number, error: string, maxAttempts = 3): MessageRow | null {
    const row = this.q.releaseForRetry.get({ id, error, maxAttempts });
    if (row) {
      const requeued = row.status === 'pending' ? ('retry' as const) : undefined;
      this.emitStates([{ messageId: row.id, receiverId: row.receiverId, state: row.status, error: row.error ?? undefined, requeued }]);
    }
    return row ?? null;
  }

  /**
   * delivering → pending, with no attempt counted: the hub that was typing it died before any of it reached the
   * pty (re-adoption found no write of it). Null if it was not in flight.
   */
  requeue(id: number): MessageRow | null {
    const row = this.db
      .update(messages)
      .set({ status: 'pending' })
      .where(and(eq(messages.id, id), eq(messages.status, 'delivering')))
      .returning()
      .get();
    if (row) this.emitStates([{ messageId: row.id, receiverId: row.receiverId, state: 'pending', requeued: 'adoption' }]);
    return row ?? null;
  }

  /** Messages being typed (claimed, not yet marked): what a hub that died left in flight, per receiver. */
  inFlightFor(receiverId: string): MessageRow[] {
    return this.listMessages({ receiverId, status: 'delivering' });
  }

  /** pending | delivering → failed with the reason. Null if it was already delivered or failed. */
  fail(id: number, reason: string): MessageRow | null {
    const row = this.q.fail.get({ id, reason });
    if (row) this.emitStates([{ messageId: row.id, receiverId: row.receiverId, state: 'failed', error: reason }]);
    return row ?? null;
  }

  /** Fails the messages being typed into a receiver that is gone (they may have been partly typed). Returns how many. */
  failInFlight(receiverId: string, reason: string): number {
    const failed = this.failWhere(this.db, eq(messages.receiverId, receiverId), ['delivering'], reason);
    this.emitStates(failed);
    return failed.length;
  }

  /** Fails every pending message of a receiver (it can no longer take input). Returns how many. */
  failPendingFor(receiverId: string, reason: string): number {
    const failed = this.failWhere(this.db, eq(messages.receiverId, receiverId), ['pending'], reason);
    this.emitStates(failed);
    return failed.length;
  }

  /**
   * How an external supervisor reads its inbox: up to `limit` pending messages, oldest first, are
   * handed over and marked delivered in the same statement (read once).
   */
  takeForExternal(receiverId: string, limit = 50): MessageRow[] {
    const n = Math.max(1, Math.floor(limit));
    const rows = this.db.transaction(
      (tx) => {
        const receiver = this.registry.getTerminal(receiverId);
        if (!receiver) throw new CaoError('receiver_not_found', `receiver ${receiverId} does not exist`);
        if (receiver.kind !== 'external') {
          throw new CaoError('not_external', `${receiverId} is a worker terminal: its messages are typed into it, not read from the inbox`);
        }
        const oldest = tx
          .select({ id: messages.id })
          .from(messages)
          .where(and(eq(messages.receiverId, receiverId), eq(messages.status, 'pending')))
          .orderBy(asc(messages.id))
          .limit(n);
        return tx.update(messages).set({ status: 'delivered', deliveredAt: Date.now() }).where(inArray(messages.id, oldest)).returning().all();
      },
      { behavior: 'immediate' },
    );
    rows.sort((a, b) => a.id - b.id);
    this.emitStates(rows.map((r) => ({ messageId: r.id, receiverId, state: 'delivered' as const })));
    return rows;
  }

  /**
   * Receivers with at least one pending message (one scan of a small partial index). With `kind`,
   * only receivers of that kind.
   */
  pendingReceivers(opts: { kind?: TerminalKind } = {}): string[] {
    const rows = opts.kind ? this.q.pendingReceiversOfKind.all({ kind: opts.kind }) : this.q.pendingReceivers.all();
    return rows.map((r) => r.id);
  }

  getMessage(id: number): MessageRow | undefined {
    return this.db.select().from(messages).where(eq(messages.id, id)).get();
  }

  listMessages(opts: ListMessagesOptions = {}): MessageRow[] {
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

  countPending(receiverId: string): number {
    return this.q.countPending.get({ receiverId })?.n ?? 0;
  }

  /** Messages of a receiver not typed yet: pending, or being typed now. */
  countUndelivered(receiverId: string): number {
    return this.q.countUndelivered.get({ receiverId })?.n ?? 0;
  }

  // ------------------------------------------------------------------ helpers

  /** MailOfEnded: a terminal is ending (registry transaction); its pending (and, after a crash, in-flight) mail fails. */
  failInTx(tx: CaoTx, receiverId: string, inFlightToo: boolean, reason: string): { failed: number; announce: () => void } {
    const failed = this.failWhere(tx, eq(messages.receiverId, receiverId), inFlightToo ? ['pending', 'delivering'] : ['pending'], reason);
    return { failed: failed.length, announce: () => this.emitStates(failed) };
  }

  private failWhere(tx: Pick<CaoDrizzle, 'update'>, where: SQL, from: MessageState[], reason: string): StateEvent[] {
    return tx
      .update(messages)
      .set({ status: 'failed', error: reason })
      .where(and(where, inArray(messages.status, from)))
      .returning({ id: messages.id, receiverId: messages.receiverId })
      .all()
      .sort((a, b) => a.id - b.id)
      .map((r) => ({ messageId: r.id, receiverId: r.receiverId, state: 'failed' as const, error: reason }));
  }

  private emitStates(events: StateEvent[]): void {
    for (const e of events) announce(this.bus, 'message:state', e);
  }
}

const p = sql.placeholder;

function prepareStatements(db: CaoDrizzle) {
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
    fail: db
      .update(messages)
      .set({ status: 'failed', error: sql`${p('reason')}` })
      .where(and(eq(messages.id, p('id')), inArray(messages.status, ['pending', 'delivering'])))
      .returning()
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
