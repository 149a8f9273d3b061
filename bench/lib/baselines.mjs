// Baselines measured beside the figures, in processes of their own (lib/baseline-host.mjs, lib/pty-probe.mjs), and
// the floors our own constants set (read from the build under test).
import { fork } from 'node:child_process';
import http from 'node:http';
import { join } from 'node:path';
import { BENCH_DIR, REPO, dist, now } from './stats.mjs';

/** Forks `file` and gives request/response over IPC; resolves once the child sends its ready message. */
async function forkIpc(file) {
  const child = fork(join(BENCH_DIR, 'lib', file), [], { cwd: REPO, stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  const info = await new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`${file} did not start`)), 20_000);
    child.once('message', (m) => {
      clearTimeout(t);
      resolve(m);
    });
    child.once('exit', (c) => reject(new Error(`${file} exited (${c})`)));
  });
  let seq = 0;
  const waiting = new Map();
  child.on('message', (m) => {
    const w = waiting.get(m.re);
    if (w) {
      waiting.delete(m.re);
      w(m);
    }
  });
  const request = (cmd, extra = {}) =>
    new Promise((resolve) => {
      const id = ++seq;
      waiting.set(id, resolve);
      child.send({ id, cmd, ...extra });
    });
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    await Promise.race([request('stop'), new Promise((r) => setTimeout(r, 5000))]);
    await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  };
  return { info, request, stop };
}

/** The bare HTTP + SQLite server: `url` for senders, `roundTrip()` for one bare JSON POST from this process. */
export async function startBaselineServer() {
  const c = await forkIpc('baseline-host.mjs');
  const u = new URL('/mcp', c.info.url);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  let id = 0;
  /** ms for one JSON-RPC tools/call POST and its JSON answer (one insert on the other side). */
  const roundTrip = () =>
    new Promise((resolve, reject) => {
      const data = JSON.stringify({
        jsonrpc: '2.0',
        id: ++id,
        method: 'tools/call',
        params: { name: 'send_message', arguments: { receiver_id: 'r', message: `probe ${id}` } },
      });
      const t0 = now();
      const req = http.request(
        {
          host: u.hostname,
          port: u.port,
          path: u.pathname,
          method: 'POST',
          agent,
          headers: { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(data) },
        },
        (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (d) => (text += d));
          res.on('end', () => {
            JSON.parse(text);
            resolve(now() - t0);
          });
        },
      );
      req.on('error', reject);
      req.end(data);
    });
  return {
    url: c.info.url,
    token: 'baseline',
    roundTrip,
    mark: () => c.request('mark'),
    stats: async () => (await c.request('stats')).stats,
    async stop() {
      agent.destroy();
      await c.stop();
    },
  };
}

/** The raw pty round-trip probe: `probe(n)` → n round trips in ms. */
export async function startPtyProbe() {
  const c = await forkIpc('pty-probe.mjs');
  return { probe: async (n = 1) => (await c.request('probe', { n })).ms, stop: c.stop };
}

/** The quiet window after which the build under test calls a screen settled: the floor of every completion. */
export async function settleWindowMs() {
  const { ScreenFeed } = await import(dist('screen/screen-feed.js'));
  const { createBus } = await import(dist('bus/bus.js'));
  const feed = new ScreenFeed(createBus(), 'probe', { cols: 20, rows: 5, reply: () => undefined });
  const ms = feed.quietMs;
  feed.dispose();
  if (!Number.isFinite(ms)) throw new Error('ScreenFeed has no quietMs: the settle window is not readable from this build');
  return ms;
}
