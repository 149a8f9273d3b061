import xtermHeadless from '@xterm/headless';
import type { ScreenSnapshot } from './snapshot.js';

// @xterm/headless is CommonJS: take the class off the default export.
const { Terminal } = xtermHeadless as unknown as typeof import('@xterm/headless');
type Terminal = import('@xterm/headless').Terminal;

export interface ScreenOptions {
  cols: number;
  rows: number;
  /** Lines of scrollback kept for answer extraction (long answers scroll off the visible rows). */
  scrollback?: number;
  /** Called with the emulator's replies to terminal queries (cursor position, device attributes…): write them to the pty. */
  onReply?: (data: string) => void;
}

/**
 * One headless terminal emulator, the same size as the pty it renders. Detectors read its rendered rows,
 * never the raw byte stream.
 */
export class Screen {
  readonly term: Terminal;
  private pending = 0;
  private lastWriteAt = 0;

  constructor(opts: ScreenOptions) {
    this.term = new Terminal({
      cols: opts.cols,
      rows: opts.rows,
      scrollback: opts.scrollback ?? 5000,
      allowProposedApi: true,
      convertEol: false,
    });
    if (opts.onReply) this.term.onData(opts.onReply);
  }

  get cols(): number {
    return this.term.cols;
  }
  get rows(): number {
    return this.term.rows;
  }

  /** Feeds output; resolves once the emulator has parsed it. */
  write(data: string | Uint8Array): Promise<void> {
    return new Promise((resolve) => this.feed(data, resolve));
  }

  /**
   * Feeds output; `afterParsed` runs in a microtask once the emulator has parsed it, when `write(data).then(fn)`
   * would have run it, without a promise and two closures per chunk (the hub feeds every pty read through here).
   */
  feed(data: string | Uint8Array, afterParsed?: () => void): void {
    this.pending++;
    this.lastWriteAt = Date.now();
    this.term.write(data, () => {
      this.pending--;
      if (afterParsed) queueMicrotask(afterParsed);
    });
  }

  /** True while written data is not parsed yet. */
  get busy(): boolean {
    return this.pending > 0;
  }

  get lastWrite(): number {
    return this.lastWriteAt;
  }

  /**
   * The application is inside a synchronized update (DECSET 2026): the frame it draws is not finished, and a terminal
   * would not show it yet (Copilot CLI draws every frame that way).
   */
  get inSyncUpdate(): boolean {
    return this.term.modes.synchronizedOutputMode;
  }

  /** The application enabled bracketed paste (DECSET 2004). */
  get bracketedPaste(): boolean {
    return this.term.modes.bracketedPasteMode;
  }

  resize(cols: number, rows: number): void {
    this.term.resize(cols, rows);
  }

  /** The rendered text: scrollback + visible rows, right-trimmed. */
  snapshot(maxLines = Infinity): ScreenSnapshot {
    const buf = this.term.buffer.active;
    const total = buf.length;
    const start = Math.max(0, total - maxLines);
    const lines: string[] = [];
    const wrapped: boolean[] = [];
    for (let y = start; y < total; y++) {
      const line = buf.getLine(y);
      // translateToString(true) keeps spaces the app wrote explicitly; detectors want them gone.
      lines.push((line?.translateToString(true) ?? '').trimEnd());
      wrapped.push(line?.isWrapped ?? false);
    }
    return {
      lines,
      viewportTop: Math.max(0, buf.baseY - start),
      cols: this.term.cols,
      rows: this.term.rows,
      cursorLine: buf.baseY + buf.cursorY - start,
      altScreen: buf.type === 'alternate',
      wrapped,
    };
  }

  dispose(): void {
    this.term.dispose();
  }
}

/** Renders a raw byte stream (e.g. a captured `*_raw.txt`) at the given size and returns its snapshot. */
export async function renderRaw(data: string, cols: number, rows: number): Promise<ScreenSnapshot> {
  const s = new Screen({ cols, rows });
  await s.write(data);
  const snap = s.snapshot();
  s.dispose();
  return snap;
}
