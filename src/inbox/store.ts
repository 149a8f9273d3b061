import { and, asc, count, desc, eq, gt, inArray, isNull, ne, notExists, or, sql, type SQL } from 'drizzle-orm';
import type { Bus, BusEvents, MessageState } from '../bus/bus.js';
import type { AgentStatus } from '../status/types.js';
import type { CaoDb, CaoDrizzle } from './db.js';
import { InboxError } from './errors.js';
import { isExternalName, isWorkerId } from './ids.js';
import { messages, terminals, type MessageKind, type MessageRow, type TerminalKind, type TerminalRow } from './schema.js';

/** Largest message body accepted, in UTF-8 bytes (64 KiB). */
export const MAX_MESSAGE_BYTES = 64 * 1024;

/** What a hub says about a new worker (or, rarely, an external row registered explicitly). */
export interface RegisterTerminalInput {
  id: string;
  kind?: TerminalKind; // default 'worker'
  provider?: string | null;
  profile?: string | null;
  creatorId?: string | null;
  workingDirectory?: string | null;
  pid?: number | null;
  hubId?: string | null;
  status?: AgentStatus; // default 'starting'
  createdAt?: number; // default now
}

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

export interface RecoveryResult {
  /** Worker ids that were still marked alive under a previous hub, now ended. */
  endedTerminals: string[];
  /** Process-group leaders of those workers (to kill leftovers); nulls left out. */
  pids: number[];
  /** Messages to those workers moved to `failed`. */
  failedMessages: number;
}

type StateEvent = BusEvents['message:state'];
type NewMessage = { senderId: string; receiverId: string; body: string; kind: MessageKind };

/** What every message must be, whatever its receiver: refused here, before anything is written. */
function checkMessage(senderId: string, receiverId: string, body: string): void {
  if (typeof senderId !== 'string' || senderId.trim() === '') {
    throw new InboxError('invalid_sender', 'sender id is empty');
  }
  if (senderId === receiverId) {
    throw new InboxError('self_send', `terminal ${senderId} cannot send a message to itself`);
  }
  checkBody(body);
}

/** What every message body must be: not empty, at most MAX_MESSAGE_BYTES (also checked before a worker is started for one). */
export function checkBody(body: string, what = 'message body'): void {
  if (typeof body !== 'string' || body.trim() === '') {
    throw new InboxError('empty_body', `${what} is empty (only whitespace)`);
  }
  const bytes = Buffer.byteLength(body, 'utf8');
  if (bytes > MAX_MESSAGE_BYTES) {
    throw new InboxError('body_too_large', `${what} is ${bytes} bytes; the limit is ${MAX_MESSAGE_BYTES} bytes (64 KiB)`);
  }
}

/**
 * The durable inbox and the terminal registry. Synchronous (better-sqlite3); every mutation is one
 * statement or one IMMEDIATE transaction, and every state change is announced on the bus after it
 * committed. Safe to use from several processes on one file: the message claim is a single
 * conditional UPDATE.
 */
export class InboxStore {
  readonly db: CaoDrizzle;
  /** Hot-path statements, compiled once (building a drizzle query costs far more than running it). */
  private readonly q: ReturnType<typeof prepareStatements>;
  private readonly insertBatch: (batch: NewMessage[]) => (MessageRow | InboxError)[];
  /** Messages waiting for the next group commit (see enqueueSoon). */
  private batch: { m: NewMessage; resolve: (row: MessageRow) => void; reject: (e: Error) => void }[] = [];

  constructor(
    cao: CaoDb,
    private readonly bus?: Bus,
  ) {
    this.db = cao.db;
    this.q = prepareStatements(this.db);
    // Check each receiver and insert under one write lock: an ended receiver cannot slip in between. A refused
    // message (checked before it writes anything) refuses only itself, not the rest of its batch.
    const insert = cao.sqlite.transaction((batch: NewMessage[]) =>
      batch.map((m) => {
        const receiver = this.q.terminalById.get({ id: m.receiverId });
        if (!receiver) return new InboxError('receiver_not_found', `receiver ${m.receiverId} does not exist`);
        if (receiver.endedAt !== null) return new InboxError('receiver_ended', `receiver ${m.receiverId} has ended (${receiver.status})`);
        return this.q.insertMessage.get({ ...m, now: Date.now() })!;
      }),
    );
    this.insertBatch = (batch) => insert.immediate(batch);
  }

  // ---------------------------------------------------------------- terminals

