// Opening the PostgreSQL store on a real server: a URL that is not postgres://, a port nobody listens on, a wrong
// password, a database that does not exist: each a CaoError that says what went wrong and never the password. And
// hubs that open a fresh database at once all migrate it (one after the other, under the advisory lock).
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { openPgStore, parsePgUrl } from '../src/store/pg/index.js';
import type { Store } from '../src/store/types.js';
import { CaoError } from '../src/util/errors.js';
import { startPostgres, type PgServer } from './support/postgres.js';

const PASSWORD = 'S3cret-Pa55word';
/** How many migrations drizzle/pg holds (hosts, store, …). */
const PG_MIGRATIONS = (
  JSON.parse(readFileSync(join(import.meta.dirname, '..', 'drizzle', 'pg', 'meta', '_journal.json'), 'utf8')) as { entries: unknown[] }
).entries.length;
let server: PgServer;
const opened: Store[] = [];

beforeAll(async () => {
  server = await startPostgres({ passwordAuth: true });
  const c = new pg.Client({ connectionString: server.url });
  await c.connect();
  try {
    await c.query(`CREATE ROLE alice LOGIN PASSWORD '${PASSWORD}'`);
  } finally {
    await c.end();
  }
}, 60_000);
afterEach(async () => {
  for (const s of opened.splice(0)) await s.close();
});
afterAll(async () => {
  await server?.stop();
});

async function refusal(url: string): Promise<CaoError> {
  const r = await openPgStore(url, { connectTimeoutMs: 5000 }).then(
    (s) => {
      opened.push(s);
      return null;
    },
    (e: unknown) => e,
  );
  if (!(r instanceof CaoError)) throw new Error(`expected a CaoError, got ${String(r)}`);
  return r;
}
/** A database owned by alice (who may then create its tables). */
async function aliceDb(): Promise<string> {
  const url = await server.createDatabase();
  const name = new URL(url).pathname.slice(1);
  const c = new pg.Client({ connectionString: server.url });
  await c.connect();
  try {
    await c.query(`ALTER DATABASE "${name}" OWNER TO alice`);
  } finally {
    await c.end();
  }
  return url.replace('//cao@', `//alice:${PASSWORD}@`);
}
async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

describe('openPgStore refuses, saying why, never the password', () => {
  it('a URL of another scheme, or none, or not a URL', async () => {
    for (const url of [
      `mysql://alice:${PASSWORD}@db.example/cao`,
      `sqlite:/tmp/${PASSWORD}.db`,
      `postgres:${PASSWORD}@host/db`,
      `  `,
      `${PASSWORD}@host/db`,
    ]) {
      const e = await refusal(url);
      expect(e.code, url).toBe('bad_database_url');
      expect(e.message).not.toContain(PASSWORD);
      expect(e.message).toMatch(/postgres:\/\/|empty/);
    }
    expect((await refusal(`mysql://alice:${PASSWORD}@db.example/cao`)).message).toContain('"mysql:"');
    const bad = await refusal(`postgres://alice:${PASSWORD}@[bad/cao`);
    expect(bad.code).toBe('bad_database_url');
    expect(bad.message).not.toContain(PASSWORD);
  });

  it('a port with nothing listening', async () => {
    const port = await freePort();
    const e = await refusal(`postgres://alice:${PASSWORD}@127.0.0.1:${port}/cao`);
    expect(e.code).toBe('database_unreachable');
    expect(e.message).toContain(`127.0.0.1:${port}/cao`);
    expect(e.message).toMatch(/ECONNREFUSED|nothing accepts/);
    expect(e.message).not.toContain(PASSWORD);
  });

  it('a wrong password, and none', async () => {
    const url = await aliceDb();
    const wrong = await refusal(url.replace(PASSWORD, 'not-the-Pa55word'));
    expect(wrong.code).toBe('database_unreachable');
    expect(wrong.message).toContain('authentication failed for user "alice"');
    expect(wrong.message).toContain(`127.0.0.1:${server.port}/`);
    expect(wrong.message).not.toContain('not-the-Pa55word');
    expect(wrong.message).not.toContain(PASSWORD);
    const none = await refusal(url.replace(`:${PASSWORD}@`, '@'));
    expect(none.code).toBe('database_unreachable');
    expect(none.message).toContain('authentication failed for user "alice"');
  });

  it('a database that does not exist', async () => {
    const e = await refusal(`postgres://alice:${PASSWORD}@127.0.0.1:${server.port}/no_such_db`);
    expect(e.code).toBe('database_unreachable');
    expect(e.message).toContain('does not exist');
    expect(e.message).not.toContain(PASSWORD);
  });
});

