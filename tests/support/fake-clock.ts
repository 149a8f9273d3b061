import type { Clock, TimerHandle } from '../../src/util/clock.js';

interface FakeTimer {
  id: number;
  due: number;
  fn: () => void;
}

/**
 * A clock that only moves when told: `advance(ms)` runs the timers that fall due, in order of due time (then of
 * creation), each at its own time, and lets promise continuations run after each (so async code woken by a timer
 * gets to schedule its next timer before the clock moves on).
 */
export class FakeClock implements Clock {
  private t: number;
  private seq = 0;
  private readonly timers = new Map<number, FakeTimer>();

  constructor(start = 1_000_000) {
    this.t = start;
  }

  now(): number {
    return this.t;
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    const id = ++this.seq;
    this.timers.set(id, { id, due: this.t + Math.max(0, ms), fn });
    return { id } as unknown as TimerHandle;
  }

  clearTimeout(handle: TimerHandle | undefined | null): void {
    if (handle) this.timers.delete((handle as unknown as { id: number }).id);
  }

  /** Timers not yet run. */
  get pending(): number {
    return this.timers.size;
  }

  /** Moves time on by `ms`, running due timers in order; resolves once everything they started has settled. */
  async advance(ms: number): Promise<void> {
    const until = this.t + ms;
    await flush();
    for (;;) {
      const next = [...this.timers.values()].filter((x) => x.due <= until).sort((a, b) => a.due - b.due || a.id - b.id)[0];
      if (!next) break;
      this.timers.delete(next.id);
      this.t = next.due;
      next.fn();
      await flush();
    }
    this.t = until;
    await flush();
  }
}

/** Lets every queued promise continuation run (a macrotask turn drains the microtask queue). */
export function flush(): Promise<void> {
  return new Promise((r) => setImmediate(r));
}