  /** Inserts a terminal row. Worker ids must be 8 lowercase hex chars. */
  registerTerminal(input: RegisterTerminalInput): TerminalRow {
    const kind = input.kind ?? 'worker';
    if (kind === 'worker' ? !isWorkerId(input.id) : !isExternalName(input.id)) {
      throw new InboxError(
        'invalid_terminal_id',
        kind === 'worker'
          ? `worker terminal id "${input.id}" is not 8 lowercase hex characters`
          : `external supervisor name "${input.id}" must be 1-64 characters of [A-Za-z0-9._:@-] and not look like a worker id`,
      );
    }
    const row = this.db
      .insert(terminals)
      .values({
        id: input.id,
        kind,
        provider: input.provider ?? null,
        profile: input.profile ?? null,
        creatorId: kind === 'external' ? null : (input.creatorId ?? null),
        workingDirectory: input.workingDirectory ?? null,
        pid: input.pid ?? null,
        hubId: input.hubId ?? null,
        status: input.status ?? (kind === 'external' ? 'idle' : 'starting'),
        createdAt: input.createdAt ?? Date.now(),
      })
      .onConflictDoNothing()
      .returning()
      .get();
    if (!row) throw new InboxError('terminal_exists', `a terminal with id "${input.id}" already exists`);
    this.emit('terminal:created', { terminalId: row.id });
    return row;
  }

