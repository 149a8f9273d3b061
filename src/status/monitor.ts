import type { Bus } from '../bus/bus.js';
import { onTerminal } from '../bus/by-terminal.js';
import type { Provider } from '../providers/types.js';
import type { ScreenFeed } from '../screen/screen-feed.js';
import type { ScreenSnapshot } from '../screen/snapshot.js';
import type { AgentStatus, DetectedStatus } from './types.js';

/**
 * The `reason` of the `processing` status published when cao-mcp submits an input. After it, the input guard
 * holds the status at processing until the agent has worked on that input, so a ready status that follows it
 * means the turn is over (the delivery service relies on this).
 */
export const INPUT_SUBMITTED = 'input submitted';

/** How many lines above the visible rows detectors get (they anchor to the bottom; extraction uses everything). */
const DETECT_EXTRA_LINES = 300;

export interface MonitorOptions {
  /**
   * After an input, an agent that never showed a busy frame is taken as done only once its screen has
   * differed from the pre-input screen and stayed settled this long.
   */
  readyWithoutBusyMs?: number;
}

interface InputGuard {
  /** Bottom of the screen just before the submitting Enter. */
  before: string;
  at: number;
  sawBusy: boolean;
}

/**
 * Turns settled screens into statuses: asks the provider's detector, applies the input guard (a
 * busy agent is never reported done just because the previous turn's answer is still on screen),
 * and publishes `status` only on change.
 */
export class StatusMonitor {
  private current: AgentStatus = 'starting';
  private lastDetected: DetectedStatus = 'unknown';
  private started = false;
  private guard: InputGuard | null = null;
  private guardTimer: NodeJS.Timeout | null = null;
  private readonly readyWithoutBusyMs: number;
  private readonly offSettled: () => void;
  private readonly offParse: () => void;
  private final = false;

  constructor(
    private readonly bus: Bus,
    readonly terminalId: string,
    private readonly feed: ScreenFeed,
    private readonly provider: Provider,
    opts: MonitorOptions = {},
  ) {
    this.readyWithoutBusyMs = opts.readyWithoutBusyMs ?? provider.readyWithoutBusyMs ?? 2000;
    this.offSettled = onTerminal(bus, 'settled', terminalId, (e) => this.evaluate(e.quiet));
    // Early evidence of work after an input: any parsed chunk (or frame inside one) showing a busy screen
    // disarms the guard.
    this.offParse = feed.onEveryParse(() => {
      if (this.guard && !this.guard.sawBusy) {
        const d = this.provider.detect(this.detectSnapshot());
        if (d === 'processing' || d === 'waiting_user_answer' || d === 'error') this.sawBusy();
      }
    });
  }

  get status(): AgentStatus {
    return this.current;
  }

  /** What the detector said about the last settled screen (also while still `starting`). */
  get detected(): DetectedStatus {
    return this.lastDetected;
  }

  /** A snapshot sized for detection (the bottom of the buffer). */
  detectSnapshot(): ScreenSnapshot {
    return this.feed.detectSnapshot(this.feed.screen.rows + DETECT_EXTRA_LINES);
  }

  /** Startup is over (dialogs dismissed, CLI ready): from now on detections become statuses. */
  markStarted(): void {
    this.started = true;
    this.evaluate(true);
  }

  /**
   * cao-mcp is about to submit input (call right before the submitting Enter): until the agent shows
   * it is working, or its screen visibly moved on, the status stays `processing`.
   */
  noteSubmitting(): void {
    this.guard = { before: bottomKey(this.detectSnapshot()), at: Date.now(), sawBusy: false };
    // A fast agent's busy frame can arrive in one read with its final frame: look at each frame until work is seen.
    this.feed.watchFrames(true);
    this.set('processing', INPUT_SUBMITTED);
  }

  /** The submit did not take (Enter never registered): drop the guard and look again. */
  cancelSubmitting(): void {
    this.dropGuard();
    this.evaluate(true);
  }

  private sawBusy(): void {
    if (this.guard) this.guard.sawBusy = true;
    this.feed.watchFrames(false);
  }

  private dropGuard(): void {
    this.guard = null;
    this.feed.watchFrames(false);
  }

  markExited(reason: string): void {
    this.set('exited', reason);
    this.final = true;
  }

  markError(reason: string): void {
    this.set('error', reason);
  }

  /** Re-evaluates the current screen now. */
  evaluate(quiet: boolean): void {
    if (this.final) return;
    const snap = this.detectSnapshot();
    const d = this.provider.detect(snap);
    this.lastDetected = d;
    if (!this.started || d === 'unknown') return;

    if (d === 'idle' || d === 'completed') {
      if (!quiet) return; // never call a streaming screen done
      if (this.guard && !this.guard.sawBusy) {
        const waited = Date.now() - this.guard.at;
        if (bottomKey(snap) === this.guard.before || waited < this.readyWithoutBusyMs) {
          this.recheckLater(this.readyWithoutBusyMs - waited);
          return;
        }
      }
      if (this.guard) this.dropGuard();
      this.set(d, 'detected');
      return;
    }
    if (this.guard) this.sawBusy();
    this.set(d, 'detected');
  }

  private recheckLater(ms: number): void {
    if (this.guardTimer) return;
    this.guardTimer = setTimeout(
      () => {
        this.guardTimer = null;
        this.evaluate(true);
      },
      Math.max(20, ms),
    );
  }

  private set(status: AgentStatus, reason: string): void {
    if (this.final || status === this.current) return;
    const previous = this.current;
    this.current = status;
    this.bus.emit('status', { terminalId: this.terminalId, status, previous, at: Date.now(), reason });
  }

  dispose(): void {
    this.offSettled();
    this.offParse();
    if (this.guardTimer) clearTimeout(this.guardTimer);
  }
}

/** The visible rows, as one string: what "the screen moved on" is judged by. */
function bottomKey(s: ScreenSnapshot): string {
  return s.lines.slice(s.viewportTop).join('\n');
}
