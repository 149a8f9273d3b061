import type { Bus, BusEvents } from '../bus/bus.js';
import { isReady, type AgentStatus } from '../status/types.js';
import { realClock, type Clock, type TimerHandle } from '../util/clock.js';
import type { MessageRow } from '../db/schema.js';
import type { MessageQueue as InboxStore } from './messages.js';
import { logger } from '../util/log.js';

/** What the delivery service needs of the turn a typed message started (agents/turn.ts `Turn` is one). */
export interface DeliveredTurn {
  /** The turn is over (the agent is ready again, exited or failed). True already when it ended before the submit returned. */
  readonly ended: boolean;
}

/** What the delivery service needs from the hub's terminals. */
export interface DeliveryPort {
  /** Live status of a worker terminal owned by this hub, or undefined (not here / external). */
  status(terminalId: string): AgentStatus | undefined;
  /**
   * Types the message into the terminal as a new turn (paste + submit + confirm: submitTurn); resolves with that
   * turn, rejects if it could not. Must settle.
   */
  submit(terminalId: string, message: MessageRow): Promise<DeliveredTurn>;
}

export interface DeliveryOptions {
  /** Period of the safety-net sweep over receivers with pending mail. Default 1000 ms. */
  sweepMs?: number;
  /** Failed typing attempts before a message is marked failed. Default 3. */
  maxAttempts?: number;
  /**
   * After a message was typed the receiver is busy until the turn it started has ended. If it never
   * does (no status event ever says so), a still-ready status is believed after this long. Default 2000 ms.
   */
  readyGraceMs?: number;
  /**
   * First pause before recording a delivery's outcome again after the database refused it (it doubles, up to 20 times
   * this). Default 100 ms.
   */
  recordRetryMs?: number;
  /** Time for readyGraceMs and the sweep (default: the real clock). */
  clock?: Clock;
  /** Where unexpected errors go (default: one line on stderr). */
  onError?: (err: unknown, receiverId: string) => void;
}

/**
 * Moves pending messages into worker terminals, one at a time per receiver, only when the receiver is
 * ready for input (idle / completed). Woken by `message:queued`, by `status` events, by `kick()`, at
 * start and by a cheap periodic sweep (so mail to an agent that is already idle never waits for an
 * event that will not come). Exactly-once: a message is claimed in the database by a conditional
 * UPDATE before it is typed, and a receiver has at most one delivery loop in this process.
 */
export class DeliveryService {
  private readonly sweepMs: number;
  private readonly maxAttempts: number;
  private readonly readyGraceMs: number;
  private readonly recordRetryMs: number;
  private readonly onError: (err: unknown, receiverId: string) => void;

  private readonly clock: Clock;

  private active = false;
  private timer: TimerHandle | undefined;
  /** Receivers with a delivery loop running (the in-process lock). */
  private readonly running = new Set<string>();
  /** Receivers woken while their loop was running: the loop looks once more before it ends. */
  private readonly again = new Set<string>();
  /**
   * The last turn typed into each receiver, and when its submit returned: the receiver is busy while that turn is
   * open (the Turn watched its statuses from before the submit, so one that was over before typing returned is
   * not waited for).
   */
  private readonly lastTurn = new Map<string, { turn: DeliveredTurn; at: number }>();
  private readonly loops = new Set<Promise<void>>();
  /** A sweep's read is under way (the next one waits for its turn). */
  private sweeping = false;
  /**
   * Receivers whose last claim failed without an answer (a connection lost mid-statement): it may have committed.
   * What of theirs is then left delivering was never typed, and goes back to pending before their next claim.
   */
  private readonly claimUnsure = new Set<string>();

  private readonly onQueued = (e: BusEvents['message:queued']) => this.kick(e.receiverId);
  private readonly onStatus = (e: BusEvents['status']) => {
    if (isReady(e.status) || e.status === 'exited' || e.status === 'error') this.kick(e.terminalId);
  };
  private readonly onRemoved = (e: BusEvents['terminal:removed']) => {
    this.lastTurn.delete(e.terminalId);
    this.kick(e.terminalId); // its pending mail can now be failed with the reason
  };

  constructor(
    private readonly bus: Bus,
    private readonly store: InboxStore,
    private readonly port: DeliveryPort,
    opts: DeliveryOptions = {},
  ) {
    this.sweepMs = opts.sweepMs ?? 1000;
    this.maxAttempts = opts.maxAttempts ?? 3;
    this.readyGraceMs = opts.readyGraceMs ?? 2000;
    this.recordRetryMs = opts.recordRetryMs ?? 100;
    this.clock = opts.clock ?? realClock;
    this.onError = opts.onError ?? ((err, id) => logger('delivery').error({ err, terminalId: id }, 'a delivery failed'));
  }

  start(): void {
    if (this.active) return;
    this.active = true;
    this.bus.on('message:queued', this.onQueued);
    this.bus.on('status', this.onStatus);
    this.bus.on('terminal:removed', this.onRemoved);
    this.sweep();
    this.armSweep();
  }

  private armSweep(): void {
    this.timer = this.clock.setTimeout(
      () => {
        if (!this.active) return;
        this.sweep();
        this.armSweep();
      },
      this.sweepMs,
      { unref: true },
    );
  }

  /** Stops waking up; resolves when the deliveries already under way have finished. */
  async stop(): Promise<void> {
    if (!this.active) return;
    this.active = false;
    this.bus.off('message:queued', this.onQueued);
    this.bus.off('status', this.onStatus);
    this.bus.off('terminal:removed', this.onRemoved);
    this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    await Promise.allSettled([...this.loops]);
  }

