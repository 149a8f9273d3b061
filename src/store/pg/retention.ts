import { chunks, oldestUnits } from '../retention-pick.js';
import { and, asc, count, eq, inArray, isNotNull, isNull, lt, min, notInArray, or, sql, type SQL } from 'drizzle-orm';
import { journal, terminals } from '../../db/schema-pg.js';
import type { RetentionResult, RetentionSettings } from '../types.js';
import { LOCK_RETENTION, type PgDb } from './db.js';

/** Ids per DELETE … IN (…). */
const CHUNK = 500;

/**
 * The journal's retention on PostgreSQL, as on SQLite (journal/retention.ts says why): rows older than maxAgeMs, then
 * beyond maxRows the oldest runs whole, never a row of a run with a live terminal nor of a live worker outside any
 * run. One transaction, one hub at a time (a transaction lock), so two hubs never count the same rows to delete.
 */
export function applyRetention(db: PgDb, s: RetentionSettings, now: number): Promise<RetentionResult> {
  return db.transaction(async (tx) => {
    await tx.execute(sql`select pg_advisory_xact_lock(${LOCK_RETENTION}, 0)`);
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
    const byAge = (await tx.delete(journal).where(and(lt(journal.at, now - s.maxAgeMs), deletable))).rowCount ?? 0;
    const [t] = await tx.select({ n: count() }).from(journal);
    const total = t?.n ?? 0;
    let bySize = 0;
    if (total > s.maxRows) {
      // oldest first by each run's first row; a row outside any run is a unit of its own
      const unit = sql`coalesce(${journal.runId}, '#' || ${journal.id})`;
      const units = await tx
        .select({ runId: sql<string | null>`min(${journal.runId})`, first: min(journal.id), n: count() })
        .from(journal)
        .where(deletable)
        .groupBy(unit)
        .orderBy(asc(min(journal.id)));
      const { runs, rows } = oldestUnits(units, total - s.maxRows);
      for (const part of chunks(runs, CHUNK)) bySize += (await tx.delete(journal).where(and(inArray(journal.runId, part), deletable))).rowCount ?? 0;
      for (const part of chunks(rows, CHUNK)) bySize += (await tx.delete(journal).where(inArray(journal.id, part))).rowCount ?? 0;
    }
    return { byAge, bySize };
  });
}
