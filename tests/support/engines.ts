// The store engines the contract suite (tests/store-contract.test.ts) runs against, one factory each: SQLite (a fresh
// file per open(); openAgain opens the same file again, as a second hub on one machine does) and PostgreSQL (a real
// server started on first use, a fresh database per open()).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openPgStore } from '../../src/store/pg/index.js';
import { openSqliteStore } from '../../src/store/sqlite/index.js';
import type { Store } from '../../src/store/types.js';
import { startPostgres, type PgServer } from './postgres.js';

export interface EngineFactory {
  readonly name: 'postgres' | 'sqlite';
  /** A store on fresh, empty data (migrated). */
  open(): Promise<Store>;
  /** Another store, with its own connection(s), on the same data as `store` (another hub on the same database). */
  openAgain(store: Store): Promise<Store>;
  /** Closes every store opened and stops what open() started (afterAll). */
  cleanup(): Promise<void>;
}

function postgresEngine(): EngineFactory {
  let server: Promise<PgServer> | null = null;
  const urls = new Map<Store, string>();
  const track = (store: Store, url: string) => {
    urls.set(store, url);
    return store;
  };
  return {
    name: 'postgres',
    async open() {
      server ??= startPostgres();
      const url = await (await server).createDatabase();
      return track(await openPgStore(url, { poolSize: 6 }), url);
    },
    async openAgain(store) {
      const url = urls.get(store);
      if (!url) throw new Error('openAgain: not a store of this factory');
      return track(await openPgStore(url, { poolSize: 6 }), url);
    },
    async cleanup() {
      for (const s of urls.keys()) await s.close().catch(() => undefined);
      urls.clear();
      if (server) await (await server).stop();
      server = null;
    },
  };
}

function sqliteEngine(): EngineFactory {
  const files = new Map<Store, string>();
  const dirs: string[] = [];
  const track = (store: Store, file: string) => {
    files.set(store, file);
    return store;
  };
  return {
    name: 'sqlite',
    open() {
      const dir = mkdtempSync(join(tmpdir(), 'cao-contract-'));
      dirs.push(dir);
      const file = join(dir, 'cao.db');
      return Promise.resolve(track(openSqliteStore(file), file));
    },
    openAgain(store) {
      const file = files.get(store);
      if (!file) throw new Error('openAgain: not a store of this factory');
      return Promise.resolve(track(openSqliteStore(file), file));
    },
    async cleanup() {
      for (const s of files.keys()) await s.close().catch(() => undefined);
      files.clear();
      for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
    },
  };
}

export const ENGINES: EngineFactory[] = [sqliteEngine(), postgresEngine()];
