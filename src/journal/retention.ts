import type { RetentionSettings } from '../store/types.js';

/** How long and how much of the journal is kept (CAO_JOURNAL_DAYS, CAO_JOURNAL_MAX_ROWS); applied by the store (JournalRows.applyRetention). */
export type { RetentionResult, RetentionSettings } from '../store/types.js';

/** Default: 14 days, 200,000 rows. */
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
