import { InputGuard, screenKey, showsWork } from './turn.js';
import type { Bus } from '../bus/bus.js';
import { onTerminal } from '../bus/by-terminal.js';
import type { Provider } from '../providers/types.js';
import type { ScreenFeed } from '../screen/screen-feed.js';
import type { ScreenSnapshot } from '../screen/snapshot.js';
import { realClock, type Clock, type TimerHandle } from '../util/clock.js';
import type { StatusCause } from '../status/cause.js';
import type { AgentStatus, DetectedStatus } from '../status/types.js';

/** How many lines above the visible rows detectors get (they anchor to the bottom; extraction uses everything). */
const DETECT_EXTRA_LINES = 300;

const DETECTED: StatusCause = { kind: 'detected' };

export interface MonitorOptions {
  /**
   * After an input, an agent that never showed a busy frame is taken as done only once its screen has
   * differed from the pre-input screen and stayed settled this long.
   */
  readyWithoutBusyMs?: number;
  /** Time for the input guard (default: the real clock). */
  clock?: Clock;
}

/**
 * Turns settled screens into statuses: asks the provider's detector, applies the input guard (InputGuard in
 * agents/turn.ts: a busy agent is never reported done just because the previous turn's answer is still on
 * screen), and publishes `status` only on change — the one publisher of it.
 */
export class StatusMonitor {
  private current: AgentStatus = 'starting';
  private lastDetected: DetectedStatus = 'unknown';
  private started = false;
  private guard: InputGuard | null = null;
  private guardTimer: TimerHandle | null = null;
  private readonly readyWithoutBusyMs: number;
  private readonly clock: Clock;
  private readonly offSettled: () => void;
  private readonly offParse: () => void;
  private final = false;
  private turnSeq = 0;
  private lastSubmitted = 0;

  constructor(
    private readonly bus: Bus,
    readonly terminalId: string,
    private readonly feed: ScreenFeed,
    private readonly provider: Provider,
    opts: MonitorOptions = {},
  ) {
    this.readyWithoutBusyMs = opts.readyWithoutBusyMs ?? provider.readyWithoutBusyMs ?? 2000;
    this.clock = opts.clock ?? realClock;
    this.offSettled = onTerminal(bus, 'settled', terminalId, (e) => this.evaluate(e.quiet));
    // Early evidence of work after an input: any parsed chunk (or frame inside one) showing a busy screen
    // disarms the guard.
    this.offParse = feed.onEveryParse(() => {
      if (this.guard && !this.guard.sawBusy && showsWork(this.provider.detect(this.detectSnapshot()))) this.sawBusy();
    });
  }

  get status(): AgentStatus {
    return this.current;
  }

  /** What the detector said about the last settled screen (also while still `starting`). */
  get detected(): DetectedStatus {
    return this.lastDetected;
  }

  /** The number of the last turn whose Enter was written (0 = none yet). */
  get submittedTurn(): number {
    return this.lastSubmitted;
  }

  /** A number for a new turn of this terminal (1, 2, …). */
  newTurn(): number {
    return ++this.turnSeq;
  }

  /** A snapshot sized for detection (the bottom of the buffer). */
  detectSnapshot(): ScreenSnapshot {
    return this.feed.detectSnapshot(this.feed.screen.rows + DETECT_EXTRA_LINES);
  }

  /** Startup is over (dialogs dismissed, CLI ready): from now on detections become statuses. */
  markStarted(): void {
    this.started = true;
    this.evaluate(true, { kind: 'started' });
  }

  /**
   * cao-mcp is about to submit turn `turn` (call right before the submitting Enter, again before each retry of it):
   * until the agent shows it is working, or its screen visibly moved on, the status stays `processing`.
   */
  noteSubmitting(turn: number = this.newTurn()): void {
    this.guard = new InputGuard(turn, screenKey(this.detectSnapshot()), this.clock.now(), this.readyWithoutBusyMs);
    this.lastSubmitted = Math.max(this.lastSubmitted, turn);
    // A fast agent's busy frame can arrive in one read with its final frame: look at each frame until work is seen.
    this.feed.watchFrames(true);
    this.set('processing', { kind: 'input-submitted', turn });
  }

  /** The submit did not take (Enter never registered): drop the guard and look again. */
  cancelSubmitting(): void {
    this.dropGuard();
    this.evaluate(true);
  }

  private sawBusy(): void {
    this.guard?.noteBusy();
    this.feed.watchFrames(false);
  }

  private dropGuard(): void {
    this.guard = null;
    this.feed.watchFrames(false);
  }

  markExited(exit: { exitCode: number; signal?: number }): void {
    this.set('exited', { kind: 'exited', exitCode: exit.exitCode, ...(exit.signal ? { signal: exit.signal } : {}) });
    this.final = true;
  }

  /** Re-evaluates the current screen now. */
  evaluate(quiet: boolean, cause: StatusCause = DETECTED): void {
    if (this.final) return;
    const snap = this.detectSnapshot();
    const d = this.provider.detect(snap);
    this.lastDetected = d;
    if (!this.started || d === 'unknown') return;

    if (d === 'idle' || d === 'completed') {
      if (!quiet) return; // never call a streaming screen done
      if (this.guard) {
        // The text still sits in the input box (an Enter the CLI took as a newline, or lost while it was busy):
        // the turn has not started, whatever else moved on screen. submitInput sends Enter again or gives up
        // (cancelSubmitting); seen on Gemini CLI under load, where the fallback below called such a turn done.
        if (!this.guard.sawBusy && this.provider.inputPending?.(snap)) return;
        const verdict = this.guard.judgeReady(screenKey(snap), this.clock.now());
        if (!verdict.over) {
          if (verdict.recheckInMs !== null) this.recheckLater(verdict.recheckInMs);
          return;
        }
        this.dropGuard();
      }
      this.set(d, cause);
      return;
    }
    if (this.guard) this.sawBusy();
    this.set(d, cause);
  }

  private recheckLater(ms: number): void {
    if (this.guardTimer) return;
    this.guardTimer = this.clock.setTimeout(() => {
      this.guardTimer = null;
      this.evaluate(true);
    }, ms);
  }

  private set(status: AgentStatus, cause: StatusCause): void {
    if (this.final || status === this.current) return;
    const previous = this.current;
    this.current = status;
    this.bus.emit('status', { terminalId: this.terminalId, status, previous, at: this.clock.now(), cause });
  }

  dispose(): void {
    this.offSettled();
    this.offParse();
    this.clock.clearTimeout(this.guardTimer);
  }
}
