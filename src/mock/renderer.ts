/**
 * Draws like Ink does in Claude Code: finished lines are written once ("static", they scroll up into the
 * terminal's scrollback and are never touched again); the bottom "live" region (spinner, input box, footer,
 * dialogs) is erased with cursor-up + erase-below and drawn again on every frame. The normal screen buffer
 * is used, never the alternate one.
 */
import { CSI, rowsFor } from './text.js';

export interface LiveRegion {
  lines: string[];
  /** Where the text cursor goes: a line of `lines` and a cell column in it. */
  caret?: { line: number; col: number };
}

export interface Output {
  write(data: string, cb?: (err?: Error | null) => void): boolean;
}

export class Renderer {
  /** Every static line so far, to repaint everything after a resize. */
  private readonly transcript: string[] = [];
  /** Row of the cursor, counted from the top row of the live region. */
  private cursorRow = 0;

  constructor(
    private readonly out: Output,
    private cols: number,
  ) {}

  get width(): number {
    return this.cols;
  }

  /** Appends static lines above the live region and draws `live` below them; resolves once written. */
  frame(staticLines: string[], live: LiveRegion): Promise<void> {
    let data = '\r';
    if (this.cursorRow > 0) data += `${CSI}${this.cursorRow}A`;
    data += `${CSI}J`;
    for (const l of staticLines) data += `${l}\r\n`;
    this.transcript.push(...staticLines);
    data += this.drawLive(live);
    return this.write(data);
  }

  /** New terminal width; call `repaint` next. */
  setWidth(cols: number): void {
    this.cols = Math.max(1, cols);
  }

  /**
   * Clears screen and scrollback and paints everything again (after a resize the terminal has reflowed the old
   * rows, so the live region's height is no longer known; Claude Code repaints the same way).
   */
  repaint(live: LiveRegion): Promise<void> {
    let data = `${CSI}H${CSI}2J${CSI}3J`;
    for (const l of this.transcript) data += `${l}\r\n`;
    data += this.drawLive(live);
    return this.write(data);
  }

  private drawLive(live: LiveRegion): string {
    const rows = live.lines.map((l) => rowsFor(l, this.cols));
    const total = rows.reduce((a, b) => a + b, 0);
    let data = live.lines.join('\r\n');
    this.cursorRow = Math.max(0, total - 1);
    if (live.caret && live.lines.length) {
      const before = rows.slice(0, live.caret.line).reduce((a, b) => a + b, 0);
      const target = before + Math.floor(live.caret.col / this.cols);
      const up = this.cursorRow - target;
      if (up > 0) data += `${CSI}${up}A`;
      data += `${CSI}${(live.caret.col % this.cols) + 1}G`;
      this.cursorRow = target;
    }
    return data;
  }

  private write(data: string): Promise<void> {
    return new Promise((resolve) => {
      this.out.write(data, () => resolve());
    });
  }
}