describe('openPgStore', () => {
  it('opens with the right password; where is the URL without it', async () => {
    const url = await aliceDb();
    const s = await openPgStore(url, { applicationName: 'cao-test' });
    opened.push(s);
    expect(s.engine).toBe('postgres');
    expect(s.where).not.toContain(PASSWORD);
    expect(s.where).toBe(url.replace(`:${PASSWORD}@`, '@'));
    expect(await s.terminals.ensureExternal('sup', 1)).toMatchObject({ created: true });
    expect(parsePgUrl(`postgresql://u:${PASSWORD}@h:6000/d?password=${PASSWORD}&sslmode=disable`)).toMatchObject({
      where: 'postgresql://u@h:6000/d?sslmode=disable',
      target: 'h:6000/d',
    });
  });

  it('outlives its idle connections being terminated by the server (no crash; the next call reconnects)', async () => {
    const url = await aliceDb();
    const s = await openPgStore(url, { applicationName: 'cao-terminated', poolSize: 3 });
    opened.push(s);
    await Promise.all([0, 1, 2].map((i) => s.terminals.ensureExternal(`sup-${i}`, i))); // three idle clients now
    const c = new pg.Client({ connectionString: server.url });
    await c.connect();
    try {
      const r = await c.query(`select pg_terminate_backend(pid) from pg_stat_activity where application_name = 'cao-terminated'`);
      expect(r.rowCount).toBeGreaterThan(0);
    } finally {
      await c.end();
    }
    await new Promise((r) => setTimeout(r, 200));
    expect(s.isOpen()).toBe(true);
    expect((await s.terminals.list()).map((t) => t.id)).toEqual(['sup-0', 'sup-1', 'sup-2']);
  });

  it('outlives its connection being terminated inside a transaction (that call fails; no crash; the next call works)', async () => {
    const url = await aliceDb();
    const s = await openPgStore(url, { applicationName: 'cao-tx-terminated', poolSize: 3 });
    opened.push(s);
    await s.terminals.ensureExternal('sup-x', 1);
    // another session holds the row, so the store's transaction waits inside it (SELECT … FOR UPDATE)
    const holder = new pg.Client({ connectionString: url });
    await holder.connect();
    const admin = new pg.Client({ connectionString: server.url });
    await admin.connect();
    try {
      await holder.query(`begin; select * from terminals where id = 'sup-x' for update`);
      const call = s.terminals.ensureExternal('sup-x', 2).then(
        () => null,
        (e: Error) => e,
      );
      const waiting = `select pid from pg_stat_activity where application_name = 'cao-tx-terminated' and wait_event_type = 'Lock'`;
      for (let t = Date.now(); (await admin.query(waiting)).rowCount === 0 && Date.now() - t < 5000;) await new Promise((r) => setTimeout(r, 20));
      const killed = await admin.query(`select pg_terminate_backend(pid) from (${waiting}) w`);
      expect(killed.rowCount).toBe(1);
      expect(await call).toBeInstanceOf(Error);
      await holder.query('rollback');
    } finally {
      await holder.end();
      await admin.end();
    }
    await new Promise((r) => setTimeout(r, 200));
    expect(s.isOpen()).toBe(true);
    expect((await s.terminals.list()).map((t) => t.id)).toEqual(['sup-x']);
  });

  it('hubs opening a fresh database at once all migrate it, once', async () => {
    const url = await aliceDb();
    const stores = await Promise.all(Array.from({ length: 4 }, () => openPgStore(url, { poolSize: 2 })));
    opened.push(...stores);
    for (const [i, s] of stores.entries()) expect(await s.terminals.ensureExternal(`sup-${i}`, i)).toMatchObject({ created: true });
    expect((await stores[0]!.terminals.list()).length).toBe(4);
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    try {
      const applied = await c.query('select hash from drizzle.__drizzle_migrations');
      expect(applied.rowCount).toBe(PG_MIGRATIONS); // each once
      const tables = await c.query(`select tablename from pg_tables where schemaname = 'public' order by 1`);
      expect(tables.rows.map((r) => r.tablename)).toEqual(['host_requests', 'hosts', 'journal', 'messages', 'terminals', 'worktrees']);
    } finally {
      await c.end();
    }
    // opening again finds nothing left to do
    opened.push(await openPgStore(url));
  });
});
