import type { Bus, BusEvents } from '../bus/bus.js';
import { Screen } from './screen.js';

export interface ScreenFeedOptions {
  cols: number;
  rows: number;
  /** Where the emulator's replies to terminal queries go (the pty). */
  reply: (data: string) => void;
  /** No output for this long = the frame is whole. */
  quietMs?: number;
  /** While output never pauses, still look at the screen this often (busy evidence only). */
  maxWaitMs?: number;
}

/**
 * Consumes one terminal's `output` events, renders them in a headless emulator, and publishes `settled`
 * when the screen has been quiet for `quietMs` (or output has streamed for `maxWaitMs`).
 */
export class ScreenFeed {
  readonly screen: Screen;
  private readonly quietMs: number;
  private readonly maxWaitMs: number;
  private timer: NodeJS.Timeout | null = null;
  private lastParsedAt = 0;
  private lastSettleAt = 0;
  private readonly handler: (e: BusEvents['output']) => void;
  private readonly parsedListeners = new Set<() => void>();
  private disposed = false;

  constructor(
    private readonly bus: Bus,
    readonly terminalId: string,
    opts: ScreenFeedOptions,
  ) {
    this.quietMs = opts.quietMs ?? 40;
    this.maxWaitMs = opts.maxWaitMs ?? 250;
    this.screen = new Screen({ cols: opts.cols, rows: opts.rows, onReply: opts.reply });
    this.handler = (e) => {
      if (e.terminalId !== terminalId || this.disposed) return;
      void this.screen.write(e.data).then(() => this.onParsed());
    };
    bus.on('output', this.handler);
  }

  /** Called after every parsed chunk (the monitor uses it for early evidence of work after an input). */
  onEveryParse(fn: () => void): () => void {
    this.parsedListeners.add(fn);
    return () => this.parsedListeners.delete(fn);
  }

  private onParsed(): void {
    if (this.disposed) return;
    const now = Date.now();
    if (this.lastParsedAt === 0 || now - this.lastParsedAt > this.quietMs) this.lastSettleAt = Math.max(this.lastSettleAt, now - 1);
    this.lastParsedAt = now;
    for (const fn of this.parsedListeners) fn();
    if (now - this.lastSettleAt >= this.maxWaitMs) this.settle(false);
    this.arm(this.quietMs);
  }

  private arm(ms: number): void {
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      if (this.disposed) return;
      const idleFor = Date.now() - this.lastParsedAt;
      if (idleFor < this.quietMs || this.screen.busy) return this.arm(Math.max(1, this.quietMs - idleFor));
      this.settle(true);
    }, ms);
  }

  private settle(quiet: boolean): void {
    this.lastSettleAt = Date.now();
    this.bus.emit('settled', { terminalId: this.terminalId, at: this.lastSettleAt, quiet });
  }

  /** Asks for a look at the screen now (e.g. after a resize, or at start before any output). */
  poke(): void {
    this.arm(this.quietMs);
  }

  resize(cols: number, rows: number): void {
    this.screen.resize(cols, rows);
    this.poke();
  }

  dispose(): void {
    this.disposed = true;
    if (this.timer) clearTimeout(this.timer);
    this.bus.off('output', this.handler);
    this.parsedListeners.clear();
    this.screen.dispose();
  }
}
