import type { Screen } from './screen.js';
import type { ScreenSnapshot } from './snapshot.js';

type Term = Screen['term'];

/** The emulator's line store (internal to @xterm/headless): we only listen to its trim event and compare its identity. */
interface LineStore {
  readonly maxLength: number;
  onTrim(listener: (amount: number) => void): { dispose(): void };
}

/**
 * The emulator's input handler (internal): after parsing each chunk it reports which viewport rows it touched
 * (undefined = all), the event xterm.js's renderer repaints from.
 */
interface DirtyRows {
  onRequestRefreshRows(listener: (range: { start: number; end: number } | undefined) => void): { dispose(): void };
}

/**
 * The same snapshot as `Screen.snapshot(maxLines)`, without re-reading what cannot have changed.
 *
 * The status monitor takes a snapshot of the bottom ~340 lines on every settled frame; turning each row into a
 * string costs ~2 µs, so an agent with a full screen of history paid ~0.6 ms per frame, ten frames a second,
 * mostly for scrollback rows that never change. Rows above the viewport are immutable in the emulator: output
 * only ever writes viewport rows; what moves the scrollback is scrolling (rows pushed up, the oldest trimmed
 * when the buffer is full), erasing it (ED 3, a trim from the top), a reset (a new line store) or a resize
 * (reflow). So a cached row is reused only when it was already above the viewport at the last read, shifted by
 * the number of rows trimmed since; every row that scrolled out of the viewport since is read again, and so is the
 * viewport — all of it after a scroll, else only the rows the emulator reports it wrote (a spinner frame: one or
 * two rows).
 * Anything unexpected (alternate screen, resize, a new line store, indices that do not add up, the emulator's
 * internals not where we expect them) falls back to a full read, which is exactly `Screen.snapshot`.
 */
export class SnapshotCache {
  private lines: string[] = [];
  private wrapped: boolean[] = [];
  /** Absolute row (at the last read) of `lines[0]`, and of the first viewport row. */
  private first = 0;
  private viewTop = 0;
  private trimmed = 0;
  private valid = false;
  private store: LineStore | null = null;
  private storeMax = 0;
  private trimSub: { dispose(): void } | null = null;
  private readonly subs: Array<{ dispose(): void }> = [];
  /** Total rows at the last read. */
  private total = 0;
  /** Viewport rows written since the last read (relative to the viewport top); null: unknown, read them all. */
  private dirty: { from: number; to: number } | null = null;
  private dirtyKnown = false;
  private scrolled = false;

  constructor(private readonly term: Term) {
    // A resize reflows wrapped rows (the scrollback too). The alternate screen and a reset show up as a
    // different line store (or none) in snapshot().
    this.subs.push(term.onResize(() => (this.valid = false)));
    // Any scroll (into the scrollback or inside a scroll region) moves viewport rows: read them all.
    this.subs.push(term.onScroll(() => (this.scrolled = true)));
    const input = (term as unknown as { _core?: { _inputHandler?: Partial<DirtyRows> } })._core?._inputHandler;
    if (input && typeof input.onRequestRefreshRows === 'function') {
      this.dirtyKnown = true;
      this.subs.push(
        input.onRequestRefreshRows((range) => {
          const buf = term.buffer.active;
          if (!range || buf.viewportY !== buf.baseY) {
            this.dirty = null;
            this.scrolled = true;
            return;
          }
          const d = (this.dirty ??= { from: Infinity, to: -1 });
          d.from = Math.min(d.from, range.start);
          d.to = Math.max(d.to, range.end);
        }),
      );
    }
  }

