import type { ScreenSnapshot } from '../../screen/snapshot.js';
import { cleanAnswer, stripIndent } from './answer.js';
import { isBlank } from './lines.js';

export interface RowBlock<K extends string> {
  kind: K;
  lines: string[];
}

/**
 * Splits rows `start..end` of a turn into blocks (answer text, tool calls, summaries…). `head` says
 * whether a row starts a new block and of which kind (null: it continues the current one); `continued`
 * may re-classify a block as rows join it. A row the emulator soft-wrapped (a long URL) is glued back
 * onto the row it continues. Rows before the first head are dropped.
 */
export function splitRowBlocks<K extends string>(
  screen: ScreenSnapshot,
  start: number,
  end: number,
  head: (line: string) => K | null,
  continued?: (block: RowBlock<K>, line: string) => void,
): RowBlock<K>[] {
  const { lines } = screen;
  const out: RowBlock<K>[] = [];
  let cur: RowBlock<K> | null = null;
  for (let i = start; i < end; i++) {
    const l = lines[i];
    if (cur && screen.wrapped?.[i]) {
      cur.lines[cur.lines.length - 1] += l;
      continue;
    }
    const kind = head(l);
    if (kind !== null) {
      cur = { kind, lines: [l] };
      out.push(cur);
    } else if (cur) {
      cur.lines.push(l);
      continued?.(cur, l);
    }
  }
  return out;
}

/** A non-blank row at column 0: where Claude Code's and Codex's transcript cells start. */
export function startsAtColumnZero(line: string): boolean {
  return !isBlank(line) && !/^[ \u00a0]/u.test(line);
}

/**
 * The answer of a turn split into `text` / `tool` / other blocks: the text blocks after the last tool
 * call, or, when the turn ended on a tool call, the last run of text blocks before it. Each block loses
 * its leading `marker` and the two-column indent of its continuation rows; blocks are joined by a blank line.
 */
export function answerFromBlocks(blocks: RowBlock<string>[], marker: RegExp): string | null {
  const kinds = blocks.map((b) => b.kind);
  let texts = blocks.slice(kinds.lastIndexOf('tool') + 1).filter((b) => b.kind === 'text');
  if (!texts.length) {
    const lastText = kinds.lastIndexOf('text');
    if (lastText < 0) return null;
    let first = lastText;
    while (first > 0 && kinds[first - 1] === 'text') first--;
    texts = blocks.slice(first, lastText + 1);
  }
  const rows: string[] = [];
  for (const b of texts) {
    if (rows.length) rows.push('');
    rows.push(b.lines[0].replace(marker, ''), ...b.lines.slice(1).map((l) => stripIndent(l, 2)));
  }
  return cleanAnswer(rows);
}
