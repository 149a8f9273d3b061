import type { ScreenSnapshot } from '../screen/snapshot.js';
import type { DetectedStatus } from '../status/types.js';
import { realClock, Wakeup, type Clock } from '../util/clock.js';
import type { Terminal } from './terminal.js';

/** A screen counts as drawn once nothing was written to it for this long (and everything written is parsed). */
export const READY_QUIET_MS = 60;
/** A ready screen must stay ready this long before the CLI is taken as started. */
export const READY_STABLE_MS = 250;

/** How long until a screen last written at `lastWrite` is quiet (0 = it is; never while output is unparsed). */
export function quietInMs(now: number, lastWrite: number, busy: boolean): number | null {
  if (busy) return null; // the parse ends with a parse event
  return Math.max(0, READY_QUIET_MS - (now - lastWrite));
}

/** What the ready rule says after one look. */
export type ReadyVerdict = { ready: true } | { ready: false; lookAgainInMs: number | null };

/**
 * The one readiness rule of a starting CLI (Terminal.startup and `cao-mcp launch` use it): the screen is quiet
 * (READY_QUIET_MS since the last write, nothing unparsed) and the detector has called it idle / completed for
 * READY_STABLE_MS in a row. Pure and clock-driven: the caller looks whenever the screen may have changed and when
 * `lookAgainInMs` says.
 */
export class ReadyRule {
  private since = 0;

  /** Starts over (the screen was acted on: a dialog dismissed). */
  reset(): void {
    this.since = 0;
  }

  /** `detected`: the detector's word on the screen, asked only when it is quiet (`quietInMs` = 0). */
  look(now: number, quietIn: number | null, detected: () => DetectedStatus): ReadyVerdict {
    if (quietIn !== 0) {
      this.since = 0;
      return { ready: false, lookAgainInMs: quietIn };
    }
    const d = detected();
    if (d !== 'idle' && d !== 'completed') {
      this.since = 0;
      return { ready: false, lookAgainInMs: null }; // only a change of the screen can change that
    }
    if (!this.since) this.since = now;
    const left = READY_STABLE_MS - (now - this.since);
    return left <= 0 ? { ready: true } : { ready: false, lookAgainInMs: left };
  }
}

export interface ReadyWaitOptions {
  /** Give up after this long (default: never). */
  timeoutMs?: number;
  /** For the timers and `now` (default: the real clock, the one `screen.lastWrite` is measured on). */
  clock?: Clock;
  /**
   * Looks at each quiet screen first: returns true when it acted on it (a startup dialog dismissed), and the rule
   * starts over. May throw (a dialog that does not go away).
   */
  onQuietScreen?: (snap: ScreenSnapshot) => Promise<boolean>;
  /** Each detection of a quiet screen that is not ready; may throw (an unknown dialog, an error). */
  onNotReady?: (d: DetectedStatus) => void;
  /** Stop waiting as soon as this is true (checked at every look). */
  stop?: () => boolean;
}

export type ReadyWaitResult = 'ready' | 'exited' | 'timeout' | 'stopped';

/**
 * Waits until `t`'s screen is ready by ReadyRule. Looks when output was parsed (onEveryParse), at each settled
 * screen, when the process exits, and when the rule asks for a later look; never polls.
 */
export async function waitForReadyScreen(t: Terminal, opts: ReadyWaitOptions = {}): Promise<ReadyWaitResult> {
  const clock = opts.clock ?? realClock;
  const deadline = clock.now() + (opts.timeoutMs ?? Infinity);
  const rule = new ReadyRule();
  const wake = new Wakeup(clock);
  const offs = [t.feed.onEveryParse(() => wake.notify()), t.on('settled', () => wake.notify())];
  void t.pty.exit.then(() => wake.notify());
  t.feed.poke();
  try {
    for (;;) {
      if (!t.alive) return 'exited';
      if (opts.stop?.()) return 'stopped';
      const now = clock.now();
      if (now >= deadline) return 'timeout';
      const screen = t.feed.screen;
      const quietIn = quietInMs(now, screen.lastWrite, screen.busy);
      const snap = t.monitor.detectSnapshot();
      if (quietIn === 0 && opts.onQuietScreen && (await opts.onQuietScreen(snap))) {
        rule.reset();
        continue;
      }
      let detected: DetectedStatus = 'unknown';
      const v = rule.look(now, quietIn, () => (detected = t.provider.detect(snap)));
      if (v.ready) return 'ready';
      if (quietIn === 0) opts.onNotReady?.(detected);
      await wake.wait(Math.min(v.lookAgainInMs ?? Infinity, deadline - now));
    }
  } finally {
    for (const off of offs) off();
  }
}
