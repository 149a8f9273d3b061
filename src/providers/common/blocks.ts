import type { ScreenSnapshot } from '../../screen/snapshot.js';
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
