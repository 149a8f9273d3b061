import type { Bus, BusEvents } from '../bus/bus.js';
import type { NewJournalRow, TerminalRow } from '../db/schema.js';
import type { RetentionSettings, Store } from '../store/types.js';
import type { JournalDetail, JournalEventType } from './events.js';
import { logger } from '../util/log.js';

export interface JournalOptions {
  /** A batch is written this long after its first event at the latest (default 50 ms). */
  flushMs?: number;
  /** …or as soon as it holds this many events (default 200), in the next turn of the event loop. */
  maxBatch?: number;
  /** Events kept while writes fail; beyond, the oldest are dropped (default 50,000). */
  maxBuffered?: number;
}

/** What the journal has done: batches written (one transaction each), rows written, rows dropped. */
export interface JournalStats {
  batches: number;
  rows: number;
  dropped: number;
}

/** An event as the bus gave it, waiting for its batch: its run (and a few details) are looked up when it is written. */
interface Pending {
  at: number;
  type: JournalEventType;
  terminalId: string | null;
  callerId: string | null;
  detail: Record<string, unknown>;
  /** Known already (a new terminal's, read when it was announced); else looked up at write time. */
  runId?: string | null;
  /** A terminal registered or taken: its row as read when it was announced (the row says which of the two). */
  created?: Promise<TerminalRow | undefined>;
}

const HOUR_MS = 3_600_000;
/** Lookups kept between batches (terminal → run, message → sender); cleared when they grow past this. */
const CACHE_MAX = 10_000;

/**
 * The run journal's one consumer on the bus. A handler only appends the event to a buffer (the publisher never waits
 * for SQLite, and never sees an exception from here); the buffer is written in one transaction per batch, at most
 * `flushMs` after its first event or once it holds `maxBatch`, and on `close`. Each row's run is looked up at write
 * time: a message's run is its sender's when the sender is a worker in one, else its receiver's.
 */
export class Journal {
  readonly stats: JournalStats = { batches: 0, rows: 0, dropped: 0 };
  private buffer: Pending[] = [];
  private timer: NodeJS.Timeout | null = null;
  private immediate: NodeJS.Immediate | null = null;
  private retention: NodeJS.Timeout | null = null;
  private readonly offs: (() => void)[] = [];
  private readonly runs = new Map<string, string | null>();
  private readonly senders = new Map<number, string>();
  private readonly spares = new Set<string>();
  private readonly flushMs: number;
  private readonly maxBatch: number;
  private readonly maxBuffered: number;
  private closed: Promise<void> | null = null;
  private failures = 0;
  /** The batches being written, in order: a flush waits for the ones before it. */
  private writing: Promise<void> = Promise.resolve();

  constructor(
    private readonly store: Store,
    private readonly bus: Bus,
    opts: JournalOptions = {},
  ) {
    this.flushMs = opts.flushMs ?? 50;
    this.maxBatch = opts.maxBatch ?? 200;
    this.maxBuffered = opts.maxBuffered ?? 50_000;
    this.subscribe();
  }

  private on<K extends keyof BusEvents>(type: K, fn: (e: BusEvents[K]) => void): void {
    const guarded = (e: BusEvents[K]) => {
      try {
        fn(e);
      } catch (err) {
        logger('journal').error({ err, event: String(type) }, 'a journal handler threw');
      }
    };
    this.bus.on(type, guarded);
    this.offs.push(() => this.bus.off(type, guarded));
  }

