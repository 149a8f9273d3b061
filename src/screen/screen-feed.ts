import type { Bus } from '../bus/bus.js';
import { onTerminal } from '../bus/by-terminal.js';
import { Screen } from './screen.js';
import { SnapshotCache } from './snapshot-cache.js';
import type { ScreenSnapshot } from './snapshot.js';
import { logger } from '../util/log.js';

/** How often a cached detection snapshot is checked against a full one (a cheap guard against a cache bug). */
const CACHE_CHECK_MS = 20_000;

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
 * Where an application starts drawing a new frame: begin synchronized update (DEC 2026), erase below / erase
 * screen (inline renderers such as the mock's and full-screen repaints), or a run of erase-line + cursor-up (Ink).
 * Just before one of these the previous frame is whole.
 */
const FRAME_START = /\x1b\[\?2026h|\x1b\[[02]?J|(?:\x1b\[2K\x1b\[1?A)+/g;

/** How long a synchronized update may stay open before its screen is looked at anyway (terminals time out too). */
const SYNC_UPDATE_MAX_MS = 1000;

/** Splits a chunk of output before each frame start (pieces concatenate back to the chunk). */
export function splitFrames(data: string): string[] {
  const out: string[] = [];
  let from = 0;
  FRAME_START.lastIndex = 0;
  for (let m = FRAME_START.exec(data); m; m = FRAME_START.exec(data)) {
    if (m.index > from) {
      out.push(data.slice(from, m.index));
      from = m.index;
    }
  }
  out.push(data.slice(from));
  return out;
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
  private readonly unsubscribe: () => void;
  private readonly parsedListeners = new Set<() => void>();
  private disposed = false;
  private watching = false;
  private cache: SnapshotCache | null;
  private cacheCheckedAt = 0;
  /** Runs inside the emulator's parse loop, right after the piece written before it (see watchFrames). */
  private readonly afterPiece = () => {
    if (!this.disposed) this.notifyParsed();
  };
  /** After a chunk written whole, and after the last piece of one split into frames (see the output listener). */
  private readonly afterChunk = () => this.onParsed(true);
  private readonly afterLastPiece = () => this.onParsed(false);

  constructor(
    private readonly bus: Bus,
    readonly terminalId: string,
    opts: ScreenFeedOptions,
  ) {
    this.quietMs = opts.quietMs ?? 40;
    this.maxWaitMs = opts.maxWaitMs ?? 250;
    this.screen = new Screen({ cols: opts.cols, rows: opts.rows, onReply: opts.reply });
    this.cache = new SnapshotCache(this.screen.term);
    this.unsubscribe = onTerminal(bus, 'output', terminalId, (e) => {
      if (this.disposed) return;
      if (!this.watching || this.parsedListeners.size === 0) {
        this.screen.feed(e.data, this.afterChunk);
        return;
      }
      // Frame by frame: after each piece, an empty write whose callback the emulator calls as soon as the
      // pieces before it are parsed — before the next piece, even when several chunks are parsed in one go.
      const pieces = splitFrames(e.data);
      for (let i = 0; i < pieces.length; i++) {
        this.screen.feed(pieces[i], i === pieces.length - 1 ? this.afterLastPiece : undefined);
        this.screen.term.write('', this.afterPiece);
      }
    });
  }

  /** Called after every parsed chunk (the monitor uses it for early evidence of work after an input). */
  onEveryParse(fn: () => void): () => void {
    this.parsedListeners.add(fn);
    return () => this.parsedListeners.delete(fn);
  }

  /**
   * The bottom `maxLines` lines as `screen.snapshot(maxLines)` would return them, reusing the scrollback rows
   * read last time (see SnapshotCache): what the status monitor looks at on every settled frame.
   */
  detectSnapshot(maxLines: number): ScreenSnapshot {
    if (!this.cache) return this.screen.snapshot(maxLines);
    const snap = this.cache.snapshot(maxLines);
    const now = Date.now();
    if (now - this.cacheCheckedAt >= CACHE_CHECK_MS) {
      this.cacheCheckedAt = now;
      const full = this.screen.snapshot(maxLines);
      if (!sameSnapshot(snap, full)) {
        logger('screen').warn({ terminalId: this.terminalId }, 'cached snapshot differed from the screen; caching off for this terminal');
        this.cache.dispose();
        this.cache = null;
        return full;
      }
    }
    return snap;
  }

  /**
   * While on, the parse listeners also see every frame inside a chunk, at the moment it is whole. A fast agent's
   * busy frame and final frame often arrive in one pty read (and several reads are parsed in one go): looked at
   * only after the whole chunk, the busy frame is never seen. The monitor turns this on right after an input
   * until it has seen the agent at work; it costs a split and a detection per frame, so it stays off otherwise.
   */
  watchFrames(on: boolean): void {
    this.watching = on;
  }

  private notifyParsed(): void {
    for (const fn of this.parsedListeners) {
      try {
        fn();
      } catch (err) {
        logger('screen').error({ err, terminalId: this.terminalId }, 'a parse listener threw');
      }
    }
  }

  /** `notify`: the parse listeners were not already called frame by frame for this chunk. */
  private onParsed(notify: boolean): void {
    if (this.disposed) return;
    const now = Date.now();
    if (this.lastParsedAt === 0 || now - this.lastParsedAt > this.quietMs) this.lastSettleAt = Math.max(this.lastSettleAt, now - 1);
    this.lastParsedAt = now;
    if (notify) this.notifyParsed();
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
      // Half a frame is not a quiet screen: seen under load, a pause inside Copilot CLI's synchronized update showed an
      // answer cut short ("SECOND-copil") and it was taken as the turn's end. A frame left open too long counts anyway.
      if (this.screen.inSyncUpdate && idleFor < SYNC_UPDATE_MAX_MS) return this.arm(this.quietMs);
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
    this.unsubscribe();
    this.parsedListeners.clear();
    this.cache?.dispose();
    this.screen.dispose();
  }
}

function sameSnapshot(a: ScreenSnapshot, b: ScreenSnapshot): boolean {
  if (a.lines.length !== b.lines.length || a.viewportTop !== b.viewportTop || a.cursorLine !== b.cursorLine) return false;
  for (let i = 0; i < a.lines.length; i++) if (a.lines[i] !== b.lines[i] || a.wrapped?.[i] !== b.wrapped?.[i]) return false;
  return true;
}
