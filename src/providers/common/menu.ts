import { isBlank } from './lines.js';

/** Numbered option menus ("❯ 1. Yes" / "› 1. Yes, proceed (y)") as TUIs draw them. */

export interface MenuOption {
  /** Index in the lines the menu was parsed from. */
  line: number;
  number: number;
  label: string;
  selected: boolean;
}

/**
 * Parses option rows: optional frame bar (│), optional selection glyph, then `N. label`.
 * `selectors` are the glyphs that mark the highlighted row (Claude ❯, Codex ›, some use >).
 */
export function parseMenuOptions(lines: string[], selectors = '❯›>'): MenuOption[] {
  const sel = selectors.replace(/[\]\\^-]/gu, '\\$&');
  const re = new RegExp(`^[ \\u00a0]*(?:│[ \\u00a0]*)?([${sel}])?[ \\u00a0]*(\\d{1,2})\\.[ \\u00a0]+(\\S.*?)[ \\u00a0]*(?:│)?[ \\u00a0]*$`, 'u');
  const out: MenuOption[] = [];
  lines.forEach((l, i) => {
    const m = re.exec(l);
    if (m) out.push({ line: i, number: Number(m[2]), label: m[3], selected: m[1] !== undefined });
  });
  return out;
}

/**
 * The last run of consecutive option numbers (1, 2, 3…) with exactly one selected row — a live menu
 * rather than a numbered list in prose. Returns [] when there is none.
 */
export function lastMenu(lines: string[], selectors = '❯›>'): MenuOption[] {
  const opts = parseMenuOptions(lines, selectors);
  for (let end = opts.length - 1; end >= 0; end--) {
    let start = end;
    while (start > 0 && opts[start - 1].number === opts[start].number - 1 && opts[start].line - opts[start - 1].line <= 6) start--;
    const run = opts.slice(start, end + 1);
    if (run[0].number === 1 && run.length >= 2 && run.filter((o) => o.selected).length === 1) return run;
    end = start; // skip this run
  }
  return [];
}

/** A dialog drawn where a TUI's input box would be: rows [start, end] and its menu options (indices into the screen). */
export interface MenuDialog {
  start: number;
  end: number;
  options: MenuOption[];
}

/**
 * The live menu (see lastMenu) in `lines[from..]`, with indices into `lines`, and how many non-blank rows
 * follow its last option up to `end`: a dialog's menu sits at the bottom, with only hints below it.
 */
export function menuFrom(lines: string[], from: number, end: number, selectors: string): { options: MenuOption[]; rowsAfter: number } {
  const options = lastMenu(lines.slice(from), selectors).map((o) => ({ ...o, line: o.line + from }));
  let rowsAfter = 0;
  if (options.length) for (let i = options[options.length - 1].line + 1; i <= end; i++) if (!isBlank(lines[i])) rowsAfter++;
  return { options, rowsAfter };
}

/**
 * Keys that pick an option of a menu whose digits select-and-confirm (Claude Code, Codex): the option's
 * digit when `answer` is its number or matches its label; null when the answer is free text.
 */
export function menuDigitFor(answer: string, options: MenuOption[]): string | null {
  const a = answer.trim().toLowerCase();
  if (!a) return null;
  const byNumber = /^(\d{1,2})\.?$/u.exec(a);
  if (byNumber) {
    const n = Number(byNumber[1]);
    return options.some((o) => o.number === n) ? String(n) : null;
  }
  const norm = (s: string) =>
    s
      .toLowerCase()
      .replace(/\s*\((?:[a-z]|esc)\)\s*$/u, '')
      .trim();
  const exact = options.find((o) => norm(o.label) === a);
  if (exact) return String(exact.number);
  const prefix = options.filter((o) => norm(o.label).startsWith(a));
  if (prefix.length === 1) return String(prefix[0].number);
  // "yes" / "no" pick the first option of that kind ("Yes, proceed" before "Yes, and don't ask again")
  const word = /^(yes|no|y|n)\b/u.exec(a)?.[1];
  if (word) {
    const kind = word.startsWith('y') ? 'yes' : 'no';
    const first = options.find((o) => norm(o.label).startsWith(kind));
    if (first) return String(first.number);
  }
  return null;
}

const YES_RE = /^(?:y|yes|ok|okay|allow|approve|accept|trust|confirm|proceed)\b/i;
const NO_RE = /^(?:n|no|deny|reject|decline|cancel|don'?t)\b/i;

/**
 * Which option of a menu `answer` means: its 1-based number, its label (exact, then a unique prefix, then a
 * unique substring, ignoring a trailing "(esc)"-style hint), or yes/no words mapped to the first option that
 * allows / refuses. -1 when it means none of them (the caller then types nothing).
 */
export function pickOption(answer: string, labels: string[]): number {
  const a = answer.trim().toLowerCase();
  if (!a) return -1;
  const num = /^(\d{1,2})\.?$/.exec(a);
  if (num) {
    const n = Number(num[1]);
    return n >= 1 && n <= labels.length ? n - 1 : -1;
  }
  const norm = labels.map((l) =>
    l
      .toLowerCase()
      .replace(/\s*\([^)]*\)\s*$/, '')
      .trim(),
  );
  const unique = (pred: (l: string) => boolean) => {
    const hits = norm.map((l, i) => (pred(l) ? i : -1)).filter((i) => i >= 0);
    return hits.length === 1 ? hits[0] : -1;
  };
  for (const idx of [norm.indexOf(a), unique((l) => l.startsWith(a)), unique((l) => l.includes(a))]) if (idx >= 0) return idx;
  if (YES_RE.test(a)) return norm.findIndex((l) => YES_RE.test(l));
  if (NO_RE.test(a)) return norm.findIndex((l) => NO_RE.test(l));
  return -1;
}