  snapshot(maxLines: number): ScreenSnapshot {
    const buf = this.term.buffer.active;
    const total = buf.length;
    const start = Math.max(0, total - maxLines);
    const baseY = buf.baseY;
    const store = buf.type === 'normal' ? lineStore(buf) : null;
    if (store !== this.store || (store && store.maxLength !== this.storeMax)) this.watch(store);

    // Rows [keepFrom, keepTo) can come from the cache: they were scrollback at the last read.
    let keepFrom = 0;
    let keepTo = 0;
    let shift = 0;
    if (this.valid && store) {
      shift = this.first - this.trimmed; // new absolute row of lines[0]
      keepFrom = Math.max(start, shift);
      keepTo = this.viewTop - this.trimmed;
      // The old viewport top can only have moved up by what was trimmed; if it is below the new one, something
      // we do not model happened: read everything.
      if (keepTo > baseY || keepTo < 0) keepTo = keepFrom;
    }
    // Viewport rows can come from the cache too when nothing scrolled and the emulator said which rows it wrote.
    const dirty = this.dirty;
    const viewportKnown =
      this.valid &&
      store !== null &&
      this.dirtyKnown &&
      !this.scrolled &&
      this.trimmed === 0 &&
      baseY === this.viewTop &&
      total === this.total &&
      buf.viewportY === baseY &&
      dirty !== null;
    if (viewportKnown && start === this.first) return this.refreshInPlace(start, baseY, dirty);
    const lines: string[] = new Array(total - start);
    const wrapped: boolean[] = new Array(total - start);
    for (let y = start; y < total; y++) {
      const i = y - start;
      if ((y >= keepFrom && y < keepTo) || (viewportKnown && y >= baseY && y >= shift && (y - baseY < dirty.from || y - baseY > dirty.to))) {
        lines[i] = this.lines[y - shift];
        wrapped[i] = this.wrapped[y - shift];
        continue;
      }
      const line = buf.getLine(y);
      // translateToString(true) keeps spaces the app wrote explicitly; detectors want them gone (same as Screen.snapshot).
      lines[i] = (line?.translateToString(true) ?? '').trimEnd();
      wrapped[i] = line?.isWrapped ?? false;
    }
    if (store) {
      this.lines = lines;
      this.wrapped = wrapped;
      this.first = start;
      this.viewTop = baseY;
      this.total = total;
      this.trimmed = 0;
      this.valid = true;
    }
    return this.result(start, baseY, lines, wrapped);
  }

  /**
   * The common case (a spinner frame, a redrawn footer): same rows as last time, nothing scrolled, the emulator
   * said which viewport rows it wrote. Only those are read again, into the cached rows; with 100 agents at 10
   * frames a second, walking every row of every snapshot was the largest cost of the hub's steady state.
   */
  private refreshInPlace(start: number, baseY: number, dirty: { from: number; to: number }): ScreenSnapshot {
    const buf = this.term.buffer.active;
    const from = Math.max(start, baseY + dirty.from);
    const to = Math.min(this.total - 1, baseY + dirty.to);
    for (let y = from; y <= to; y++) {
      const line = buf.getLine(y);
      this.lines[y - start] = (line?.translateToString(true) ?? '').trimEnd();
      this.wrapped[y - start] = line?.isWrapped ?? false;
    }
    return this.result(start, baseY, this.lines, this.wrapped);
  }

  private result(start: number, baseY: number, lines: string[], wrapped: boolean[]): ScreenSnapshot {
    const buf = this.term.buffer.active;
    this.dirty = { from: Infinity, to: -1 };
    this.scrolled = false;
    return {
      lines: lines.slice(),
      viewportTop: Math.max(0, baseY - start),
      cols: this.term.cols,
      rows: this.term.rows,
      cursorLine: baseY + buf.cursorY - start,
      altScreen: buf.type === 'alternate',
      wrapped: wrapped.slice(),
    };
  }

  private watch(store: LineStore | null): void {
    this.trimSub?.dispose();
    this.trimSub = null;
    this.store = store;
    this.storeMax = store?.maxLength ?? 0;
    this.valid = false;
    this.lines = [];
    this.wrapped = [];
    if (store) this.trimSub = store.onTrim((n) => (this.trimmed += n));
  }

  dispose(): void {
    this.trimSub?.dispose();
    for (const s of this.subs) s.dispose();
    this.subs.length = 0;
  }
}

/** The normal buffer's line store, if the emulator's internals look as expected (else null: no caching). */
function lineStore(buf: unknown): LineStore | null {
  const lines = (buf as { _buffer?: { lines?: unknown } })._buffer?.lines as Partial<LineStore> | undefined;
  if (!lines || typeof lines.onTrim !== 'function' || typeof lines.maxLength !== 'number') return null;
  return lines as LineStore;
}
