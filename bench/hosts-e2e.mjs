// Many machines, end to end through real hubs (two hub processes with their own CAO_HOMEs on this machine, sharing
// one PostgreSQL: a real server from this machine's binaries, fsync on, as users run it):
// - send_message latency: the call's start on the sender's hub → the text typed into a mock worker, by the worker's
//   own record (one clock: both on this machine). Cross-host (sender on hub A, worker on hub B, the wake-up a NOTIFY)
//   against the same host on PostgreSQL and on SQLite, side by side;
// - intake: 4 sender processes send to 20 mock workers through one hub; stored messages per second, SQLite vs
//   PostgreSQL, the same senders (lib/sender.mjs, lean MCP over HTTP);
// - placement: assign on the other host (placed there, started there) against assign on the caller's own.
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import Database from 'better-sqlite3';
import pg from 'pg';
import { BENCH_DIR, REPO, args, headline, line, log, sleep, summarize, writeResult } from './lib/stats.mjs';
import { readRecord, startHub } from './lib/hub.mjs';
import { startPostgres } from '../scripts/lib/postgres.mjs';

const run_ = promisify(execFile);

/** Messages not yet delivered, read from the hub's store. */
function openCounter(engine, hub, url) {
  if (engine === 'sqlite') {
    const db = new Database(join(hub.home, 'cao.db'), { readonly: true });
    return {
      open: async () => db.prepare(`select count(*) as n from messages where status in ('pending','delivering')`).get().n,
      close: async () => db.close(),
    };
  }
  const pool = new pg.Pool({ connectionString: url, max: 2 });
  pool.on('error', () => undefined);
  return {
    open: async () => Number((await pool.query(`select count(*) as n from messages where status in ('pending','delivering')`)).rows[0].n),
    close: () => pool.end(),
  };
}

async function assignMany(client, n, extra = {}) {
  const ids = [];
  for (let i = 0; i < n; i += 5)
    ids.push(
      ...(await Promise.all(
        Array.from({ length: Math.min(5, n - i) }, (_, k) =>
          client.call('assign', { agent_profile: 'developer', provider: 'mock', message: `warm up ${i + k}`, ...extra }).then((r) => r.terminal_id),
        ),
      )),
    );
  return ids;
}

async function until(fn, ms) {
  for (const t = Date.now(); !(await fn()) && Date.now() - t < ms;) await sleep(50);
}

/** Intake through one hub: SENDERS processes, `total` messages to AGENTS mock workers; stored per second. */
export async function intake(engine, url, total) {
  const AGENTS = 20;
  const SENDERS = 4;
  const env = engine === 'postgres' ? { CAO_DATABASE_URL: url, CAO_HOST_NAME: 'intake' } : {};
  const hub = await startHub({ env: { ...env, CAO_MOCK_SCRIPT: JSON.stringify({ default: { answer: 'ok' } }), CAO_WARM_POOL: '0' }, collect: false });
  try {
    const boss = await hub.client('intake-boss');
    const ids = await assignMany(boss, AGENTS);
    const counter = openCounter(engine, hub, url);
    await until(async () => (await counter.open()) === 0, 60_000);
    const send = (tag, n) =>
      Promise.all(
        Array.from({ length: SENDERS }, (_, k) =>
          run_(
            process.execPath,
            [join(BENCH_DIR, 'lib', 'sender.mjs'), hub.url, hub.token, `${tag}${k}`, String(n / SENDERS), ids.join(','), 'raw'],
            {
              cwd: REPO,
              maxBuffer: 1 << 20,
            },
          ).then((r) => JSON.parse(r.stdout)),
        ),
      );
    await send('warm', 400);
    await until(async () => (await counter.open()) === 0, 60_000);
    const senders = await send('in', total);
    const sent = senders.reduce((a, s) => a + s.sent, 0);
    const failed = senders.reduce((a, s) => a + s.failed, 0);
    const secs = (Math.max(...senders.map((s) => s.lastAt)) - Math.min(...senders.map((s) => s.firstAt))) / 1000;
    await until(async () => (await counter.open()) === 0, 180_000);
    const left = await counter.open();
    await counter.close();
    const r = { engine, sent, failed, storedInSec: Math.round(secs * 100) / 100, inPerSec: Math.round(sent / secs), leftUndelivered: left };
    log(`  intake ${engine}: ${sent} stored in ${r.storedInSec} s = ${r.inPerSec} msg/s (${failed} refused, ${left} left undelivered)`);
    return r;
  } finally {
    await hub.stop().catch(() => undefined);
  }
}

/**
 * `n` send_message calls from `from` to worker `to` (of hub `owner`), one at a time. From the call's start: to the
 * owner's hub claiming it (the inbox's part: stored, woken, claimed; typing starts then), and to the text typed into
 * the worker (by its own record: the typing's part too: paste, the provider's Enter delay, its echo).
 */
async function latency(label, from, owner, to, n) {
  const out = [];
  const sent = [];
  for (let i = 0; i < n; i++) {
    const tag = `lat-${label.replace(/\W+/g, '-')}-${i}`;
    const t0 = performance.timeOrigin + performance.now();
    const r = await from.call('send_message', { receiver_id: to, message: tag });
    sent.push({ mid: r.message_id, t0 });
    let typedAt = null;
    for (const t = Date.now(); typedAt === null && Date.now() - t < 10_000;) {
      const rec = (await readRecord(owner.record)).find((r) => r.event === 'input' && (r.text ?? '').includes(`${tag}\n`));
      if (rec) typedAt = rec.t;
      else await sleep(2);
    }
    if (typedAt === null) throw new Error(`${label}: message ${i} was not typed within 10 s`);
    out.push(typedAt - t0);
    // the mock answers at once; the next is sent once its turn is over (so `claimed` is the inbox's time, not a wait for it)
    await sleep(150);
  }
  const claimedAt = new Map((await owner.events()).filter((e) => e.ev === 'state' && e.state === 'delivering').map((e) => [e.mid, e.t]));
  const claimed = summarize(sent.map((x) => claimedAt.get(x.mid) - x.t0).filter((v) => Number.isFinite(v)));
  const typed = summarize(out);
  log(line(`send_message → claimed, ${label}`, claimed));
  log(line(`send_message → typed, ${label}`, typed));
  return { claimed, typed };
}

