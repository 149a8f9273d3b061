import { openDatabase, type CaoDb } from '../../db/db.js';
import type { Store } from '../types.js';
import { SqliteJournal } from './journal.js';
import { SqliteMessages } from './messages.js';
import { SqliteTerminals } from './terminals.js';
import { SqliteWorktrees } from './worktrees.js';

/** The SQLite engine's store, with its connection (for tests and tools that need the file itself). */
export interface SqliteStore extends Store {
  readonly engine: 'sqlite';
  readonly cao: CaoDb;
}

/**
 * Opens (creating and migrating when needed) the SQLite file, default `$CAO_HOME/cao.db` (db/db.ts), as a Store.
 * better-sqlite3 is synchronous: each method does its work when called, in one synchronous transaction where it must
 * be atomic, and returns a settled promise (a failure is a rejection).
 */
export function openSqliteStore(file?: string): SqliteStore {
  return sqliteStoreOf(openDatabase(file));
}

/** A store over a database already open (its close closes that database). */
export function sqliteStoreOf(cao: CaoDb): SqliteStore {
  const terminals = new SqliteTerminals(cao);
  let open = true;
  return {
    engine: 'sqlite',
    where: cao.file,
    cao,
    terminals,
    messages: new SqliteMessages(cao, terminals),
    worktrees: new SqliteWorktrees(cao.db),
    journal: new SqliteJournal(cao),
    close: async () => {
      open = false;
      cao.close();
    },
    isOpen: () => open && cao.sqlite.open,
  };
}
