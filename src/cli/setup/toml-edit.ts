import { parse, TomlError } from 'smol-toml';
import { SetupError, sameValue, withEntry } from './types.js';

/**
 * Parses TOML; a syntax error names the file, line and column. Integers come back as BigInt so that `3600` and
 * `3600.0` differ (Codex ignores an integer timeout).
 */
export function parseToml(text: string, file: string, reader: string): Record<string, unknown> {
  try {
    return parse(text, { integersAsBigInt: true }) as Record<string, unknown>;
  } catch (e) {
    if (!(e instanceof TomlError)) throw e;
    const what = e.message.split('\n')[0].replace(/^Invalid TOML document: /, '');
    throw new SetupError(`${file}:${e.line}:${e.column}: ${reader} cannot read this file: ${what}. Fix it and run setup again; nothing was written.`);
  }
}

const KEY = String.raw`(?:[A-Za-z0-9_-]+|"(?:[^"\\]|\\.)*"|'[^']*')`;
const HEADER = new RegExp(String.raw`^\s*\[\[?\s*(${KEY}(?:\s*\.\s*${KEY})*)\s*\]\]?\s*(?:#.*)?$`);

function headerPath(line: string): string[] | undefined {
  const m = HEADER.exec(line);
  if (!m) return undefined;
  return [...m[1].matchAll(new RegExp(KEY, 'g'))].map(([k]) =>
    k.startsWith('"') ? (JSON.parse(k) as string) : k.startsWith("'") ? k.slice(1, -1) : k,
  );
}

/** Table headers of `lines` (skipping the insides of multi-line strings), with the path each one names. */
function headers(lines: string[]): Array<{ index: number; path: string[] }> {
  const out: Array<{ index: number; path: string[] }> = [];
  let inString: string | undefined;
  lines.forEach((line, index) => {
    if (!inString) {
      const path = headerPath(line);
      if (path) out.push({ index, path });
    }
    // toggle on each unescaped """ or ''' (good enough: the result is checked by parsing it)
    for (const m of line.matchAll(/"""|'''/g)) {
      if (!inString) inString = m[0];
      else if (inString === m[0]) inString = undefined;
    }
  });
  return out;
}

const isPrefix = (prefix: string[], path: string[]) => prefix.length <= path.length && prefix.every((k, i) => path[i] === k);

/**
 * Puts `block` (the text of a table `[<path>]`) into a TOML text by editing lines, so comments and layout elsewhere
 * survive: the existing table and its sub-tables (`[<path>.env]`…) are removed and the block goes where the table
 * was, else at the end. `value` is what the block parses to: the result must parse to the old document with only
 * that entry changed, or nothing is written.
 */
export function setTomlTable(current: string | undefined, file: string, reader: string, path: string[], block: string, value: unknown): string {
  const text = current ?? '';
  const doc = parseToml(text, file, reader);
  const existing = path.reduce<unknown>((t, k) => (t as Record<string, unknown> | undefined)?.[k], doc);
  if (sameValue(existing, value)) return text;
  const eol = text.includes('\r\n') ? '\r\n' : '\n';
  const lines = text.split(/\r?\n/);
  if (lines.at(-1) === '') lines.pop();
  const hs = headers(lines);
  const ours = hs.map((h, i) => ({ ...h, end: hs[i + 1]?.index ?? lines.length })).filter((h) => isPrefix(path, h.path));
  const newLines = block.split('\n');
  let out: string[];
  if (ours.length) {
    const drop = new Set<number>();
    ours.forEach((h, n) => {
      let start = h.index;
      let end = h.end;
      // comments and blank lines just before the next table belong to it
      while (end > h.index + 1 && /^\s*(#.*)?$/.test(lines[end - 1])) end--;
      // a sub-table elsewhere takes the blank lines above it along, so no gap is left
      if (n > 0) while (start > 0 && !lines[start - 1].trim() && !drop.has(start - 1)) start--;
      for (let i = start; i < end; i++) drop.add(i);
    });
    out = lines.flatMap((l, i) => (i === ours[0].index ? newLines : drop.has(i) ? [] : [l]));
  } else if (existing !== undefined) {
    throw new SetupError(
      `${file}: ${path.join('.')} is written as an inline table or dotted keys, which setup does not edit; replace it with:\n\n${block}\n\nNothing was written.`,
    );
  } else {
    out = [...lines];
    if (out.length && out.at(-1)!.trim() !== '') out.push('');
    out.push(...newLines);
  }
  const result = out.join(eol) + eol;
  const check = parseToml(result, file, reader);
  if (!sameValue(check, withEntry(doc, path, value)))
    throw new SetupError(
      `${file}: setup could not add ${path.join('.')} without changing other settings; add it by hand:\n\n${block}\n\nNothing was written.`,
    );
  return result;
}