  /**
   * The row of an external supervisor (an agent cao-mcp did not start), created on first use.
   * Idempotent; an ended external row is opened again (its mail stayed readable meanwhile).
   */
  ensureExternal(name: string): TerminalRow {
    if (!isExternalName(name)) {
      throw new InboxError(
        'invalid_terminal_id',
        `external supervisor name "${name}" must be 1-64 characters of [A-Za-z0-9._:@-] and not look like a worker id`,
      );
    }
    const { row, created } = this.db.transaction(
      (tx) => {
        const existing = tx.select().from(terminals).where(eq(terminals.id, name)).get();
        if (existing && existing.kind !== 'external') {
          throw new InboxError('name_taken', `"${name}" is a worker terminal id, not an external supervisor`);
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
        const inserted = tx.insert(terminals).values({ id: name, kind: 'external', status: 'idle', createdAt: Date.now() }).returning().get();
        return { row: inserted, created: true };
      },
      { behavior: 'immediate' },
    );
    if (created) this.emit('terminal:created', { terminalId: row.id });
    return row;
  }

  /** Records a live status (and optionally the last error). Ended rows are left alone. */
  updateTerminalStatus(id: string, status: AgentStatus, error?: string): boolean {
    const r = error === undefined ? this.q.setStatus.run({ id, status }) : this.q.setStatusError.run({ id, status, error });
    return r.changes > 0;
  }

  /**
   * Marks a terminal ended. For a worker, its pending mail can never be typed any more: it is failed
   * in the same transaction. A message being typed right now is left to its delivery loop.
   * Returns the ended row, or null when it did not exist or had already ended.
   */
  endTerminal(id: string, status: AgentStatus = 'exited', reason?: string): TerminalRow | null {
    const result = this.db.transaction(
      (tx) => {
        const row = tx
          .update(terminals)
          .set({ endedAt: Date.now(), status, ...(reason !== undefined ? { lastError: reason } : {}) })
          .where(and(eq(terminals.id, id), isNull(terminals.endedAt)))
          .returning()
          .get();
        if (!row) return null;
        const failed = row.kind === 'worker' ? this.failWhere(tx, eq(messages.receiverId, id), ['pending'], endedReason(id, status, reason)) : [];
        return { row, failed };
      },
      { behavior: 'immediate' },
    );
    if (!result) return null;
    this.emit('terminal:removed', { terminalId: id });
    this.emitStates(result.failed);
    return result.row;
  }

  getTerminal(id: string): TerminalRow | undefined {
    return this.q.terminalById.get({ id });
  }

  listTerminals(opts: { includeEnded?: boolean; kind?: TerminalKind; hubId?: string } = {}): TerminalRow[] {
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

  /**
   * At the start of a hub: workers still marked alive under another hub id lost their pty with it.
   * End them ("hub restarted") and fail their pending and in-flight mail (an in-flight message may
   * already have been typed, so it is never retried). External supervisors' mail is untouched.
   * `isHubAlive` lets a hub spare workers of another hub that is still running on the same file;
   * without it every other hub id counts as dead.
   */
  recoverAfterCrash(currentHubId: string, isHubAlive?: (hubId: string) => boolean): RecoveryResult {
    const now = Date.now();
    const { ended, failed } = this.db.transaction(
      (tx) => {
        const stale = tx
          .select({ id: terminals.id, pid: terminals.pid, hubId: terminals.hubId })
          .from(terminals)
          .where(and(eq(terminals.kind, 'worker'), isNull(terminals.endedAt), or(isNull(terminals.hubId), ne(terminals.hubId, currentHubId))))
          .all()
          .filter((t) => !(t.hubId !== null && isHubAlive?.(t.hubId)));
        const failed: StateEvent[] = [];
        for (const t of stale) {
          tx.update(terminals).set({ endedAt: now, status: 'exited', lastError: 'hub restarted' }).where(eq(terminals.id, t.id)).run();
          failed.push(...this.failWhere(tx, eq(messages.receiverId, t.id), ['pending', 'delivering'], `receiver ${t.id} died with the previous hub`));
        }
        return { ended: stale, failed };
      },
      { behavior: 'immediate' },
    );
    for (const t of ended) this.emit('terminal:removed', { terminalId: t.id });
    this.emitStates(failed);
    return {
      endedTerminals: ended.map((t) => t.id),
      pids: ended.flatMap((t) => (t.pid === null ? [] : [t.pid])),
      failedMessages: failed.length,
    };
  }

  // ----------------------------------------------------------------- messages

  /**
   * Stores a message for `receiverId` (state `pending`). Refuses, writing nothing: an empty sender,
   * sending to oneself, an empty body, a body over MAX_MESSAGE_BYTES, an unknown or ended receiver.
   */
  enqueue(senderId: string, receiverId: string, body: string, kind: MessageKind = 'message'): MessageRow {
    checkMessage(senderId, receiverId, body);
    const [row] = this.insertBatch([{ senderId, receiverId, body, kind }]);
    if (row instanceof InboxError) throw row;
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
    let results: (MessageRow | InboxError)[];
    try {
      results = this.insertBatch(batch.map((b) => b.m));
    } catch (e) {
      for (const b of batch) b.reject(e as Error);
      return;
    }
    this.announceQueued(results.filter((r): r is MessageRow => !(r instanceof InboxError)));
    results.forEach((r, i) => (r instanceof InboxError ? batch[i]!.reject(r) : batch[i]!.resolve(r)));
  }

  private announceQueued(rows: MessageRow[]): void {
    for (const row of rows) {
      this.emit('message:queued', { messageId: row.id, senderId: row.senderId, receiverId: row.receiverId });
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
      this.emitStates([{ messageId: row.id, receiverId: row.receiverId, state: row.status, error: row.error ?? undefined }]);
    }
    return row ?? null;
  }

  /** pending | delivering → failed with the reason. Null if it was already delivered or failed. */
  fail(id: number, reason: string): MessageRow | null {
    const row = this.q.fail.get({ id, reason });
    if (row) this.emitStates([{ messageId: row.id, receiverId: row.receiverId, state: 'failed', error: reason }]);
    return row ?? null;
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
        const receiver = tx.select({ kind: terminals.kind }).from(terminals).where(eq(terminals.id, receiverId)).get();
        if (!receiver) throw new InboxError('receiver_not_found', `receiver ${receiverId} does not exist`);
        if (receiver.kind !== 'external') {
          throw new InboxError('not_external', `${receiverId} is a worker terminal: its messages are typed into it, not read from the inbox`);
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

  // ------------------------------------------------------------------ helpers

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
    for (const e of events) this.emit('message:state', e);
  }

  /** Announces a change that has already committed; a subscriber's exception must not undo the caller's success. */
  private emit<K extends keyof BusEvents>(type: K, payload: BusEvents[K]): void {
    if (!this.bus) return;
    try {
      this.bus.emit(type, payload);
    } catch (err) {
      process.stderr.write(`cao-mcp inbox: a ${String(type)} subscriber threw: ${String(err)}\n`);
    }
  }
}

function endedReason(id: string, status: AgentStatus, reason?: string): string {
  return `receiver ${id} ended (${status})${reason ? `: ${reason}` : ''}`;
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
    terminalById: db
      .select()
      .from(terminals)
      .where(eq(terminals.id, p('id')))
      .prepare(),
    // status changes come with every turn of every agent
    setStatus: db
      .update(terminals)
      .set({ status: sql`${p('status')}` })
      .where(and(eq(terminals.id, p('id')), isNull(terminals.endedAt)))
      .prepare(),
    setStatusError: db
      .update(terminals)
      .set({ status: sql`${p('status')}`, lastError: sql`${p('error')}` })
      .where(and(eq(terminals.id, p('id')), isNull(terminals.endedAt)))
      .prepare(),
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
  };
}