  /** Look at this receiver's pending mail now (no-op before start / after stop). */
  kick(receiverId: string): void {
    if (!this.active) return;
    if (this.running.has(receiverId)) {
      this.again.add(receiverId);
      return;
    }
    this.running.add(receiverId);
    const loop = this.drain(receiverId).finally(() => {
      this.running.delete(receiverId);
      this.loops.delete(loop);
    });
    this.loops.add(loop);
  }

  /** One indexed query: every worker with pending mail gets a kick. */
  sweep(): void {
    if (!this.active || this.sweeping) return;
    this.sweeping = true;
    this.store
      .pendingReceivers({ kind: 'worker' })
      .then(
        (receivers) => {
          for (const id of receivers) this.kick(id);
          // their mail may all be left delivering by the claim that failed: no pending row names them
          for (const id of this.claimUnsure) this.kick(id);
        },
        (err: unknown) => {
          // a store closed under a stopping hub is no error
          if (this.active) this.onError(err, '*');
        },
      )
      .finally(() => (this.sweeping = false));
  }

  private async drain(receiverId: string): Promise<void> {
    // Leave the emitter's call stack first: publishers never run consumers' work inline.
    await Promise.resolve();
    try {
      do {
        this.again.delete(receiverId);
        if (!this.active) return;
        await this.deliverOne(receiverId);
      } while (this.again.has(receiverId));
    } catch (err) {
      this.onError(err, receiverId);
    } finally {
      this.again.delete(receiverId);
    }
  }

  /** At most one message: a receiver that was typed into is busy until it is ready again. */
  private async deliverOne(receiverId: string): Promise<void> {
    // A worker of this hub that is at work (or asking something) takes nothing now: no read of its row (on PostgreSQL a
    // round trip per status change). Only a ready one, an ended one or one not ours goes on to the checks below.
    const early = this.port.status(receiverId);
    if (early !== undefined && early !== 'exited' && early !== 'error' && !isReady(early)) return;
    // A live worker of this hub: its row is the one this hub wrote (the registry keeps it); any other is read.
    const row =
      (early !== undefined && isReady(early) && this.store.registry.cached(receiverId)) || (await this.store.registry.getTerminal(receiverId));
    if (!this.active) return;
    if (!row) {
      await this.store.failPendingFor(receiverId, `receiver ${receiverId} does not exist`);
      return;
    }
    if (row.kind === 'external') return; // read with takeForExternal, never typed
    if (row.endedAt !== null) {
      const why = row.lastError ? `: ${row.lastError}` : '';
      await this.store.failPendingFor(receiverId, `receiver ${receiverId} has ended (${row.status})${why}`);
      return;
    }
    // From here to the claim, nothing is awaited: the status read and the claim go together.
    const status = this.port.status(receiverId);
    if (status === undefined) return; // owned by another hub (or not started yet): not ours to type into
    if (status === 'exited' || status === 'error') {
      const why = row.lastError ? `: ${row.lastError}` : '';
      await this.store.failPendingFor(receiverId, `receiver ${receiverId} is ${status}${why}`);
      return;
    }
    // Never when waiting_user_answer: the keystrokes would answer the dialog.
    if (!isReady(status)) return;
    const last = this.lastTurn.get(receiverId);
    if (last) {
      if (!last.turn.ended && this.clock.now() - last.at < this.readyGraceMs) return;
      this.lastTurn.delete(receiverId);
    }

    if (this.claimUnsure.has(receiverId)) {
      for (const m of await this.store.inFlightFor(receiverId)) await this.store.requeue(m.id, 'claim');
      this.claimUnsure.delete(receiverId);
    }
    let message: MessageRow | null;
    try {
      message = await this.store.claimNext(receiverId);
    } catch (err) {
      this.claimUnsure.add(receiverId);
      throw err;
    }
    if (!message) return; // nothing pending, or one in flight (another hub on the same file)

    let turn: DeliveredTurn;
    try {
      turn = await this.port.submit(receiverId, message);
    } catch (err) {
      await this.persist(receiverId, () => this.store.releaseForRetry(message.id, describe(err), this.maxAttempts));
      return;
    }
    // Busy until that turn is over — unless it already is (its `status` kick is waiting in `again`).
    if (!turn.ended) this.lastTurn.set(receiverId, { turn, at: this.clock.now() });
    await this.persist(receiverId, () => this.store.markDelivered(message.id));
  }

  /**
   * Records a delivery's outcome, trying again until the database takes it (a lock held past busy_timeout, a link to
   * PostgreSQL cut for a while) or this service stops: a message left `delivering` would hold back its receiver's mail
   * until a hub adopted it again. The receiver takes nothing else meanwhile (its claim would refuse it anyway).
   */
  private async persist(receiverId: string, write: () => Promise<unknown>): Promise<void> {
    for (let i = 0; ; i++) {
      try {
        await write();
        if (i > 0) logger('delivery').info({ terminalId: receiverId, tries: i + 1 }, 'a delivery outcome was recorded once the database answered');
        return;
      } catch (err) {
        if (!this.active) throw err;
        if (i === 0) logger('delivery').warn({ err, terminalId: receiverId }, 'could not record a delivery outcome; trying again');
        // a back-off between tries of an unreachable or locked database, not a turn's timing
        await new Promise((r) => setTimeout(r, this.recordRetryMs * Math.min(20, 2 ** i)));
      }
    }
  }
}

function describe(err: unknown): string {
  if (err instanceof Error) return err.message || err.name;
  return String(err);
}
