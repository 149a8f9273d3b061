// Many machines, through one PostgreSQL (a real server started from this machine's server binaries, fsync on):
// - a call between two hosts (a request row, NOTIFY, claimed with FOR UPDATE SKIP LOCKED by the target, answered in
//   the row, NOTIFY back): round trip, one at a time and 16 in flight;
// - the same with LISTEN/NOTIFY off (the 1 s sweep alone), to show what the wake-ups are worth;
// - placement (reserve a slot on the least loaded live host of three, then give it back).
// Baseline: `select 1` on the same pool (the floor of anything that goes through the database).
import { join } from 'node:path';
import { drizzle } from 'drizzle-orm/node-postgres';
import { migrate } from 'drizzle-orm/node-postgres/migrator';
import pg from 'pg';
import { REPO, args, dist, headline, line, log, summarize, writeResult } from './lib/stats.mjs';
import { startPostgres } from '../scripts/lib/postgres.mjs';

const { HostCalls } = await import(dist('hosts/calls.js'));
const { HostLease } = await import(dist('hosts/lease.js'));
const { reserveSlot, releaseSlot } = await import(dist('hosts/placement.js'));

async function timed(n, fn) {
  const out = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await fn(i);
    out.push(performance.now() - t0);
  }
  return out;
}

export async function run({ quick }) {
  const N = quick ? 300 : 2000;
  const server = await startPostgres({ fast: false });
  const pools = [];
  const connect = () => {
    const pool = new pg.Pool({ connectionString: url, max: 20 });
    pool.on('error', () => undefined); // the LISTEN sessions this benchmark cuts on purpose
    pools.push(pool);
    return { db: drizzle(pool), pool };
  };
  let url;
  try {
    url = await server.createDatabase('bench');
    const a = connect();
    await migrate(a.db, { migrationsFolder: join(REPO, 'drizzle', 'pg') });
    const b = connect();
    const floor = summarize(await timed(N, () => a.pool.query('select 1')));

    const served = await new HostCalls(b, { host: 'b', handler: async (_k, p) => p }).start();
    const caller = await new HostCalls(a, { host: 'a' }).start();
    await timed(50, () => caller.call('b', 'echo', 1)); // warm-up
    const seq = summarize(await timed(N, (i) => caller.call('b', 'echo', i)));
    const inFlight = 16;
    const conc = [];
    const t0 = performance.now();
    await Promise.all(
      Array.from({ length: inFlight }, async (_, k) => {
        for (let i = k; i < N; i += inFlight) {
          const s = performance.now();
          await caller.call('b', 'echo', i);
          conc.push(performance.now() - s);
        }
      }),
    );
    const concPerSec = N / ((performance.now() - t0) / 1000);
    const concS = summarize(conc);
    await caller.close();
    await served.close();

    // no wake-ups: the sweep alone (what a lost LISTEN connection costs until it is back)
    const SWEEP_N = quick ? 10 : 30;
    const quietB = await new HostCalls(b, { host: 'b2', handler: async (_k, p) => p, sweepMs: 1000 }).start();
    const quietA = await new HostCalls(a, { host: 'a2', sweepMs: 1000 }).start();
    await a.pool.query(`select pg_terminate_backend(pid) from pg_stat_activity where datname = current_database() and query like 'LISTEN%'`);
    await new Promise((r) => setTimeout(r, 200));
    const sweepOnly = summarize(
      await timed(SWEEP_N, async (i) => {
        await quietA.call('b2', 'echo', i);
        // keep the listeners cut: each reconnects at its next sweep
        await a.pool.query(`select pg_terminate_backend(pid) from pg_stat_activity where datname = current_database() and query like 'LISTEN%'`);
      }),
    );
    await quietA.close();
    await quietB.close();

    for (const [name, capacity] of [
      ['h1', 1_000_000],
      ['h2', 1_000_000],
      ['h3', 1_000_000],
    ])
      await new HostLease(a, { name, hubId: `hub-${name}`, capacity, ttlMs: 600_000 }).acquire();
    const place = summarize(
      await timed(N, async () => {
        const h = await reserveSlot(a);
        await releaseSlot(a, h.name, false);
      }),
    );
    const burst = [];
    await Promise.all(
      Array.from({ length: 32 }, async () => {
        const s = performance.now();
        const h = await reserveSlot(a);
        burst.push(performance.now() - s);
        await releaseSlot(a, h.name, false);
      }),
    );
    const burstS = summarize(burst);

    const target = { crossHostP99MaxMs: 50 };
    const res = writeResult('hosts', {
      quick,
      postgres: 'fsync on, synchronous_commit on (the server defaults)',
      floor,
      call: { sequential: seq, concurrent: { inFlight, ...concS, perSec: Math.round(concPerSec) }, sweepOnly },
      placement: { sequential: place, burst32: burstS },
      summary: [
        headline({
          id: 'hosts.call',
          label: `A call from one host to another through PostgreSQL (row + NOTIFY + SKIP LOCKED claim + answer + NOTIFY), one at a time: p99 (median ${seq.median} ms)`,
          value: seq.p99,
          unit: 'ms',
          better: 'lower',
          baseline: { label: '`select 1` on the same pool, p99', value: floor.p99, unit: 'ms' },
          ratio: seq.p99 / floor.p99,
          ratioOf: 'p99',
          target: `≤ ${target.crossHostP99MaxMs} ms`,
          pass: seq.p99 <= target.crossHostP99MaxMs,
        }),
        headline({
          id: 'hosts.callsPerSec',
          label: `Calls between two hosts, ${inFlight} in flight: calls/s (p99 ${concS.p99} ms)`,
          value: concPerSec,
          unit: 'calls/s',
          better: 'higher',
        }),
        headline({
          id: 'hosts.sweepOnly',
          label: 'The same call with LISTEN/NOTIFY cut (the 1 s sweep alone), median',
          value: sweepOnly.median,
          unit: 'ms',
          better: 'lower',
          baseline: { label: 'with NOTIFY, median', value: seq.median, unit: 'ms' },
          ratio: sweepOnly.median / seq.median,
          ratioOf: 'median',
        }),
        headline({
          id: 'hosts.placement',
          label: `Placement: a slot on the least loaded of 3 live hosts (FOR UPDATE SKIP LOCKED), reserved and given back: p99 (median ${place.median} ms; 32 at once: p99 ${burstS.p99} ms)`,
          value: place.p99,
          unit: 'ms',
          better: 'lower',
          baseline: { label: '`select 1`, p99', value: floor.p99, unit: 'ms' },
          ratio: place.p99 / floor.p99,
          ratioOf: 'p99',
        }),
      ],
    });
    console.log('hosts (one PostgreSQL, fsync on; two hubs in one process, each with its own pool)');
    console.log(line('select 1 (floor)', floor));
    console.log(line('call a → b, one at a time', seq));
    console.log(line(`call a → b, ${inFlight} in flight (${Math.round(concPerSec)}/s)`, concS));
    console.log(line('call with NOTIFY cut (sweep 1 s)', sweepOnly));
    console.log(line('placement reserve + release', place));
    console.log(line('placement, 32 at once (reserve)', burstS));
    return res;
  } finally {
    for (const p of pools) await p.end().catch(() => undefined);
    await server.stop();
    log('hosts: server stopped');
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await run(args());