export async function run({ quick }) {
  const N = quick ? 60 : 200;
  const TOTAL = quick ? 2000 : 10_000;
  const server = await startPostgres({ fast: false });
  const hubs = [];
  try {
    const url = await server.createDatabase('bench_e2e');
    // --- latency: SQLite one hub; PostgreSQL same host; PostgreSQL across hosts
    const script = JSON.stringify({ default: { answer: 'ok' } });
    const solo = await startHub({ env: { CAO_MOCK_SCRIPT: script, CAO_WARM_POOL: '0' } });
    hubs.push(solo);
    const soloC = await solo.client('lat-sup');
    const [soloW] = await assignMany(soloC, 1);
    await sleep(1000);
    const sqliteSame = await latency('SQLite, same hub', soloC, solo, soloW, N);
    await solo.stop();
    hubs.splice(hubs.indexOf(solo), 1);

    const pgEnv = (name) => ({ CAO_DATABASE_URL: url, CAO_HOST_NAME: name, CAO_MOCK_SCRIPT: script, CAO_WARM_POOL: '0' });
    const a = await startHub({ env: pgEnv('bench-a') });
    hubs.push(a);
    const b = await startHub({ env: pgEnv('bench-b') });
    hubs.push(b);
    const ac = await a.client('lat-sup-a');
    const bc = await b.client('lat-sup-b');
    const [wb] = await assignMany(bc, 1, { host: 'bench-b' });
    await sleep(1000);
    const pgSame = await latency('PostgreSQL, same hub', bc, b, wb, N);
    const pgCross = await latency('PostgreSQL, across hosts', ac, b, wb, N);

    // --- placement: assign on the other host against assign here (each then stopped)
    const assignTimes = async (client, host, n) => {
      const out = [];
      for (let i = 0; i < n; i++) {
        const t0 = performance.now();
        const r = await client.call('assign', { agent_profile: 'developer', provider: 'mock', message: `placed ${i}`, host });
        out.push(performance.now() - t0);
        await client.call('stop_agent', { terminal_id: r.terminal_id });
      }
      return summarize(out);
    };
    const nAssign = quick ? 8 : 24;
    const assignHere = await assignTimes(ac, 'bench-a', nAssign);
    const assignThere = await assignTimes(ac, 'bench-b', nAssign);
    log(line('assign on this host (placed, started, ready)', assignHere));
    log(line('assign on the other host', assignThere));
    for (const h of hubs.splice(0)) await h.stop();

    // --- intake, SQLite vs PostgreSQL, the same senders
    const intakeSqlite = await intake('sqlite', url, TOTAL);
    const intakePg = await intake('postgres', await server.createDatabase('bench_intake'), TOTAL);

    const target = { crossHostP99MaxMs: 50, intakeMinPerSec: 2000 };
    const res = writeResult('hosts-e2e', {
      quick,
      postgres: 'fsync on, synchronous_commit on (the server defaults); both hubs on this machine',
      latency: { sqliteSameHub: sqliteSame, postgresSameHost: pgSame, postgresCrossHost: pgCross },
      placement: { assignHere, assignThere },
      intake: { sqlite: intakeSqlite, postgres: intakePg },
      summary: [
        headline({
          id: 'hosts.crossHostSend',
          label: `send_message from a supervisor on host A to a worker on host B, call start → claimed by B's hub (typing starts): p99 (median ${pgCross.claimed.median} ms; to typed into it: p99 ${pgCross.typed.p99} ms)`,
          value: pgCross.claimed.p99,
          unit: 'ms',
          better: 'lower',
          baseline: { label: 'the same send on one hub with SQLite, p99', value: sqliteSame.claimed.p99, unit: 'ms' },
          ratio: pgCross.claimed.p99 / sqliteSame.claimed.p99,
          ratioOf: 'p99',
          target: `≤ ${target.crossHostP99MaxMs} ms`,
          pass: pgCross.claimed.p99 <= target.crossHostP99MaxMs,
        }),
        headline({
          id: 'hosts.intakePg',
          label: `Inbox intake through one hub on PostgreSQL (4 senders, 20 workers, ${intakePg.sent} messages)`,
          value: intakePg.inPerSec,
          unit: 'msg/s',
          better: 'higher',
          baseline: { label: 'the same on SQLite', value: intakeSqlite.inPerSec, unit: 'msg/s' },
          ratio: intakePg.inPerSec / intakeSqlite.inPerSec,
          target: `≥ ${target.intakeMinPerSec} msg/s`,
          pass: intakePg.inPerSec >= target.intakeMinPerSec,
        }),
        headline({
          id: 'hosts.assignThere',
          label: 'assign placed on another host (reserve, the call carried out there, worker started): median',
          value: assignThere.median,
          unit: 'ms',
          better: 'lower',
          baseline: { label: 'assign on the caller’s own host, median', value: assignHere.median, unit: 'ms' },
          ratio: assignThere.median / assignHere.median,
        }),
      ],
    });
    return res;
  } finally {
    for (const h of hubs) await h.stop().catch(() => undefined);
    await server.stop();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await run(args());