  private subscribe(): void {
    this.on('hub:started', (e) => this.add('hub.started', null, null, { ...e }));
    this.on('hub:recovered', (e) => this.add('hub.recovered', null, null, { ...e }));
    this.on('hub:stopped', (e) => this.add('hub.stopped', null, null, { ...e }));
    this.on('terminal:created', (e) => this.created(e.terminalId));
    this.on('terminal:removed', (e) => this.add('terminal.ended', e.terminalId, null, {}));
    this.on('status', (e) => {
      // the first status after start-up (the detector may need a frame more than the `started` mark)
      if (e.previous === 'starting' && e.status !== 'exited' && e.status !== 'error')
        this.add('terminal.ready', e.terminalId, null, { status: e.status } satisfies JournalDetail<'terminal.ready'>, e.at);
      else if (e.status === 'waiting_user_answer')
        this.add('question.raised', e.terminalId, null, { previous: e.previous, cause: e.cause } satisfies JournalDetail<'question.raised'>, e.at);
      else
        this.add(
          'status.changed',
          e.terminalId,
          null,
          { status: e.status, previous: e.previous, cause: e.cause } satisfies JournalDetail<'status.changed'>,
          e.at,
        );
    });
    this.on('input', (e) => {
      // A person's keys come one write each: consecutive ones of a terminal are one row.
      const last = this.buffer[this.buffer.length - 1];
      if (e.kind === 'user' && last?.type === 'input.submitted' && last.terminalId === e.terminalId && last.detail.kind === 'user') {
        last.detail.bytes = (last.detail.bytes as number) + e.bytes;
        last.detail.writes = (last.detail.writes as number) + 1;
        return;
      }
      this.add('input.submitted', e.terminalId, null, { kind: e.kind, bytes: e.bytes, writes: 1 } satisfies JournalDetail<'input.submitted'>);
    });
    this.on('message:queued', (e) =>
      this.add('message.queued', e.receiverId, e.senderId, { messageId: e.messageId, ...(e.kind ? { kind: e.kind, bytes: e.bytes ?? null } : {}) }),
    );
    this.on('message:state', (e) => {
      if (e.state === 'pending') {
        // a new message's `pending` is said by message.queued; only a return to the queue is an event of its own
        if (e.requeued)
          this.add('message.requeued', e.receiverId, null, {
            messageId: e.messageId,
            why: e.requeued,
            error: e.error ?? null,
          } satisfies JournalDetail<'message.requeued'>);
        return;
      }
      const type = e.state === 'delivering' ? 'message.claimed' : e.state === 'delivered' ? 'message.delivered' : 'message.failed';
      this.add(type, e.receiverId, null, type === 'message.failed' ? { messageId: e.messageId, error: e.error ?? null } : { messageId: e.messageId });
    });
    const delegation = (e: BusEvents['handoff:started']) => ({
      profile: e.profile,
      provider: e.provider,
      bytes: e.bytes,
      warm: e.warm,
      worktree: e.worktree,
    });
    this.on('handoff:started', (e) => this.add('handoff.started', e.terminalId, e.callerId, delegation(e)));
    this.on('assign:started', (e) => this.add('assign.started', e.terminalId, e.callerId, delegation(e)));
    this.on('handoff:ended', (e) => this.add('handoff.ended', e.terminalId, e.callerId, { outcome: e.outcome, durationMs: e.durationMs }));
    this.on('assign:ended', (e) => this.add('assign.ended', e.terminalId, e.callerId, { outcome: e.outcome, durationMs: e.durationMs }));
    this.on('question:answered', (e) => this.add('question.answered', e.terminalId, e.callerId, { kind: e.kind, bytes: e.bytes }));
  }

  /**
   * A terminal was registered, or a warm spare taken: its row is read now (one read by key, once per terminal), since
   * a spare's row changes when it is taken; what it says is looked at when its batch is written, in order.
   */
  private created(id: string): void {
    if (this.closed) return;
    const row = this.store.terminals.get(id).catch(() => undefined);
    this.add('terminal.created', id, null, {}, Date.now(), undefined, row);
  }

  /** The row of a `created` event: terminal.created, or terminal.taken for a spare taken by a caller. */
  private async createdRow(p: Pending, t: TerminalRow | undefined): Promise<NewJournalRow> {
    const id = p.terminalId!;
    this.runs.set(id, t?.runId ?? null);
    const provider = t?.provider ?? null;
    const profile = t?.profile ?? null;
    const runId = t?.runId ?? null;
    if (this.spares.delete(id)) {
      const detail = { provider, profile } satisfies JournalDetail<'terminal.taken'>;
      return { at: p.at, type: 'terminal.taken', runId, terminalId: id, callerId: t?.creatorId ?? null, detail: JSON.stringify(detail) };
    }
    const spare = t?.kind === 'worker' && t.creatorId === null;
    if (spare) this.spares.add(id);
    const detail: JournalDetail<'terminal.created'> = { kind: t?.kind ?? null, provider, profile, spare };
    return { at: p.at, type: 'terminal.created', runId, terminalId: id, callerId: t?.creatorId ?? null, detail: JSON.stringify(detail) };
  }

  /** Buffers one event; the batch is written later (see the class). */
  private add(
    type: JournalEventType,
    terminalId: string | null,
    callerId: string | null,
    detail: Record<string, unknown>,
    at = Date.now(),
    runId?: string | null,
    created?: Promise<TerminalRow | undefined>,
  ): void {
    if (this.closed) return;
    if (this.buffer.length >= this.maxBuffered) {
      this.buffer.shift();
      this.stats.dropped++;
    }
    this.buffer.push({ at, type, terminalId, callerId, detail, runId, created });
    if (this.buffer.length >= this.maxBatch) {
      this.immediate ??= setImmediate(() => void this.flush());
    } else if (!this.timer) {
      this.timer = setTimeout(() => void this.flush(), this.flushMs);
      this.timer.unref();
    }
  }

