// Wake-ups across hubs on PostgreSQL: mail one hub stores NOTIFYs the others (store.watchMail), a listening connection
// the server drops is replaced, and a stopped watch or a closed store hears nothing more.
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openPgStore } from '../src/store/pg/index.js';
import type { Store } from '../src/store/types.js';
import { startPostgres, type PgServer } from './support/postgres.js';
import { waitFor } from './support/procs.js';

let server: PgServer;
const stores: Store[] = [];
beforeAll(async () => {
  server = await startPostgres();
}, 60_000);
afterAll(async () => {
  for (const s of stores) await s.close().catch(() => undefined);
  await server?.stop();
});

async function two(): Promise<[Store, Store, string]> {
  const url = await server.createDatabase();
  const a = await openPgStore(url, { poolSize: 4 });
  const b = await openPgStore(url, { poolSize: 4 });
  stores.push(a, b);
  for (const id of ['aaaaaaa1', 'aaaaaaa2']) await a.terminals.insert({ id, kind: 'worker', status: 'idle', createdAt: Date.now() });
  return [a, b, url];
}

describe('PostgreSQL: mail wakes the other hubs', () => {
  it('a batch stored by one store wakes a watcher of another with each receiver, once per batch', async () => {
    const [a, b] = await two();
    const heard: string[] = [];
    const stop = await a.watchMail!((r) => heard.push(r));
    await b.messages.insertBatch(
      [
        { senderId: 'sup', receiverId: 'aaaaaaa1', body: 'one', kind: 'message' },
        { senderId: 'sup', receiverId: 'aaaaaaa1', body: 'two', kind: 'message' },
        { senderId: 'sup', receiverId: 'aaaaaaa2', body: 'three', kind: 'message' },
        { senderId: 'sup', receiverId: 'nobody00', body: 'refused', kind: 'message' },
      ],
      Date.now(),
    );
    await waitFor(
      () => heard.length,
      (n) => n >= 2,
      5_000,
    );
    await new Promise((r) => setTimeout(r, 200));
    expect(heard.sort()).toEqual(['aaaaaaa1', 'aaaaaaa2']);
    await stop();
    await b.messages.insertBatch([{ senderId: 'sup', receiverId: 'aaaaaaa1', body: 'after', kind: 'message' }], Date.now());
    await new Promise((r) => setTimeout(r, 300));
    expect(heard).toHaveLength(2);
  });

  it('a listening connection the server terminates is replaced: the next mail is heard', async () => {
    const [a, b, url] = await two();
    const heard: string[] = [];
    await a.watchMail!((r) => heard.push(r));
    const admin = new pg.Client({ connectionString: url });
    await admin.connect();
    try {
      const killed = await admin.query(
        `select pg_terminate_backend(pid) from pg_stat_activity where query ilike 'LISTEN%' and datname = current_database()`,
      );
      expect(killed.rowCount).toBe(1);
    } finally {
      await admin.end();
    }
    // listening again takes a moment: send until one is heard
    await waitFor(
      async () => {
        await b.messages.insertBatch([{ senderId: 'sup', receiverId: 'aaaaaaa2', body: 'again', kind: 'message' }], Date.now());
        return heard.length;
      },
      (n) => n > 0,
      10_000,
    );
    expect(heard[0]).toBe('aaaaaaa2');
  });

  it('close stops the watches (and does not hang on their connections)', async () => {
    const [a] = await two();
    await a.watchMail!(() => undefined);
    await a.watchMail!(() => undefined);
    const t0 = Date.now();
    await a.close();
    expect(Date.now() - t0).toBeLessThan(3_000);
    expect(a.isOpen()).toBe(false);
  });
});
