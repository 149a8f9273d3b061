/** Text measuring and the few escape sequences the mock agent draws with. */

export const ESC = '\x1b';
export const CSI = '\x1b[';
export const SGR_DIM = '\x1b[2m';
export const SGR_RESET = '\x1b[0m';

const SGR_RE = /\x1b\[[0-9;]*m/g;

/** Code points that take two terminal cells (CJK, full-width forms, most emoji). */
function isWide(cp: number): boolean {
  return (
    (cp >= 0x1100 && cp <= 0x115f) ||
    (cp >= 0x2e80 && cp <= 0xa4cf && cp !== 0x303f) ||
    (cp >= 0xac00 && cp <= 0xd7a3) ||
    (cp >= 0xf900 && cp <= 0xfaff) ||
    (cp >= 0xfe30 && cp <= 0xfe4f) ||
    (cp >= 0xff00 && cp <= 0xff60) ||
    (cp >= 0xffe0 && cp <= 0xffe6) ||
    (cp >= 0x1f300 && cp <= 0x1f64f) ||
    (cp >= 0x1f900 && cp <= 0x1f9ff) ||
    (cp >= 0x20000 && cp <= 0x3fffd)
  );
}

/** Zero-width: combining marks, joiners, variation selectors. */
function isZeroWidth(cp: number): boolean {
  return (cp >= 0x0300 && cp <= 0x036f) || (cp >= 0x200b && cp <= 0x200f) || (cp >= 0xfe00 && cp <= 0xfe0f) || cp === 0x2060;
}

export function charWidth(ch: string): number {
  const cp = ch.codePointAt(0) ?? 0;
  if (cp < 0x20 || (cp >= 0x7f && cp < 0xa0)) return 0;
  if (isZeroWidth(cp)) return 0;
  return isWide(cp) ? 2 : 1;
}

/** Cells a string takes on the terminal (SGR colour codes do not count). */
export function displayWidth(s: string): number {
  let w = 0;
  for (const ch of s.replace(SGR_RE, '')) w += charWidth(ch);
  return w;
}

/** Terminal rows a line takes when the terminal wraps it at `cols`. */
export function rowsFor(line: string, cols: number): number {
  return Math.max(1, Math.ceil(displayWidth(line) / Math.max(1, cols)));
}

/** Cuts plain text to at most `cols` cells, marking the cut with an ellipsis. */
export function truncate(s: string, cols: number): string {
  if (displayWidth(s) <= cols) return s;
  let out = '';
  let w = 0;
  for (const ch of s) {
    const cw = charWidth(ch);
    if (w + cw > cols - 1) break;
    out += ch;
    w += cw;
  }
  return out + '…';
}

/** Hard-wraps plain text into pieces of at most `cols` cells (used for the input box, which the mock lays out itself). */
export function hardWrap(s: string, cols: number): string[] {
  const out: string[] = [];
  let cur = '';
  let w = 0;
  for (const ch of s) {
    const cw = charWidth(ch);
    if (w + cw > cols) {
      out.push(cur);
      cur = '';
      w = 0;
    }
    cur += ch;
    w += cw;
  }
  out.push(cur);
  return out;
}

/** Removes control characters and escape sequences from text that is going to be drawn. */
export function printable(s: string): string {
  return s
    .replace(/\x1b\[[0-?]*[ -/]*[@-~]/g, '')
    .replace(/\x1b[\]P^_][^\x07\x1b]*(\x07|\x1b\\)?/g, '')
    .replace(/\x1b./g, '')
    .replace(/\t/g, '    ')
    .replace(/[\x00-\x09\x0b-\x1f\x7f]/g, '');
}
