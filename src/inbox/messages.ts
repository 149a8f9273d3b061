import { announce, type Bus, type BusEvents } from '../bus/bus.js';
import type { MessageKind, MessageRow, TerminalKind } from '../db/schema.js';
import type { TerminalRegistry } from '../registry/terminals.js';
import type { FailedMail, ListMessagesOptions, MessageRows, NewMessage } from '../store/types.js';
import { CaoError } from '../util/errors.js';

export type { ListMessagesOptions } from '../store/types.js';

/** Largest message body accepted, in UTF-8 bytes (64 KiB). */
export const MAX_MESSAGE_BYTES = 64 * 1024;

type StateEvent = BusEvents['message:state'];

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
 * conditional UPDATE (delivering) before it is typed, and ends delivered or failed. Over the store (async); every
 * state change is announced on the bus after it committed. Safe to use from several processes on one database.
 * Receivers are the registry's terminals: a message to an unknown or ended one is refused.
 */
export class MessageQueue {
  private readonly rows: MessageRows;
  private readonly bus: Bus | undefined;
  /** Messages waiting for the next group commit (see enqueueSoon). */
  private batch: { m: NewMessage; resolve: (row: MessageRow) => void; reject: (e: Error) => void }[] = [];
  /** The group commits under way, in order (flush() waits for them). */
  private committing: Promise<void> = Promise.resolve();
  /** A commit of what `batch` holds is queued behind the one under way. */
  private cutWaiting = false;

  constructor(readonly registry: TerminalRegistry) {
    this.rows = registry.store.messages;
    this.bus = registry.bus;
  }

  // ----------------------------------------------------------------- messages

