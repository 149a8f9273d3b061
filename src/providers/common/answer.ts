import { dedent, trimBlankEdges } from './lines.js';

/**
 * Final clean-up of an answer cut from the screen: right-trim every row, drop blank rows at both ends,
 * remove shared indentation, and collapse runs of blank rows the TUI inserted between blocks (keeps one).
 * Returns null when nothing is left.
 */
export function cleanAnswer(lines: string[]): string | null {
  const rows = dedent(trimBlankEdges(lines.map((l) => l.replace(/[\s\u00a0]+$/u, ''))));
  const out: string[] = [];
  for (const r of rows) {
    if (r === '' && out.length > 0 && out[out.length - 1] === '') continue;
    out.push(r.replace(/\u00a0/gu, ' '));
  }
  const text = out.join('\n').trim() === '' ? '' : out.join('\n');
  return text === '' ? null : text;
}

/** Strips `n` leading columns from continuation rows that are indented at least that much. */
export function stripIndent(line: string, n: number): string {
  let i = 0;
  while (i < n && i < line.length && (line[i] === ' ' || line[i] === '\u00a0')) i++;
  return line.slice(i);
}
