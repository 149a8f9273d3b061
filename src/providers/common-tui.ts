import { readFileSync } from 'node:fs';
import type { ScreenSnapshot } from '../screen/snapshot.js';

/**
 * Helpers of the TUI providers (gemini_cli, opencode, kimi_cli and their kin) that ./common does not have: rules drawn with
 * any box character, index searches over a row range, and JSON(C) config merging.
 */

/** A row made only of `chars` (at least `min` of them), ignoring surrounding spaces. */
export function isRuleOf(line: string, chars: string, min = 10): boolean {
  const t = line.trim();
  if (t.length < min) return false;
  for (const ch of t) if (!chars.includes(ch)) return false;
  return true;
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

/** Braille spinner glyphs (U+2801–U+28FF) used by many TUIs while busy. */
export const BRAILLE_SPINNER = /[\u2801-\u28ff]/u;

/** Plain objects only (not arrays, not null). */
export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Deep merge for JSON configs: objects merge key by key, anything else from `over` replaces. */
export function deepMerge(base: unknown, over: unknown): unknown {
  if (!isPlainObject(base) || !isPlainObject(over)) return over === undefined ? base : over;
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(over)) out[k] = deepMerge(base[k], v);
  return out;
}

/** Parses JSON with `//` and `/* *\/` comments and trailing commas (JSONC, as several CLIs accept in their settings). */
export function parseJsonc(text: string): unknown {
  return JSON.parse(dropTrailingCommas(stripJsonComments(text)));
}

/**
 * Reads a JSON(C) config file as an object (`{}` when it holds anything else). A file that cannot be read or
 * parsed throws `cannot read <what> <file>: <reason>`.
 */
export function readJsoncObject(file: string, what: string): Record<string, unknown> {
  try {
    const parsed = parseJsonc(readFileSync(file, 'utf8'));
    return isPlainObject(parsed) ? parsed : {};
  } catch (e) {
    throw new Error(`cannot read ${what} ${file}: ${(e as Error).message}`, { cause: e });
  }
}

/** Walks `text` outside string literals: `onCode(i)` returns how many chars it consumed (0 = copy one). */
function scanJson(text: string, onCode: (i: number) => number): string {
  const out: string[] = [];
  let i = 0;
  let inStr = false;
  while (i < text.length) {
    const c = text[i];
    if (inStr) {
      out.push(c);
      if (c === '\\' && i + 1 < text.length) {
        out.push(text[i + 1]);
        i += 2;
        continue;
      }
      if (c === '"') inStr = false;
      i++;
      continue;
    }
    const used = onCode(i);
    if (used > 0) {
      i += used;
      continue;
    }
    if (c === '"') inStr = true;
    out.push(c);
    i++;
  }
  return out.join('');
}

function stripJsonComments(text: string): string {
  return scanJson(text, (i) => {
    if (text[i] === '/' && text[i + 1] === '/') {
      const nl = text.indexOf('\n', i);
      return (nl < 0 ? text.length : nl) - i;
    }
    if (text[i] === '/' && text[i + 1] === '*') {
      const end = text.indexOf('*/', i + 2);
      return (end < 0 ? text.length : end + 2) - i;
    }
    return 0;
  });
}

function dropTrailingCommas(text: string): string {
  return scanJson(text, (i) => (text[i] === ',' && /^\s*[}\]]/.test(text.slice(i + 1)) ? 1 : 0));
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

/**
 * A composer drawn between two rules of `rule` (at least 40 wide), as Copilot CLI, Qwen Code and pi draw it.
 * `last` is the last non-blank row; `bottom` the lowest rule with at most `maxFooterRows` non-blank rows under
 * it, searched from `last` up to the viewport top; `top` the nearest rule above `bottom`, at most `maxHeight`
 * rows up. -1 for what is not found (`top` is -1 when `bottom` is).
 */
export function findRuledComposer(
  s: ScreenSnapshot,
  rule: string,
  maxFooterRows: number,
  maxHeight: number,
): { last: number; top: number; bottom: number } {
  const lines = s.lines;
  const last = findLastIndex(lines, (l) => l.trim() !== '');
  let bottom = -1;
  for (let i = last, below = 0; i >= Math.max(0, s.viewportTop) && below <= maxFooterRows; i--) {
    if (isRuleOf(lines[i], rule, 40)) {
      bottom = i;
      break;
    }
    if (lines[i].trim() !== '') below++;
  }
  const top = bottom < 0 ? -1 : findLastIndex(lines, (l) => isRuleOf(l, rule, 40), bottom - 1, Math.max(0, bottom - maxHeight));
  return { last, top, bottom };
}