  /**
   * Stores a message for `receiverId` (state `pending`). Refuses, writing nothing: an empty sender,
   * sending to oneself, an empty body, a body over MAX_MESSAGE_BYTES, an unknown or ended receiver.
   */
  async enqueue(senderId: string, receiverId: string, body: string, kind: MessageKind = 'message'): Promise<MessageRow> {
    checkMessage(senderId, receiverId, body);
    const [row] = await this.rows.insertBatch([{ senderId, receiverId, body, kind }], Date.now());
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
      if (this.batch.push({ m: { senderId, receiverId, body, kind }, resolve, reject }) === 1) setImmediate(() => void this.flush());
    });
  }

  /**
   * Commits the messages waiting for a group commit; resolves once they (and every group commit before them) are
   * committed and answered. The hub awaits this before it closes the store. Never rejects (a failed batch rejects
   * its messages' promises).
   */
  flush(): Promise<void> {
    // The batch is cut when the commit before it has finished, not now: everything handed in meanwhile goes into one
    // transaction (on PostgreSQL a commit is a few round trips and a WAL flush; one per message would cap the intake).
    if (this.batch.length && !this.cutWaiting) {
      this.cutWaiting = true;
      this.committing = this.committing.then(() => {
        this.cutWaiting = false;
        const batch = this.batch;
        this.batch = [];
        return batch.length ? this.commit(batch) : undefined;
      });
    }
    return this.committing;
  }

  private async commit(batch: { m: NewMessage; resolve: (row: MessageRow) => void; reject: (e: Error) => void }[]): Promise<void> {
    let results: (MessageRow | CaoError)[];
    try {
      results = await this.rows.insertBatch(
        batch.map((b) => b.m),
        Date.now(),
      );
    } catch (e) {
      for (const b of batch) b.reject(e as Error);
      return;
    }
    this.announceQueued(results.filter((r): r is MessageRow => !(r instanceof CaoError)));
    results.forEach((r, i) => (r instanceof CaoError ? batch[i]!.reject(r) : batch[i]!.resolve(r)));
  }

  private announceQueued(rows: MessageRow[]): void {
    for (const row of rows) {
      // what the journal records of it goes with the event (no read of it back, on PostgreSQL a round trip each)
      announce(this.bus, 'message:queued', {
        messageId: row.id,
        senderId: row.senderId,
        receiverId: row.receiverId,
        kind: row.kind,
        bytes: Buffer.byteLength(row.body, 'utf8'),
      });
      this.emitStates([{ messageId: row.id, receiverId: row.receiverId, state: 'pending' }]);
    }
  }

  /**
   * Claims the oldest pending message of `receiverId` (pending → delivering), unless one of its
   * messages is already in flight: per-receiver order, one at a time. One conditional UPDATE, so two
   * callers (or two processes) can never claim the same message.
   */
  async claimNext(receiverId: string): Promise<MessageRow | null> {
    const row = await this.rows.claimNext(receiverId);
    if (!row) return null;
    this.emitStates([{ messageId: row.id, receiverId, state: 'delivering' }]);
    return row;
  }

  /** delivering → delivered. Null if the message was not in flight (e.g. failed meanwhile). */
  async markDelivered(id: number): Promise<MessageRow | null> {
    const row = await this.rows.markDelivered(id, Date.now());
    if (row) this.emitStates([{ messageId: row.id, receiverId: row.receiverId, state: 'delivered' }]);
    return row;
  }

  /**
   * Typing failed: delivering → pending again with attempts+1, or → failed once `maxAttempts`
   * attempts have failed. Null if the message was not in flight.
   */
  async releaseForRetry(id: number, error: string, maxAttempts = 3): Promise<MessageRow | null> {
    const row = await this.rows.releaseForRetry(id, error, maxAttempts);
    if (row) {
      const requeued = row.status === 'pending' ? ('retry' as const) : undefined;
      this.emitStates([{ messageId: row.id, receiverId: row.receiverId, state: row.status, error: row.error ?? undefined, requeued }]);
    }
    return row;
  }

  /**
   * delivering → pending, with no attempt counted, when nothing of it reached the pty: the hub that was typing it died
   * first (re-adoption found no write of it: `adoption`), or the claim's answer was lost (`claim`). Null if it was
   * not in flight.
   */
  async requeue(id: number, why: 'adoption' | 'claim' = 'adoption'): Promise<MessageRow | null> {
    const row = await this.rows.requeue(id);
    if (row) this.emitStates([{ messageId: row.id, receiverId: row.receiverId, state: 'pending', requeued: why }]);
    return row;
  }

  /** Messages being typed (claimed, not yet marked): what a hub that died left in flight, per receiver. */
  inFlightFor(receiverId: string): Promise<MessageRow[]> {
    return this.listMessages({ receiverId, status: 'delivering' });
  }

  /** pending | delivering → failed with the reason. Null if it was already delivered or failed. */
  async fail(id: number, reason: string): Promise<MessageRow | null> {
    const row = await this.rows.fail(id, reason);
    if (row) this.emitStates([{ messageId: row.id, receiverId: row.receiverId, state: 'failed', error: reason }]);
    return row;
  }

  /** Fails the messages being typed into a receiver that is gone (they may have been partly typed). Returns how many. */
  async failInFlight(receiverId: string, reason: string): Promise<number> {
    return this.failed(await this.rows.failFor(receiverId, ['delivering'], reason));
  }

  /** Fails every pending message of a receiver (it can no longer take input). Returns how many. */
  async failPendingFor(receiverId: string, reason: string): Promise<number> {
    return this.failed(await this.rows.failFor(receiverId, ['pending'], reason));
  }

  /**
   * How an external supervisor reads its inbox: up to `limit` pending messages, oldest first, are
   * handed over and marked delivered in the same transaction (read once).
   */
  async takeForExternal(receiverId: string, limit = 50): Promise<MessageRow[]> {
    const rows = await this.rows.takeForExternal(receiverId, Math.max(1, Math.floor(limit)), Date.now());
    this.emitStates(rows.map((r) => ({ messageId: r.id, receiverId, state: 'delivered' as const })));
    return rows;
  }

  /**
   * Receivers with at least one pending message (one scan of a small partial index). With `kind`,
   * only receivers of that kind.
   */
  pendingReceivers(opts: { kind?: TerminalKind } = {}): Promise<string[]> {
    return this.rows.pendingReceivers(opts.kind);
  }

  getMessage(id: number): Promise<MessageRow | undefined> {
    return this.rows.get(id);
  }

  listMessages(opts: ListMessagesOptions = {}): Promise<MessageRow[]> {
    return this.rows.list(opts);
  }

  countPending(receiverId: string): Promise<number> {
    return this.rows.countPending(receiverId);
  }

  /** Messages of a receiver not typed yet: pending, or being typed now. */
  countUndelivered(receiverId: string): Promise<number> {
    return this.rows.countUndelivered(receiverId);
  }

  // ------------------------------------------------------------------ helpers

  private failed(failed: FailedMail[]): number {
    this.emitStates(failed.map((f) => ({ messageId: f.messageId, receiverId: f.receiverId, state: 'failed' as const, error: f.error })));
    return failed.length;
  }

  private emitStates(events: StateEvent[]): void {
    for (const e of events) announce(this.bus, 'message:state', e);
  }
}