  /**
   * Writes everything buffered, one transaction per batch of `maxBatch`, after the batches of earlier flushes.
   * Never rejects (a failed batch is dropped and logged); once the store is closed, what is left is dropped.
   */
  flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    if (this.immediate) clearImmediate(this.immediate);
    this.timer = null;
    this.immediate = null;
    const pending = this.buffer;
    if (pending.length) {
      this.buffer = [];
      this.writing = this.writing.then(() => this.write(pending));
    }
    return this.writing;
  }

  private async write(pending: Pending[]): Promise<void> {
    for (let i = 0; i < pending.length; i += this.maxBatch) {
      const batch = pending.slice(i, i + this.maxBatch);
      if (!this.store.isOpen()) {
        this.stats.dropped += pending.length - i;
        break;
      }
      try {
        const rows: NewJournalRow[] = [];
        for (const p of batch) rows.push(await this.row(p));
        await this.store.journal.append(rows);
        this.stats.batches++;
        this.stats.rows += batch.length;
      } catch (err) {
        this.stats.dropped += batch.length;
        // said once in a while, not once per batch of a database that stays broken
        if (this.failures++ % 100 === 0) logger('journal').error({ err, dropped: batch.length }, `journal: ${batch.length} event(s) not written`);
      }
    }
    if (this.runs.size > CACHE_MAX) this.runs.clear();
    if (this.senders.size > CACHE_MAX) this.senders.clear();
  }

  /** Applies the retention now and then every hour (until close). Resolves once the first one is done (never rejects). */
  startRetention(settings: RetentionSettings): Promise<void> {
    if (this.closed) return Promise.resolve();
    const run = async () => {
      try {
        await this.flush();
        if (this.closed || !this.store.isOpen()) return;
        await this.store.journal.applyRetention(settings, Date.now());
      } catch (err) {
        logger('journal').error({ err }, 'journal retention failed');
      }
    };
    this.retention = setInterval(() => void run(), HOUR_MS);
    this.retention.unref();
    return run();
  }

  /** Stops listening and writes what is buffered; resolves once the last batch is written (the hub awaits this before it closes the store). */
  close(): Promise<void> {
    if (!this.closed) {
      for (const off of this.offs) off();
      if (this.retention) clearInterval(this.retention);
      const last = this.flush();
      this.closed = last;
    }
    return this.closed;
  }

  /** The row of a buffered event, its run (and what a terminal's or message's row says) looked up now. */
  private async row(p: Pending): Promise<NewJournalRow> {
    if (p.created) return this.createdRow(p, await p.created);
    const { type, terminalId } = p;
    let { callerId, detail } = p;
    if (p.runId !== undefined) return { at: p.at, type, runId: p.runId, terminalId, callerId, detail: JSON.stringify(detail) };
    if (type === 'terminal.ended' && terminalId) {
      const t = await this.terminal(terminalId);
      this.spares.delete(terminalId);
      detail = { status: t?.status ?? null, reason: t?.lastError ?? null } satisfies JournalDetail<'terminal.ended'>;
    }
    let runId = terminalId ? await this.runOf(terminalId) : null;
    if (type.startsWith('message.')) {
      const id = detail.messageId as number;
      if (type === 'message.queued') {
        const m = detail.kind ? null : await this.store.journal.messageFacts(id);
        if (m !== null) detail = { messageId: id, kind: m?.kind ?? null, bytes: m?.bytes ?? null } satisfies JournalDetail<'message.queued'>;
        if (callerId) this.senders.set(id, callerId);
      } else {
        callerId = this.senders.get(id) ?? (await this.store.journal.messageFacts(id))?.senderId ?? null;
        if (type !== 'message.claimed') this.senders.delete(id);
      }
      runId = (callerId ? await this.runOf(callerId) : null) ?? runId;
    }
    return { at: p.at, type, runId, terminalId, callerId, detail: JSON.stringify(detail) };
  }

  private terminal(id: string): Promise<TerminalRow | undefined> {
    return this.store.terminals.get(id);
  }

  private async runOf(terminalId: string): Promise<string | null> {
    if (!this.runs.has(terminalId)) this.runs.set(terminalId, (await this.terminal(terminalId))?.runId ?? null);
    return this.runs.get(terminalId) ?? null;
  }
}
