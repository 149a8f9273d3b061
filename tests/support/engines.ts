// The store engines the contract suite (tests/store-contract.test.ts) runs against, one factory each. PostgreSQL for
// now: a real server started on first use, a fresh database per open(). SQLite joins this list when its engine lands.
import { openPgStore } from '../../src/store/pg/index.js';
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

export const ENGINES: EngineFactory[] = [postgresEngine()];
