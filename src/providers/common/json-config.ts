import { readFileSync } from 'node:fs';

/** JSON(C) config files as several CLIs read them: parsing with comments, deep merging of cao-mcp's settings. */

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
