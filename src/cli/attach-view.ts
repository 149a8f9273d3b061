import xtermHeadless from '@xterm/headless';
import { cellSgrParams } from '../screen/cell-sgr.js';

const { Terminal } = xtermHeadless as unknown as typeof import('@xterm/headless');
type HeadlessTerminal = import('@xterm/headless').Terminal;
type BufferLine = import('@xterm/headless').IBufferLine;
type BufferCell = import('@xterm/headless').IBufferCell;

export interface Size {
  cols: number;
  rows: number;
}

/** How often the view repaints at most while output streams. */
const FRAME_MS = 16;

/**
 * Shows an agent's screen in the user's terminal, whatever its size. The agent's output is replayed into a
 * local emulator of the agent's size (a mirror), and the user's terminal is painted from the mirror's cells:
 * cropped when the terminal is smaller, with a status line on its last row. Replaying the raw stream into
 * the user's terminal instead would only work at exactly the agent's size (scrolling, absolute cursor moves
 * and scroll regions all assume it). Only changed rows are repainted.
 */
export class AttachView {
  private term: HeadlessTerminal | null = null;
  private painted: string[] = [];
  private paintedStatus = '';
  private status = { left: '', right: '' };
  private flash: { text: string; until: number } | null = null;
  private timer: NodeJS.Timeout | null = null;
  private active = false;
  private modes = { paste: false, appCursor: false, appKeypad: false };

  constructor(
    private readonly out: NodeJS.WritableStream,
    private readonly userSize: () => Size,
    /** Mirror the app's key modes (bracketed paste, application cursor keys) so the user's keys arrive as it expects. */
    private readonly forwardModes: boolean,
  ) {}

  /** Switches the user's terminal to the view (alternate screen: the shell's screen comes back on leave). */
  enter(): void {
    this.active = true;
    this.out.write('\x1b[?1049h\x1b[?7l\x1b[?25l\x1b[0m\x1b[2J\x1b[H');
    this.invalidate();
  }

  leave(): void {
    if (!this.active) return;
    this.active = false;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.out.write('\x1b[0m\x1b[?2004l\x1b[?1l\x1b>\x1b[?7h\x1b[?25h\x1b[?1049l');
  }

  /** Starts over from a full image of the agent's screen (first view, and after the agent was resized). */
  reset(size: Size, data: string): void {
    this.term?.dispose();
    this.term = new Terminal({ cols: size.cols, rows: size.rows, scrollback: 0, allowProposedApi: true });
    this.term.write(data, () => this.schedule());
    this.painted = [];
  }

  write(data: string): void {
    this.term?.write(data, () => this.schedule());
  }

  get agentSize(): Size | null {
    return this.term ? { cols: this.term.cols, rows: this.term.rows } : null;
  }

  /** The status line: `right` (the detach hint) always stays in sight; `left` is cut when the row is short. */
  setStatus(left: string, right: string): void {
    this.status = { left, right };
    this.schedule();
  }

  /** A short notice in the status line (e.g. "read-only"). */
  notice(text: string, ms = 2500): void {
    this.flash = { text, until: Date.now() + ms };
    this.schedule();
    setTimeout(() => this.schedule(), ms + 10).unref();
  }

  /** The user's terminal changed size (or was cleared): paint everything again. */
  invalidate(): void {
    this.painted = [];
    this.paintedStatus = '';
    if (this.active) this.out.write('\x1b[0m\x1b[2J');
    this.schedule();
  }

