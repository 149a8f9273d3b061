import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { drizzle } from 'drizzle-orm/node-postgres';
import { migrate } from 'drizzle-orm/node-postgres/migrator';
import pg from 'pg';
import * as schema from '../../db/schema-pg.js';
import { messageOf } from '../../util/errors.js';
import { logger } from '../../util/log.js';
import { packageRoot } from '../../util/paths.js';
import { guardPool } from '../../util/pg-pool.js';
import type { Store } from '../types.js';
import { PgJournalRows } from './journal.js';
import { PgMessageRows } from './messages.js';
import { parsePgUrl, scrub, unreachable, type PgTarget } from './open.js';
import { PgTerminalRows } from './terminals.js';
import { watchMail } from './watch.js';
import { PgWorktreeRows } from './worktrees.js';

export { parsePgUrl } from './open.js';

/** Session advisory lock held while migrating: hubs that start at once migrate one after the other. */
const MIGRATION_LOCK = 0x63616f6d6967; // "caomig"

export interface PgStoreOptions {
  /** Connections in the pool (default 10). */
  poolSize?: number;
  /** Shown in pg_stat_activity (default cao-mcp). */
  applicationName?: string;
  /** How long a connection may take to open (default 10 s). */
  connectTimeoutMs?: number;
}

/** Folder of the PostgreSQL migrations (hosts and store); shipped in the package next to dist/. */
export function pgMigrationsFolder(): string {
  return join(packageRoot(), 'drizzle', 'pg');
}

/**
 * Opens the store on PostgreSQL: checks the URL, connects (CaoError database_unreachable saying where and why, never
 * the password), applies every migration of drizzle/pg under a session advisory lock, and returns the Store.
 */
export async function openPgStore(url: string, opts: PgStoreOptions = {}): Promise<Store> {
  const t = parsePgUrl(url);
  const pool = new pg.Pool({
    connectionString: t.url,
    max: opts.poolSize ?? 10,
    application_name: opts.applicationName ?? 'cao-mcp',
    connectionTimeoutMillis: opts.connectTimeoutMs ?? 10_000,
    // a link that went silent (cut, not closed) is found out by the kernel instead of never
    keepAlive: true,
  });
  const lost = (err: Error) => logger('store').warn({ error: scrub(messageOf(err), t.secrets), where: t.where }, 'a PostgreSQL connection was lost');
  // a connection the server terminated (restart, admin) or a cut link took must not crash the process
  guardPool(pool, lost);
  try {
    let client: pg.PoolClient;
    try {
      client = await pool.connect();
    } catch (err) {
      throw unreachable(t, err);
    }
    await migrateLocked(client, t);
  } catch (err) {
    await pool.end().catch(() => undefined);
    throw err;
  }
  // Statuses and the journal's batches commit without waiting for the WAL's flush: a database crash may lose their
  // last few hundred ms (as SQLite's synchronous=NORMAL may lose them to an OS crash); mail, claims and ends never.
  const relaxed = new pg.Pool({
    connectionString: t.url,
    max: 3,
    application_name: `${opts.applicationName ?? 'cao-mcp'} (statuses)`,
    connectionTimeoutMillis: opts.connectTimeoutMs ?? 10_000,
    keepAlive: true,
    options: '-c synchronous_commit=off',
  });
  guardPool(relaxed, lost);
  return pgStore(pool, relaxed, t);
}

async function migrateLocked(client: pg.PoolClient, t: PgTarget): Promise<void> {
  let broken: Error | undefined;
  try {
    await client.query('select pg_advisory_lock($1)', [MIGRATION_LOCK]);
    try {
      await migrate(drizzle(client), { migrationsFolder: pgMigrationsFolder() });
    } finally {
      await client.query('select pg_advisory_unlock($1)', [MIGRATION_LOCK]);
    }
  } catch (err) {
    broken = err as Error;
    throw new Error(scrub(`migrating the PostgreSQL database at ${t.target} failed: ${messageOf(err)}`, t.secrets), { cause: err });
  } finally {
    // a client whose session may still hold the lock is closed, not returned to the pool
    client.release(broken);
  }
}

function pgStore(pool: pg.Pool, relaxedPool: pg.Pool, t: PgTarget): Store {
  const db = drizzle(pool, { schema });
  const relaxed = drizzle(relaxedPool, { schema });
  let closing: Promise<void> | null = null;
  const watchers = new Set<() => Promise<void>>();
  // the tag of this store's wake-ups (its own watches skip them)
  const origin = randomBytes(4).toString('hex');
  return {
    engine: 'postgres',
    where: t.where,
    terminals: new PgTerminalRows(db, relaxed),
    messages: new PgMessageRows(db, origin),
    worktrees: new PgWorktreeRows(db),
    journal: new PgJournalRows(db, relaxed),
    // the listening connections first: the pool's end waits for every connection it lent
    close: () =>
      (closing ??= Promise.all([...watchers].map((stop) => stop())).then(() => Promise.all([pool.end(), relaxedPool.end()]).then(() => undefined))),
    isOpen: () => closing === null && !pool.ended,
    watchMail: async (onMail) => {
      const stop = await watchMail(pool, origin, onMail);
      const once = async () => {
        watchers.delete(once);
        await stop();
      };
      watchers.add(once);
      return once;
    },
  };
}
