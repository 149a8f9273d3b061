import { openPgStore } from './pg/index.js';
import { openSqliteStore } from './sqlite/index.js';
import type { Store } from './types.js';

/**
 * Opens the store: PostgreSQL when `CAO_DATABASE_URL` is set (hubs on many machines share it; refused with a clear
 * error, before anything starts, when the URL is wrong or the server cannot be reached), else the SQLite file
 * (`dbFile`, default `$CAO_HOME/cao.db`).
 */
export async function openStore(opts: { dbFile?: string; env?: NodeJS.ProcessEnv } = {}): Promise<Store> {
  const url = (opts.env ?? process.env).CAO_DATABASE_URL?.trim();
  if (url) return openPgStore(url);
  return openSqliteStore(opts.dbFile);
}
