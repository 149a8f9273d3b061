// The hosts layer on a real PostgreSQL server (tests/support/postgres.ts starts one): leases and their expiry by the
// database's clock, placement with FOR UPDATE SKIP LOCKED under concurrency, calls between hosts by LISTEN/NOTIFY
// with the sweep as the safety net, and a cut link (a TCP proxy in between, cut and healed) that stops a hub acting.
import { join } from 'node:path';
import { drizzle } from 'drizzle-orm/node-postgres';
import { migrate } from 'drizzle-orm/node-postgres/migrator';
import { eq } from 'drizzle-orm';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { hostRequests, hosts } from '../src/db/schema-pg-hosts.js';
import { HostCalls } from '../src/hosts/calls.js';
import type { HostsDb } from '../src/hosts/db.js';
import { expireHosts } from '../src/hosts/expiry.js';
import { HostLease } from '../src/hosts/lease.js';
import { releaseSlot, reserveSlot } from '../src/hosts/placement.js';
import { CaoError } from '../src/util/errors.js';
import { startPostgres, type PgServer } from './support/postgres.js';
import { tcpProxy } from './support/tcp-proxy.js';

let server: PgServer;
const closers: (() => Promise<unknown> | unknown)[] = [];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

beforeAll(async () => {
  server = await startPostgres();
}, 60_000);
afterAll(async () => {
  await server?.stop();
});
afterEach(async () => {
  for (const c of closers.splice(0).reverse()) await c();
});

/** A fresh database with the hosts tables; `url` overrides where the pool connects (a proxy). */
async function freshDb(): Promise<string> {
  const url = await server.createDatabase();
  const h = connectTo(url);
  await migrate(h.db, { migrationsFolder: join(import.meta.dirname, '..', 'drizzle', 'pg') });
  return url;
}
function connectTo(url: string, opts: pg.PoolConfig = {}): HostsDb {
  const pool = new pg.Pool({ connectionString: url, max: 10, ...opts });
  pool.on('error', () => undefined); // a cut connection of an idle client
  closers.push(() => pool.end().catch(() => undefined));
  return { db: drizzle(pool), pool };
}
async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'resolved';
  } catch (e) {
    return e instanceof CaoError ? e.code : `not a CaoError: ${String(e)}`;
  }
}

