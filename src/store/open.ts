import { openSqliteStore } from './sqlite/index.js';
import type { Store } from './types.js';

/** Opens the store: the SQLite file (`dbFile`, default `$CAO_HOME/cao.db`). */
export function openStore(opts: { dbFile?: string } = {}): Store {
  // PostgreSQL when CAO_DATABASE_URL is set goes here (src/store/pg/).
  return openSqliteStore(opts.dbFile);
}
