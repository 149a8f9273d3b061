import type { Bus, BusEvents } from '../bus/bus.js';
import { isReady, type AgentStatus } from '../status/types.js';
import type { MessageRow } from './schema.js';
import type { InboxStore } from './store.js';

/** What the delivery service needs from the hub's terminals. */
export interface DeliveryPort {
  /** Live status of a worker terminal owned by this hub, or undefined (not here / external). */
  status(terminalId: string): AgentStatus | undefined;
  /** Types the message into the terminal (paste + submit + confirm); rejects if it could not. Must settle. */
  type(terminalId: string, message: MessageRow): Promise<void>;
}

export interface DeliveryOptions {
  /** Period of the safety-net sweep over receivers with pending mail. Default 1000 ms. */
  sweepMs?: number;
  /** Failed typing attempts before a message is marked failed. Default 3. */
  maxAttempts?: number;
  /**
   * After a message was typed the receiver is busy until a status event arrives for it. If none
   * ever does (the agent answered faster than the detector could notice), a still-ready status is
   * believed after this long. Default 2000 ms.
   */
  readyGraceMs?: number;
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
  private readonly onError: (err: unknown, receiverId: string) => void;

  private active = false;
  private timer: NodeJS.Timeout | undefined;
  /** Receivers with a delivery loop running (the in-process lock). */
  private readonly running = new Set<string>();
  /** Receivers woken while their loop was running: the loop looks once more before it ends. */
  private readonly again = new Set<string>();
  /**
   * Receivers we typed into, and when; they count as busy until a status event says otherwise. Set
   * when typing has finished, so a "ready" echo of our own paste during typing cannot clear it.
   */
  private readonly typedAt = new Map<string, number>();
  /**
   * Receivers being typed into now, and what their status did meanwhile. A fast agent can finish the turn our
   * Enter started before typing returns (processing, cause input-submitted → completed while the submit is being
   * confirmed): that ready status is the one typedAt would wait for, so it must not be lost. Only a ready status
   * after the monitor's own input-submitted status counts: an echo of the paste before the Enter does not.
   */
  private readonly typing = new Map<string, { submitted: boolean; doneAfterSubmit: boolean }>();
  private readonly loops = new Set<Promise<void>>();

  private readonly onQueued = (e: BusEvents['message:queued']) => this.kick(e.receiverId);
  private readonly onStatus = (e: BusEvents['status']) => {
    const t = this.typing.get(e.terminalId);
    if (t) {
      if (e.status === 'processing' && e.cause.kind === 'input-submitted') t.submitted = true;
      else if (isReady(e.status) && t.submitted) t.doneAfterSubmit = true;
    }
    // The detector has looked at the screen since our input went in: trust its status again.
    this.typedAt.delete(e.terminalId);
    if (isReady(e.status) || e.status === 'exited' || e.status === 'error') this.kick(e.terminalId);
  };
  private readonly onRemoved = (e: BusEvents['terminal:removed']) => {
    this.typedAt.delete(e.terminalId);
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
    this.onError =
      opts.onError ?? ((err, id) => process.stderr.write(`cao-mcp delivery to ${id}: ${err instanceof Error ? err.stack : String(err)}\n`));
  }

  start(): void {
    if (this.active) return;
    this.active = true;
    this.bus.on('message:queued', this.onQueued);
    this.bus.on('status', this.onStatus);
    this.bus.on('terminal:removed', this.onRemoved);
    this.timer = setInterval(() => this.sweep(), this.sweepMs);
    this.timer.unref();
    this.sweep();
  }

  /** Stops waking up; resolves when the deliveries already under way have finished. */
  async stop(): Promise<void> {
    if (!this.active) return;
    this.active = false;
    this.bus.off('message:queued', this.onQueued);
    this.bus.off('status', this.onStatus);
    this.bus.off('terminal:removed', this.onRemoved);
    if (this.timer) clearInterval(this.timer);
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
    if (!this.active) return;
    let receivers: string[];
    try {
      receivers = this.store.pendingReceivers({ kind: 'worker' });
    } catch (err) {
      this.onError(err, '*');
      return;
    }
    for (const id of receivers) this.kick(id);
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
    const row = this.store.getTerminal(receiverId);
    if (!row) {
      this.store.failPendingFor(receiverId, `receiver ${receiverId} does not exist`);
      return;
    }
    if (row.kind === 'external') return; // read with takeForExternal, never typed
    if (row.endedAt !== null) {
      const why = row.lastError ? `: ${row.lastError}` : '';
      this.store.failPendingFor(receiverId, `receiver ${receiverId} has ended (${row.status})${why}`);
      return;
    }
    const status = this.port.status(receiverId);
    if (status === undefined) return; // owned by another hub (or not started yet): not ours to type into
    if (status === 'exited' || status === 'error') {
      const why = row.lastError ? `: ${row.lastError}` : '';
      this.store.failPendingFor(receiverId, `receiver ${receiverId} is ${status}${why}`);
      return;
    }
    // Never when waiting_user_answer: the keystrokes would answer the dialog.
    if (!isReady(status)) return;
    const typedAt = this.typedAt.get(receiverId);
    if (typedAt !== undefined) {
      if (Date.now() - typedAt < this.readyGraceMs) return;
      this.typedAt.delete(receiverId);
    }

    const message = this.store.claimNext(receiverId);
    if (!message) return; // nothing pending, or one in flight (another hub on the same file)

    let failure: unknown;
    let typed = false;
    const watch = { submitted: false, doneAfterSubmit: false };
    this.typing.set(receiverId, watch);
    try {
      await this.port.type(receiverId, message);
      typed = true;
    } catch (err) {
      failure = err;
    } finally {
      this.typing.delete(receiverId);
    }
    if (typed) {
      // Busy until a status event says otherwise — unless one already did: the turn our input started was
      // over before typing returned (its `status` kick is waiting in `again`).
      if (!watch.doneAfterSubmit) this.typedAt.set(receiverId, Date.now());
      await persist(() => this.store.markDelivered(message.id));
    } else {
      await persist(() => this.store.releaseForRetry(message.id, describe(failure), this.maxAttempts));
    }
  }
}

/**
 * Recording the outcome must not be lost to a briefly locked database (another process holding the
 * write lock past busy_timeout): a message left `delivering` would block its receiver until restart.
 */
async function persist(write: () => unknown, tries = 5): Promise<void> {
  for (let i = 1; ; i++) {
    try {
      write();
      return;
    } catch (err) {
      if (i >= tries) throw err;
      await new Promise((r) => setTimeout(r, 100 * i));
    }
  }
}

function describe(err: unknown): string {
  if (err instanceof Error) return err.message || err.name;
  return String(err);
}
