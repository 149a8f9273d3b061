/** What both engines' retention by size shares: which units go, and deleting in chunks of ids. */

/** A unit of the journal: one run (runId), or one row outside any run (runId null, its id `first`), with its row count. */
export interface RetentionUnit {
  runId: string | null;
  first: number | null;
  n: number;
}

/** Oldest units first, until they cover `excess` rows: the runs to delete whole, and the rows outside any run. */
export function oldestUnits(units: RetentionUnit[], excess: number): { runs: string[]; rows: number[] } {
  const runs: string[] = [];
  const rows: number[] = [];
  let covered = 0;
  for (const u of units) {
    if (covered >= excess) break;
    if (u.runId === null) rows.push(u.first!);
    else runs.push(u.runId);
    covered += u.n;
  }
  return { runs, rows };
}

/** `items` in slices of at most `size` (statements stay under the engines' limits on bound parameters). */
export function* chunks<T>(items: readonly T[], size: number): Generator<T[]> {
  for (let i = 0; i < items.length; i += size) yield items.slice(i, i + size);
}
