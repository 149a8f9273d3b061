/** Row helpers shared by the provider detectors. All work on rendered, right-trimmed rows. */

/** A horizontal rule drawn with box characters (input-box borders, separators). */
export function isRule(line: string, minRun = 20): boolean {
  const t = line.trim();
  // detectors ask this of many rows per frame: most fail on the first character
  if (t.length < minRun || !isDash(t.charCodeAt(0))) return false;
  let dashes = 0;
  let chars = 0;
  for (const ch of t) {
    chars++;
    if (ch === '─' || ch === '━') dashes++;
  }
  // a rule may carry a short label in its middle ("──── name ────"), but is mostly dashes
  return /^[─━]{3}/u.test(t) && /[─━]{3}$/u.test(t) && dashes >= minRun && dashes / chars > 0.8;
}

/** ─ or ━ */
function isDash(code: number): boolean {
  return code === 0x2500 || code === 0x2501;
}

/** A row made only of `chars` (at least `min` of them), ignoring surrounding spaces: a rule drawn with any box character. */
export function isRuleOf(line: string, chars: string, min = 10): boolean {
  const t = line.trim();
  if (t.length < min) return false;
  for (const ch of t) if (!chars.includes(ch)) return false;
  return true;
}

export function isBlank(line: string | undefined): boolean {
  return line === undefined || line.trim() === '';
}

/** Index of the last non-blank line at or before `from`, or -1. */
export function lastNonBlankIndex(lines: string[], from = lines.length - 1): number {
  for (let i = Math.min(from, lines.length - 1); i >= 0; i--) if (!isBlank(lines[i])) return i;
  return -1;
}

/** Indices of the last `n` non-blank lines, oldest first. */
export function lastNonBlankIndices(lines: string[], n: number, from = lines.length - 1): number[] {
  const out: number[] = [];
  for (let i = Math.min(from, lines.length - 1); i >= 0 && out.length < n; i--) if (!isBlank(lines[i])) out.unshift(i);
  return out;
}

/**
 * Index where the region holding the last `n` non-blank lines starts (0 if there are fewer). Use this, not
 * `lines.length - n`: a full-screen TUI leaves blank rows below its content.
 */
export function tailStart(lines: string[], n: number): number {
  const idx = lastNonBlankIndices(lines, n);
  return idx.length ? idx[0] : 0;
}

/** Index of the last line in [from, to] (inclusive, searching upwards) for which `pred` holds, or -1. */
export function findLastIndex(lines: string[], pred: (l: string, i: number) => boolean, from = lines.length - 1, to = 0): number {
  for (let i = Math.min(from, lines.length - 1); i >= Math.max(0, to); i--) if (pred(lines[i], i)) return i;
  return -1;
}

/** Index of the first line in [from, to] (inclusive) for which `pred` holds, or -1. */
export function findIndex(lines: string[], pred: (l: string, i: number) => boolean, from = 0, to = lines.length - 1): number {
  for (let i = Math.max(0, from); i <= Math.min(to, lines.length - 1); i++) if (pred(lines[i], i)) return i;
  return -1;
}

/** Drops blank lines at both ends. */
export function trimBlankEdges(lines: string[]): string[] {
  let a = 0;
  let b = lines.length;
  while (a < b && isBlank(lines[a])) a++;
  while (b > a && isBlank(lines[b - 1])) b--;
  return lines.slice(a, b);
}

/** Removes the indentation every non-blank line shares. */
export function dedent(lines: string[]): string[] {
  let min = Infinity;
  for (const l of lines) {
    if (isBlank(l)) continue;
    const m = /^[ \u00a0]*/u.exec(l);
    min = Math.min(min, m ? m[0].length : 0);
  }
  if (!Number.isFinite(min) || min === 0) return lines.map((l) => (isBlank(l) ? '' : l));
  return lines.map((l) => (isBlank(l) ? '' : l.slice(min)));
}

/**
 * True when row `i` continues row `i - 1`: the emulator's soft-wrap flag when the snapshot has one, else a
 * full-width previous row (rendered-text fixtures carry no flags).
 */
export function continuesPrevious(screen: { lines: string[]; cols: number; wrapped?: boolean[] }, i: number): boolean {
  if (i <= 0) return false;
  if (screen.wrapped) return screen.wrapped[i] === true;
  return (screen.lines[i - 1]?.length ?? 0) >= screen.cols - 1;
}

/**
 * Joins rows with newlines, keeping a blank row only where the row before it is not blank (so a run of blank
 * rows becomes one, and a leading blank row is dropped). How a dialog's rows become a pending question.
 */
export function joinCollapsingBlanks(rows: string[]): string {
  return rows.filter((r, i, a) => r !== '' || (i > 0 && a[i - 1] !== '')).join('\n');
}
