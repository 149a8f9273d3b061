/** An opaque timer handle (what `Clock.setTimeout` returns). */
export type TimerHandle = { readonly __clockTimer?: never } | NodeJS.Timeout;

/**
 * Time as the turn logic sees it: the real clock in production, a FakeClock (tests/support/fake-clock.ts)
 * advanced by hand in tests.
 */
export interface Clock {
  now(): number;
  /** Runs `fn` once after `ms`. `unref`: a pending timer does not keep the process alive (real clock only). */
  setTimeout(fn: () => void, ms: number, opts?: { unref?: boolean }): TimerHandle;
  clearTimeout(handle: TimerHandle | undefined | null): void;
}

export const realClock: Clock = {
  now: () => Date.now(),
  setTimeout(fn, ms, opts) {
    const t = setTimeout(fn, ms);
    if (opts?.unref) t.unref();
    return t;
  },
  clearTimeout(handle) {
    if (handle) clearTimeout(handle as NodeJS.Timeout);
  },
};

/** Resolves after `ms` on `clock`. */
export function sleepOn(clock: Clock, ms: number): Promise<void> {
  return new Promise((resolve) => clock.setTimeout(resolve, Math.max(0, ms)));
}

/**
 * A wake-up an event loop waits on: `notify()` from event handlers, `wait(ms)` resolves on the first notify
 * (or one that came since the last wait) or after `ms`, whichever is first. Never rejects.
 */
export class Wakeup {
  private wake: (() => void) | null = null;
  private pending = false;

  constructor(private readonly clock: Clock = realClock) {}

  notify(): void {
    const w = this.wake;
    if (w) {
      this.wake = null;
      w();
    } else this.pending = true;
  }

  wait(ms: number): Promise<void> {
    if (this.pending) {
      this.pending = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const timer = Number.isFinite(ms)
        ? this.clock.setTimeout(
            () => {
              this.wake = null;
              resolve();
            },
            Math.max(0, ms),
          )
        : null;
      this.wake = () => {
        this.clock.clearTimeout(timer);
        resolve();
      };
    });
  }
}