describe('hosts: leases', () => {
  it('a name is one hub’s while its lease runs; once it ran out, another hub declares it dead (once) and may take it', async () => {
    const h = connectTo(await freshDb());
    const lost: string[] = [];
    const a = new HostLease(h, { name: 'alpha', hubId: 'hub-a', capacity: 4, ttlMs: 400, onLost: (w) => lost.push(w) });
    await a.acquire();
    expect(a.valid()).toBe(true);
    const b = new HostLease(h, { name: 'alpha', hubId: 'hub-b', capacity: 4, ttlMs: 400 });
    await expect(b.acquire()).rejects.toThrow(/host name "alpha" is held by hub hub-a/);
    expect(await codeOf(b.acquire())).toBe('host_name_taken');
    // alpha's hub goes silent: no renewal
    expect(await expireHosts(h)).toEqual([]);
    await sleep(450);
    expect(a.valid()).toBe(false); // it knows by its own clock, without asking
    const [dead, again] = await Promise.all([expireHosts(h), expireHosts(h)]);
    expect([...dead!, ...again!].map((r) => r.name)).toEqual(['alpha']); // two sweepers: declared once
    const [row] = await h.db.select().from(hosts).where(eq(hosts.name, 'alpha'));
    expect(row).toMatchObject({ state: 'dead', hubId: 'hub-a' });
    expect(row!.reason).toMatch(/^its lease ran out at \d{4}-\d\d-\d\dT/);
    // the old hub was told when its lease ran out, by its own clock; a late renewal does not bring it back
    expect(lost).toEqual(['the lease ran out before a renewal was answered']);
    expect(await a.renew()).toBe(false);
    await b.acquire();
    expect(b.valid()).toBe(true);
  });

  it('a hub whose host was declared dead while its lease still ran locally learns it at the next renewal', async () => {
    const h = connectTo(await freshDb());
    const lost: string[] = [];
    const a = new HostLease(h, { name: 'alpha', hubId: 'hub-a', capacity: 1, ttlMs: 60_000, onLost: (w) => lost.push(w) });
    await a.acquire();
    await h.db.update(hosts).set({ state: 'dead', reason: 'declared by hand' }).where(eq(hosts.name, 'alpha'));
    expect(a.valid()).toBe(true);
    expect(await a.renew()).toBe(false);
    expect(a.valid()).toBe(false);
    expect(lost).toEqual(['another hub declared this host dead or took its name']);
    await a.stop();
  });

  it('a clean stop frees the name at once; renewals keep a lease and report the worker count', async () => {
    const h = connectTo(await freshDb());
    let workers = 0;
    const a = new HostLease(h, { name: 'alpha', hubId: 'hub-a', capacity: 4, ttlMs: 300, renewMs: 50, workers: () => workers });
    await a.acquire();
    a.start();
    workers = 3;
    await sleep(700); // more than two leases: renewed all along
    expect(a.valid()).toBe(true);
    expect(await expireHosts(h)).toEqual([]);
    expect((await h.db.select().from(hosts))[0]).toMatchObject({ state: 'live', workers: 3 });
    await a.stop({ release: true });
    expect((await h.db.select().from(hosts))[0]).toMatchObject({ state: 'stopped', reason: 'its hub stopped' });
    const b = new HostLease(h, { name: 'alpha', hubId: 'hub-b', capacity: 2 });
    expect((await b.acquire()).hubId).toBe('hub-b');
  });

  it('bad names and capacities are refused before anything is written', async () => {
    const h = connectTo(await freshDb());
    expect(() => new HostLease(h, { name: 'Alpha!', hubId: 'x', capacity: 1 })).toThrow(/host name "Alpha!" must be 1-40 lowercase/);
    expect(() => new HostLease(h, { name: 'ok', hubId: 'x', capacity: -1 })).toThrow(/capacity/);
    expect(await h.db.select().from(hosts)).toEqual([]);
  });

  it('a cut link: the hub stops acting within one lease, the others declare it dead; healed, it must take its name again', async () => {
    const url = await freshDb();
    const proxy = await tcpProxy(server.port);
    closers.push(() => proxy.close());
    const far = connectTo(url.replace(/:\d+\//, `:${proxy.port}/`), { connectionTimeoutMillis: 200, query_timeout: 200 });
    const near = connectTo(url);
    const lost: string[] = [];
    const a = new HostLease(far, { name: 'alpha', hubId: 'hub-a', capacity: 2, ttlMs: 600, renewMs: 100, onLost: (w) => lost.push(w) });
    await a.acquire();
    a.start();
    await sleep(300);
    expect(a.valid()).toBe(true);
    const cutAt = Date.now();
    await proxy.cut();
    while (a.valid()) await sleep(10);
    expect(Date.now() - cutAt).toBeLessThanOrEqual(600);
    expect(lost).toHaveLength(1);
    expect(lost[0]).toMatch(/database could not be reached|ran out before a renewal/);
    // on the database's side the lease ends a little later; then another hub declares alpha dead
    let dead: string[] = [];
    for (let i = 0; i < 50 && !dead.length; i++) {
      dead = (await expireHosts(near)).map((r) => r.name);
      if (!dead.length) await sleep(50);
    }
    expect(dead).toEqual(['alpha']);
    await proxy.heal();
    expect(await a.renew()).toBe(false); // lost stays lost
    const again = new HostLease(far, { name: 'alpha', hubId: 'hub-a2', capacity: 2, ttlMs: 600 });
    await again.acquire();
    expect(again.valid()).toBe(true);
    await a.stop();
  });
});

describe('hosts: placement', () => {
  async function threeHosts(h: HostsDb) {
    for (const [name, capacity, labels] of [
      ['a', 1, []],
      ['b', 2, ['gpu']],
      ['c', 0, []],
    ] as const) {
      const l = new HostLease(h, { name, hubId: `hub-${name}`, capacity, labels: [...labels], ttlMs: 60_000 });
      await l.acquire();
    }
  }

  it('placements at once never give a host more than its capacity (SKIP LOCKED), and say why when none has room', async () => {
    const h = connectTo(await freshDb(), { max: 12 });
    await threeHosts(h);
    const results = await Promise.all(
      Array.from({ length: 10 }, () =>
        reserveSlot(h).then(
          (r) => r.name,
          (e: CaoError) => e.code,
        ),
      ),
    );
    expect(results.filter((r) => r === 'a')).toHaveLength(1);
    expect(results.filter((r) => r === 'b')).toHaveLength(2);
    expect(results.filter((r) => r === 'no_host_with_room')).toHaveLength(7);
    await expect(reserveSlot(h)).rejects.toThrow(/no live host has room for another worker \(a: 1\/1, b: 2\/2, c: 0\/0\)/);
    await releaseSlot(h, 'b', false);
    expect((await reserveSlot(h)).name).toBe('b');
  });

  it('the least loaded host with room goes first; a preferred label before that; a named host, or why not', async () => {
    const h = connectTo(await freshDb());
    await threeHosts(h);
    expect((await reserveSlot(h, { labels: ['gpu'] })).name).toBe('b');
    expect((await reserveSlot(h)).name).toBe('a'); // a 0/1 before b 1/2 … by load, then name
    expect(await codeOf(reserveSlot(h, { host: 'c' }))).toBe('host_full');
    expect(await codeOf(reserveSlot(h, { host: 'zeta' }))).toBe('unknown_host');
    expect(await codeOf(reserveSlot(h, { host: 'Not A Name' }))).toBe('bad_host_name');
    await h.db.update(hosts).set({ state: 'dead', reason: 'its lease ran out at x' }).where(eq(hosts.name, 'b'));
    await expect(reserveSlot(h, { host: 'b' })).rejects.toThrow(/host "b" is dead: its lease ran out at x/);
  });

  it('with no host at all, says how to start one', async () => {
    const h = connectTo(await freshDb());
    await expect(reserveSlot(h)).rejects.toThrow(/no live host: start one with `cao-mcp serve --host-name NAME`/);
  });
});

describe('hosts: calls between hosts', () => {
  it('a call is carried out by its target and answered; an error comes back with its code', async () => {
    const url = await freshDb();
    const a = await new HostCalls(connectTo(url), { host: 'a' }).start();
    const b = await new HostCalls(connectTo(url), {
      host: 'b',
      handler: async (kind, payload, from) => {
        if (kind === 'fail') throw new CaoError('not_found', 'no such worker');
        return { kind, payload, from };
      },
    }).start();
    closers.push(
      () => a.close(),
      () => b.close(),
    );
    expect(await a.call('b', 'echo', { x: 1 })).toEqual({ kind: 'echo', payload: { x: 1 }, from: 'a' });
    const err = await a.call('b', 'fail', {}).catch((e: CaoError) => e);
    expect(err).toBeInstanceOf(CaoError);
    expect(err).toMatchObject({ code: 'not_found', message: 'no such worker' });
    expect(b.stats.served).toBe(2);
  });

  it('600 calls from two hosts to one that two hubs serve at once (two connections claiming): each carried out exactly once', async () => {
    const url = await freshDb();
    const seen: number[] = [];
    const handler = async (_k: string, p: unknown) => {
      seen.push((p as { n: number }).n);
      await sleep(Math.random() * 2);
      return (p as { n: number }).n * 2;
    };
    const b1 = await new HostCalls(connectTo(url), { host: 'b', handler }).start();
    const b2 = await new HostCalls(connectTo(url), { host: 'b', handler }).start();
    const a = await new HostCalls(connectTo(url, { max: 20 }), { host: 'a' }).start();
    const c = await new HostCalls(connectTo(url, { max: 20 }), { host: 'c' }).start();
    closers.push(
      () => a.close(),
      () => c.close(),
      () => b1.close(),
      () => b2.close(),
    );
    const results = await Promise.all(Array.from({ length: 600 }, (_, n) => (n % 2 ? a : c).call<number>('b', 'double', { n })));
    expect(results).toEqual(Array.from({ length: 600 }, (_, n) => n * 2));
    expect(seen.length).toBe(600);
    expect(new Set(seen).size).toBe(600);
    expect(b1.stats.served + b2.stats.served).toBe(600);
    expect(b1.stats.served).toBeGreaterThan(0);
    expect(b2.stats.served).toBeGreaterThan(0);
  }, 60_000);

  it('a request made while the target’s LISTEN connection was cut is served by the sweep', async () => {
    const url = await freshDb();
    const h = connectTo(url);
    const b = await new HostCalls(h, { host: 'b', handler: async () => 'late but there', sweepMs: 150 }).start();
    const a = await new HostCalls(connectTo(url), { host: 'a', sweepMs: 150 }).start();
    closers.push(
      () => a.close(),
      () => b.close(),
    );
    // end every LISTEN session of the server but a's: b's listener is gone without its knowing yet
    const admin = connectTo(url);
    const listeners = await admin.pool.query<{ pid: number }>(
      `select pid from pg_stat_activity where datname = current_database() and query like 'LISTEN%' and pid <> pg_backend_pid()`,
    );
    expect(listeners.rows.length).toBe(2);
    await admin.pool.query(`select pg_terminate_backend(pid) from pg_stat_activity where datname = current_database() and query like 'LISTEN%'`);
    const t0 = Date.now();
    expect(await a.call('b', 'x', {}, 5_000)).toBe('late but there');
    expect(Date.now() - t0).toBeLessThan(3_000);
    expect(b.stats.swept).toBeGreaterThan(0);
  });

  it('a call to a host that died fails with host_dead once its lease is declared over; one nobody takes, at its deadline', async () => {
    const url = await freshDb();
    const h = connectTo(url);
    const lease = new HostLease(h, { name: 'b', hubId: 'hub-b', capacity: 1, ttlMs: 300 });
    await lease.acquire();
    const a = await new HostCalls(h, { host: 'a', sweepMs: 100 }).start();
    closers.push(() => a.close());
    const pending = a.call('b', 'x', {}, 10_000).catch((e: CaoError) => e);
    await sleep(400);
    expect((await expireHosts(h)).map((r) => r.name)).toEqual(['b']);
    const err = await pending;
    expect(err).toMatchObject({ code: 'host_dead', message: 'host b is dead (its lease ran out)' });
    const t0 = Date.now();
    expect(await codeOf(a.call('nobody', 'x', {}, 300))).toBe('timeout');
    expect(Date.now() - t0).toBeLessThan(1_500);
    const rows = await h.db.select().from(hostRequests).where(eq(hostRequests.target, 'nobody'));
    expect(rows).toMatchObject([{ state: 'failed', errorCode: 'timeout' }]);
  });

  it('a hub whose lease is not valid claims nothing', async () => {
    const url = await freshDb();
    let may = false;
    const b = await new HostCalls(connectTo(url), { host: 'b', handler: async () => 'done', canAct: () => may, sweepMs: 100 }).start();
    const a = await new HostCalls(connectTo(url), { host: 'a', sweepMs: 100 }).start();
    closers.push(
      () => a.close(),
      () => b.close(),
    );
    const call = a.call('b', 'x', {}, 5_000);
    await sleep(400);
    expect(b.stats.served).toBe(0);
    may = true;
    expect(await call).toBe('done');
  });
});
