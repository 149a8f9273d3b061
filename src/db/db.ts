import Database from 'better-sqlite3';
import { drizzle, type BetterSQLite3Database } from 'drizzle-orm/better-sqlite3';
import { migrate } from 'drizzle-orm/better-sqlite3/migrator';
import { chmodSync, closeSync, existsSync, mkdirSync, openSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { caoHome, packageRoot } from '../util/paths.js';
import * as schema from './schema.js';

export type CaoDrizzle = BetterSQLite3Database<typeof schema>;

export interface CaoDb {
  /** The drizzle instance (schema-aware). */
  readonly db: CaoDrizzle;
  /** The underlying better-sqlite3 connection. */
  readonly sqlite: Database.Database;
  /** Absolute path of the database file. */
  readonly file: string;
  close(): void;
}

/** Folder of the generated migrations; shipped in the package next to dist/. */
export function migrationsFolder(): string {
  return join(packageRoot(), 'drizzle');
}

/**
 * Opens (creating if needed) the cao database, default `$CAO_HOME/cao.db`, and brings its schema up to
 * date. Private to the user: a new directory is made 0700, the file and its WAL/SHM companions 0600.
 */
export function openDatabase(file?: string): CaoDb {
  const path = resolve(file ?? join(caoHome(), 'cao.db'));
  const dir = dirname(path);
  // Only a directory we create is made 0700: never chmod a directory the caller already had (e.g. cwd).
  if (!existsSync(dir)) mkdirSync(dir, { recursive: true, mode: 0o700 });
  // Create the file 0600 ourselves so it never exists with umask permissions (SQLite copies the main
  // file's mode to -wal/-shm).
  closeSync(openSync(path, 'a', 0o600));
  chmodSync(path, 0o600);

  const sqlite = new Database(path);
  try {
    sqlite.pragma('journal_mode = WAL');
    sqlite.pragma('busy_timeout = 5000');
    sqlite.pragma('synchronous = NORMAL');
    sqlite.pragma('foreign_keys = ON');
    const db = drizzle(sqlite, { schema });
    migrateWithRetry(db);
    for (const extra of [`${path}-wal`, `${path}-shm`]) {
      try {
        chmodSync(extra, 0o600);
      } catch {
        /* not there (yet) */
      }
    }
    return {
      db,
      sqlite,
      file: path,
      close: () => {
        if (sqlite.open) sqlite.close();
      },
    };
  } catch (err) {
    sqlite.close();
    throw err;
  }
}

/**
 * drizzle's migrator reads "last applied" before its (deferred) BEGIN, so two processes opening a fresh
 * file at once can both try to apply the same migration; the loser fails ("table already exists" or
 * busy). Trying again reads the winner's bookkeeping and finds nothing left to do.
 */
function migrateWithRetry(db: CaoDrizzle, tries = 5): void {
  for (let i = 1; ; i++) {
    try {
      migrate(db, { migrationsFolder: migrationsFolder() });
      return;
    } catch (err) {
      if (i >= tries) throw err;
      sleepSync(20 * i + Math.floor(Math.random() * 20));
    }
  }
}

function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}
