import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

/**
 * Small text helpers shared by the gemini_cli, opencode and kimi_cli providers: they read rendered
 * screen rows (plain text, right-trimmed), never raw escape streams.
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

/** Drops blank lines at both ends. */
export function trimBlankEdges(lines: string[]): string[] {
  let a = 0;
  let b = lines.length;
  while (a < b && lines[a].trim() === '') a++;
  while (b > a && lines[b - 1].trim() === '') b--;
  return lines.slice(a, b);
}

/** Removes the common leading indentation of the non-blank lines (blank lines become empty). */
export function dedent(lines: string[]): string[] {
  let min = Infinity;
  for (const l of lines) {
    if (l.trim() === '') continue;
    min = Math.min(min, l.length - l.trimStart().length);
  }
  if (!Number.isFinite(min)) return lines.map(() => '');
  return lines.map((l) => (l.trim() === '' ? '' : l.slice(min)));
}

/** Joins answer lines into the final text: blank edges dropped, right-trimmed, collapsed runs of 3+ blank lines. */
export function joinAnswer(lines: string[]): string | null {
  const out = trimBlankEdges(lines.map((l) => l.replace(/\s+$/u, '')));
  const text = out.join('\n').replace(/\n{3,}/g, '\n\n');
  return text.trim() === '' ? null : text;
}

/** Writes a file only its owner can read (configs that carry the hub token), creating its directory 0700. */
export function writePrivateFile(file: string, content: string): void {
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  writeFileSync(file, content, { mode: 0o600 });
  chmodSync(file, 0o600);
}

/** The value of `name` in the CLI's environment, then in ours. */
export function envOr(ctxEnv: Record<string, string>, name: string, fallback: string): string {
  return ctxEnv[name] || process.env[name] || fallback;
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
