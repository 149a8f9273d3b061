import { and, asc, count, eq, inArray, isNotNull, isNull, lt, min, notInArray, or, sql, type SQL } from 'drizzle-orm';
import type { CaoDrizzle } from '../db/db.js';
import { journal, terminals } from '../db/schema.js';

/** How long and how much of the journal is kept (CAO_JOURNAL_DAYS, CAO_JOURNAL_MAX_ROWS). */
export interface RetentionSettings {
  /** Rows older than this go (default 14 days). */
  maxAgeMs: number;
  /** Beyond this many rows, the oldest go (default 200,000). */
  maxRows: number;
}

/** Ids per DELETE … IN (…): well under SQLite's bound on bound parameters. */
const CHUNK = 500;

export const DEFAULT_RETENTION: RetentionSettings = { maxAgeMs: 14 * 86_400_000, maxRows: 200_000 };

/** The retention from the environment; a value that is not a positive number is the default. */
export function retentionFromEnv(env: NodeJS.ProcessEnv = process.env): RetentionSettings {
  const positive = (v: string | undefined) => {
    const n = Number(v);
    return v !== undefined && v.trim() !== '' && Number.isFinite(n) && n > 0 ? n : undefined;
  };
  const days = positive(env.CAO_JOURNAL_DAYS);
  const rows = positive(env.CAO_JOURNAL_MAX_ROWS);
  return {
    maxAgeMs: days !== undefined ? days * 86_400_000 : DEFAULT_RETENTION.maxAgeMs,
    maxRows: rows !== undefined ? Math.floor(rows) : DEFAULT_RETENTION.maxRows,
  };
}

export interface RetentionResult {
  byAge: number;
  bySize: number;
}

/**
 * Deletes journal rows older than `maxAgeMs`, then, beyond `maxRows`, the oldest runs whole (a run is never left
 * half-journalled by size: rows outside any run, the hub's own, go one by one): never a row of a run that has a
 * live agent (a terminal row not ended), nor of a live worker outside any run (a warm spare). So a run is journalled
 * whole for as long as any of its agents runs, however old its first rows are. One transaction.
 */
export function applyRetention(db: CaoDrizzle, s: RetentionSettings, now = Date.now()): RetentionResult {
  return db.transaction(
    (tx) => {
      const liveRuns = tx
        .selectDistinct({ runId: terminals.runId })
        .from(terminals)
        .where(and(isNull(terminals.endedAt), isNotNull(terminals.runId)));
      const liveWorkers = tx
        .select({ id: terminals.id })
        .from(terminals)
        .where(and(isNull(terminals.endedAt), eq(terminals.kind, 'worker')));
      const deletable: SQL = and(
        or(isNull(journal.runId), notInArray(journal.runId, liveRuns)),
        or(isNull(journal.terminalId), notInArray(journal.terminalId, liveWorkers)),
      )!;
      const byAge = tx
        .delete(journal)
        .where(and(lt(journal.at, now - s.maxAgeMs), deletable))
        .run().changes;
      const total = tx.select({ n: count() }).from(journal).get()?.n ?? 0;
      let bySize = 0;
      if (total > s.maxRows) {
        // oldest first by each run's first row; a row outside any run is a unit of its own
        const unit = sql<string>`coalesce(${journal.runId}, '#' || ${journal.id})`;
        const units = tx
          .select({ runId: journal.runId, first: min(journal.id), n: count() })
          .from(journal)
          .where(deletable)
          .groupBy(unit)
          .orderBy(asc(min(journal.id)))
          .all();
        const runs: string[] = [];
        const rows: number[] = [];
        let covered = 0;
        for (const u of units) {
          if (covered >= total - s.maxRows) break;
          if (u.runId === null) rows.push(u.first!);
          else runs.push(u.runId);
          covered += u.n;
        }
        for (let i = 0; i < runs.length; i += CHUNK)
          bySize += tx
            .delete(journal)
            .where(and(inArray(journal.runId, runs.slice(i, i + CHUNK)), deletable))
            .run().changes;
        for (let i = 0; i < rows.length; i += CHUNK)
          bySize += tx
            .delete(journal)
            .where(inArray(journal.id, rows.slice(i, i + CHUNK)))
            .run().changes;
      }
      return { byAge, bySize };
    },
    { behavior: 'immediate' },
  );
}
