import type { IBufferCell as Cell, Terminal } from '@xterm/headless';
import { bgParams, cellSgrParams } from '../../../src/screen/cell-sgr.js';

const sgrOf = (c: Cell): string => cellSgrParams(c).join(';');

/**
 * What of a cell's attributes shows on a blank: the background and the lines, or everything when inverse. A TUI
 * may skip a blank with a cursor move in one run and write it in the next: blanks that look the same are
 * written under the current attributes, so both runs give the same row.
 */
function blankLook(c: Cell): string {
  if (c.isInverse()) return sgrOf(c);
  return [c.isUnderline() ? '4' : '', c.isStrikethrough() ? '9' : '', c.isOverline() ? '53' : '', ...bgParams(c)].filter(Boolean).join(';');
}

/** A string rewrite on the characters of a row (tests/support/capture/normalise.ts). */
export interface CellRewrite {
  from: string;
  to: string;
}

interface Run {
  ch: string;
  sgr: string;
  blank: string;
}

/**
 * Rewrites `from` → `to` in a row of cells, whatever escapes separate the characters in the stream (a TUI may
 * colour every character of a path on its own). The new characters take the attributes of the cells they replace.
 */
function rewriteCells(cells: Run[], rewrites: CellRewrite[]): Run[] {
  let out = cells;
  for (const r of rewrites) {
    const from = Array.from(r.from);
    const to = Array.from(r.to);
    const next: Run[] = [];
    for (let i = 0; i < out.length;) {
      if (from.every((ch, k) => out[i + k]?.ch === ch)) {
        to.forEach((ch, k) => next.push({ ...out[i + Math.min(k, from.length - 1)], ch }));
        i += from.length;
      } else next.push(out[i++]);
    }
    out = next;
  }
  return out;
}

/**
 * The visible rows of a screen with their colours and attributes as SGR escapes, one row per line (what
 * `tmux capture-pane -e` gives): no cursor moves, so joined by CR LF it draws the same screen in any terminal.
 * Each row starts from default attributes and resets at its end; trailing blank cells with default
 * attributes are dropped, coloured ones (a TUI's background) are kept. `rewrites` apply to the characters.
 */
export function visibleRowsAnsi(term: Terminal, rewrites: CellRewrite[] = []): string[] {
  const buf = term.buffer.active;
  const rows: string[] = [];
  for (let y = buf.viewportY; y < buf.viewportY + term.rows; y++) {
    const line = buf.getLine(y);
    if (!line) {
      rows.push('');
      continue;
    }
    // last cell that is not a blank that looks like an empty cell
    let end = line.length;
    for (; end > 0; end--) {
      const c = line.getCell(end - 1);
      if (c && !((c.getChars() === '' || c.getChars() === ' ') && blankLook(c) === '')) break;
    }
    const cells: Run[] = [];
    for (let x = 0; x < end; x++) {
      const c = line.getCell(x);
      if (!c || c.getWidth() === 0) continue; // the second half of a wide character
      cells.push({ ch: c.getChars() || ' ', sgr: sgrOf(c), blank: blankLook(c) });
    }
    let out = '';
    let cur: Run = { ch: '', sgr: '', blank: '' };
    for (const c of rewriteCells(cells, rewrites)) {
      const same = c.sgr === cur.sgr || (c.ch === ' ' && c.blank === cur.blank);
      if (!same) {
        out += c.sgr ? `\x1b[0;${c.sgr}m` : '\x1b[0m';
        cur = c;
      }
      out += c.ch;
    }
    rows.push(cur.sgr ? `${out}\x1b[0m` : out);
  }
  return rows;
}
