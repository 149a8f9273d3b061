// A hub (dist/hub/hub.js) in a process of its own, for benchmarks: the parent talks MCP to it over HTTP like any
// client, and asks it over IPC for what it saw on its bus (status, input, inbox events with hi-res times) and for
// its own CPU time, RSS and event-loop delay. Listening to the bus costs a push per event; nothing else is added.
// BENCH_DURABLE=1: a durable hub (its workers' ptys in the pty host of its CAO_HOME; at start it adopts the workers a
// previous hub left there). Builds before the pty host ignore the option: `durable` in the ready message says which.
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { dist } from './stats.mjs';

// the build under test: this checkout's dist/, or the one CAO_BENCH_DIST names (run-all.mjs --compare)
const now = () => performance.timeOrigin + performance.now();
const { Hub } = await import(dist('hub/hub.js'));
/** When this process had loaded the build and when its hub had started (hi-res wall clock, as the parent's). */
const times = { imported: now(), started: 0 };

const wantDurable = process.env.BENCH_DURABLE === '1';
const opts = { mode: 'serve', port: 0, host: '127.0.0.1', ...(wantDurable ? { durable: true } : {}) };
// Hub.open: the store CAO_DATABASE_URL names (PostgreSQL, one host among many); builds before it take SQLite only
const hub = await (Hub.open ? await Hub.open(opts) : new Hub(opts)).start();
// (a build without the pty host has neither `adoption` nor `ptyHost()`)
times.started = now();
const durable = wantDurable && typeof hub.ptyHost === 'function';
const hostPid = durable ? (await hub.ptyHost()).hostPid : null;
const events = [];
const collect = process.env.BENCH_COLLECT !== '0';
if (collect) {
  hub.bus.on('status', (e) => events.push({ ev: 'status', id: e.terminalId, status: e.status, previous: e.previous, t: now(), cause: causeOf(e) }));
  hub.bus.on('input', (e) => events.push({ ev: 'input', id: e.terminalId, kind: e.kind, bytes: e.bytes, t: now() }));
  hub.bus.on('message:queued', (e) => events.push({ ev: 'queued', mid: e.messageId, id: e.receiverId, t: now() }));
  hub.bus.on('message:state', (e) => events.push({ ev: 'state', mid: e.messageId, id: e.receiverId, state: e.state, t: now() }));
}

/**
 * The kind of a status event's cause ('input-submitted', 'detected', …). Builds before the restructure said it as
 * a `reason` string instead (run-all.mjs --compare runs them too): the two strings that meant a kind map to it.
 */
function causeOf(e) {
  if (e.cause) return e.cause.kind;
  return { 'input submitted': 'input-submitted', detected: 'detected' }[e.reason] ?? e.reason;
}

/** The hub's live workers: `hub.pool` since the restructure, `hub.orch` in builds before it (--compare runs both). */
const liveWorkers = () => (hub.pool ? hub.pool.live() : hub.orch.liveTerminals());

/** Sampling period of the event-loop delay histogram; it records whole periods, so this is subtracted. */
const ELD_RES_MS = 10;
// Counts of high-rate bus events (a counter increment each), to relate CPU to work done.
const counts = { output: 0, outputBytes: 0, settled: 0, settledQuiet: 0 };
hub.bus.on('output', (e) => {
  counts.output++;
  counts.outputBytes += e.data.length;
});
hub.bus.on('settled', (e) => {
  counts.settled++;
  if (e.quiet) counts.settledQuiet++;
});
let countsMark = { ...counts };

let eld = monitorEventLoopDelay({ resolution: ELD_RES_MS });
eld.enable();
let cpuMark = process.cpuUsage();
let wallMark = now();

function stats() {
  const cpu = process.cpuUsage(cpuMark);
  const wall = now() - wallMark;
  const ms = (ns) => Math.round(Math.max(0, ns / 1e6 - ELD_RES_MS) * 100) / 100;
  return {
    wallMs: Math.round(wall),
    cpuMs: Math.round((cpu.user + cpu.system) / 1000),
    cpuShare: (cpu.user + cpu.system) / 1000 / wall,
    rssMB: Math.round((process.memoryUsage().rss / 2 ** 20) * 10) / 10,
    heapMB: Math.round((process.memoryUsage().heapUsed / 2 ** 20) * 10) / 10,
    eld: { p50: ms(eld.percentile(50)), p99: ms(eld.percentile(99)), max: ms(eld.max), mean: ms(eld.mean), n: eld.count, resolutionMs: ELD_RES_MS },
    perSecond: Object.fromEntries(Object.entries(counts).map(([k, v]) => [k, Math.round(((v - countsMark[k]) / wall) * 1000)])),
    terminals: liveWorkers().length,
    statuses: Object.fromEntries(Object.entries(liveWorkers().reduce((a, t) => ((a[t.status] = (a[t.status] ?? 0) + 1), a), {}))),
  };
}

process.on('message', async (m) => {
  const reply = (body) => process.send({ re: m.id, ...body });
  try {
    switch (m.cmd) {
      case 'events': {
        const out = events.splice(0, events.length);
        reply({ events: out });
        break;
      }
      case 'mark': // start a measuring window
        eld.disable();
        eld = monitorEventLoopDelay({ resolution: ELD_RES_MS });
        eld.enable();
        cpuMark = process.cpuUsage();
        wallMark = now();
        countsMark = { ...counts };
        reply({ ok: true });
        break;
      case 'profile': {
        // CPU profile of the next `ms` (for finding where the hub's time goes; not used by the figures)
        const { Session } = await import('node:inspector');
        const { writeFileSync } = await import('node:fs');
        const session = new Session();
        session.connect();
        const post = (method, params) => new Promise((res, rej) => session.post(method, params, (e, r) => (e ? rej(e) : res(r))));
        await post('Profiler.enable');
        await post('Profiler.start');
        await new Promise((r) => setTimeout(r, m.ms));
        const { profile } = await post('Profiler.stop');
        writeFileSync(m.file, JSON.stringify(profile));
        session.disconnect();
        reply({ ok: true });
        break;
      }
      case 'stats':
        reply({ stats: stats() });
        break;
      case 'env':
        Object.assign(process.env, m.vars);
        reply({ ok: true });
        break;
      case 'status':
        reply({ statuses: Object.fromEntries(liveWorkers().map((t) => [t.id, t.status])) });
        break;
      case 'workers': // id, status and process id of every live worker
        reply({ workers: liveWorkers().map((t) => ({ id: t.id, status: t.status, pid: t.pid })) });
        break;
      case 'stop':
        await hub.stop();
        reply({ ok: true });
        setTimeout(() => process.exit(0), 20);
        break;
      default:
        reply({ error: `unknown command ${m.cmd}` });
    }
  } catch (e) {
    reply({ error: String(e?.stack ?? e) });
  }
});
process.on('disconnect', () => void hub.stop().finally(() => process.exit(0)));
process.send({ ready: true, url: hub.url, token: hub.clientToken, pid: process.pid, durable, hostPid, adoption: hub.adoption ?? null, times });