  private schedule(): void {
    if (!this.active || this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.paint();
    }, FRAME_MS);
  }

  /** The text of the visible part of the mirror, row by row (tests and status use it). */
  visibleText(): string[] {
    if (!this.term) return [];
    const buf = this.term.buffer.active;
    const out: string[] = [];
    for (let y = 0; y < this.term.rows; y++) out.push(buf.getLine(buf.baseY + y)?.translateToString(true) ?? '');
    return out;
  }

  paint(): void {
    if (!this.active) return;
    const { cols: ucols, rows: urows } = this.userSize();
    const viewRows = Math.max(1, urows - 1);
    let out = '';
    const term = this.term;
    let top = 0;
    if (term) {
      const buf = term.buffer.active;
      top = this.firstRow(viewRows);
      const cell = buf.getNullCell();
      for (let vy = 0; vy < viewRows; vy++) {
        const y = top + vy;
        const line = y < term.rows ? buf.getLine(buf.baseY + y) : undefined;
        const { text, width } = line ? renderLine(line, Math.min(ucols, term.cols), cell) : { text: '', width: 0 };
        const row = width < ucols ? `${text}\x1b[0m\x1b[K` : `${text}\x1b[0m`;
        if (this.painted[vy] !== row) {
          out += `\x1b[${vy + 1};1H\x1b[0m${row}`;
          this.painted[vy] = row;
        }
      }
      if (this.forwardModes) out += this.syncModes(term);
    }
    const status = this.statusLine(ucols, term ? { cols: term.cols, rows: term.rows } : null, viewRows);
    if (status !== this.paintedStatus) {
      out += `\x1b[${urows};1H${status}`;
      this.paintedStatus = status;
    }
    // Cursor: where the agent's is, if that spot is on view.
    let cursor = '\x1b[?25l';
    if (term) {
      const buf = term.buffer.active;
      const cy = buf.cursorY - top;
      const hidden = (term as unknown as { _core?: { coreService?: { isCursorHidden?: boolean } } })._core?.coreService?.isCursorHidden;
      if (cy >= 0 && cy < viewRows && buf.cursorX < ucols && !hidden) cursor = `\x1b[${cy + 1};${buf.cursorX + 1}H\x1b[?25h`;
    }
    if (out) this.out.write(`\x1b[?25l${out}${cursor}`);
  }

  /** Which agent row is at the top of the view when the terminal has fewer rows than the agent: keep the cursor and the last text in sight. */
  private firstRow(viewRows: number): number {
    const term = this.term!;
    if (term.rows <= viewRows) return 0;
    const buf = term.buffer.active;
    let last = buf.cursorY;
    for (let y = term.rows - 1; y > last; y--) {
      if ((buf.getLine(buf.baseY + y)?.translateToString(true) ?? '').trim()) {
        last = y;
        break;
      }
    }
    return Math.max(0, Math.min(term.rows - viewRows, last + 1 - viewRows));
  }

  private statusLine(ucols: number, agent: Size | null, viewRows: number): string {
    let { left } = this.status;
    const right = ` ${this.status.right} `;
    if (this.flash && Date.now() < this.flash.until) left = this.flash.text;
    else this.flash = null;
    if (agent && (agent.cols > ucols || agent.rows > viewRows) && !this.flash) left += `  · cropped: agent ${agent.cols}×${agent.rows}`;
    const room = ucols - [...right].length;
    const text = room >= 10 ? clip(` ${left}`, room) : '';
    const line = text + ' '.repeat(Math.max(0, room - [...text].length)) + (room >= 10 ? right : clip(right, ucols));
    return `\x1b[0m\x1b[7m${line}\x1b[0m`;
  }

  private syncModes(term: HeadlessTerminal): string {
    const m = term.modes;
    let s = '';
    if (m.bracketedPasteMode !== this.modes.paste) s += m.bracketedPasteMode ? '\x1b[?2004h' : '\x1b[?2004l';
    if (m.applicationCursorKeysMode !== this.modes.appCursor) s += m.applicationCursorKeysMode ? '\x1b[?1h' : '\x1b[?1l';
    if (m.applicationKeypadMode !== this.modes.appKeypad) s += m.applicationKeypadMode ? '\x1b=' : '\x1b>';
    this.modes = { paste: m.bracketedPasteMode, appCursor: m.applicationCursorKeysMode, appKeypad: m.applicationKeypadMode };
    return s;
  }

  dispose(): void {
    this.leave();
    this.term?.dispose();
    this.term = null;
  }
}

function clip(s: string, n: number): string {
  const chars = [...s];
  return chars.length <= n ? s : chars.slice(0, Math.max(0, n - 1)).join('') + '…';
}

/** One row of cells as text with SGR attributes, at most `cols` columns wide. */
export function renderLine(line: BufferLine, cols: number, cell: BufferCell): { text: string; width: number } {
  let text = '';
  let sgr = '0';
  let x = 0;
  // Drop trailing default blanks: `\x1b[K` clears the rest of the row faster than spaces.
  let end = Math.min(cols, line.length);
  while (end > 0) {
    const c = line.getCell(end - 1, cell);
    if (!c || (c.getChars() !== '' && c.getChars() !== ' ') || !c.isAttributeDefault()) break;
    end--;
  }
  while (x < end) {
    const c = line.getCell(x, cell);
    if (!c) break;
    const w = c.getWidth();
    if (w === 0) {
      x++;
      continue; // second half of a wide character
    }
    const attrs = sgrOf(c);
    if (attrs !== sgr) {
      text += `\x1b[${attrs}m`;
      sgr = attrs;
    }
    if (x + w > cols) {
      text += ' '; // a wide character cut by the edge
      x++;
      continue;
    }
    text += c.getChars() || ' ';
    x += w;
  }
  return { text, width: x };
}

function sgrOf(c: BufferCell): string {
  return ['0', ...cellSgrParams(c)].join(';');
}
