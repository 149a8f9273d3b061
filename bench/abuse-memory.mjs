// Memory of a hub under two abuses of issue 11 (a benchmark, not a timed test):
//   1. 3,000 refused session-less POSTs (a tools/call without an MCP session): each used to leave an MCP server and a
//      bus listener behind; send_message latency is measured before and after, as the leak slowed it down.
//   2. 3,000 MCP sessions opened and left idle, then past their idle expiry (CAO_SESSION_IDLE_SECONDS).
// RSS is the hub process's VmRSS from /proc. Run: node bench/abuse-memory.mjs [--quick]   (after npm run build)
// CAO_BENCH_CLI=<path to another build's dist/cli/main.js> measures that build instead (e.g. the code before the fix).
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { args, log, sleep, summarize, writeResult, REPO } from './lib/stats.mjs';

const CLI = process.env.CAO_BENCH_CLI || join(REPO, 'dist', 'cli', 'main.js');
const ACCEPT = 'application/json, text/event-stream';
const IDLE_SECONDS = 5;

const rssMb = (pid) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))[1]) / 1024;

async function startServe(home) {
  const proc = spawn(process.execPath, [CLI, 'serve', '--port', '0'], {
    env: { ...process.env, CAO_HOME: home, CAO_SESSION_IDLE_SECONDS: String(IDLE_SECONDS), CAO_MAX_SESSIONS: '10000' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let err = '';
  proc.stderr.on('data', (d) => (err += d));
  for (let i = 0; i < 200; i++) {
    try {
      const f = readdirSync(join(home, 'hubs')).find((x) => x === `${proc.pid}.json`);
      if (f) return { proc, hub: JSON.parse(readFileSync(join(home, 'hubs', f), 'utf8')) };
    } catch {
      /* not yet */
    }
    await sleep(50);
  }
  throw new Error(`serve did not start:\n${err}`);
}

function poster(hub) {
  return async (body, headers = {}) => {
    const r = await fetch(new URL('/mcp', hub.url), {
      method: 'POST',
      headers: { Authorization: `Bearer ${hub.token}`, 'Content-Type': 'application/json', Accept: ACCEPT, ...headers },
      body: JSON.stringify(body),
    });
    await r.text();
    return r;
  };
}

async function openSession(post, name) {
  const r = await post(
    { jsonrpc: '2.0', id: 0, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name, version: '1' } } },
    { 'X-Cao-Supervisor': name },
  );
  const sid = r.headers.get('mcp-session-id');
  if (!sid) throw new Error(`initialize refused: ${r.status}`);
  const h = { 'mcp-session-id': sid, 'mcp-protocol-version': '2025-06-18', 'X-Cao-Supervisor': name };
  await post({ jsonrpc: '2.0', method: 'notifications/initialized' }, h);
  return h;
}

/** send_message latency (ms) from one session: `n` sends to an external receiver. */
async function sendLatency(post, h, n) {
  const out = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    await post(
      {
        jsonrpc: '2.0',
        id: i + 1,
        method: 'tools/call',
        params: { name: 'send_message', arguments: { receiver_id: 'bench-receiver', message: `m${i}` } },
      },
      h,
    );
    out.push(performance.now() - t);
  }
  return summarize(out, 3);
}

async function inBatches(n, width, fn) {
  for (let i = 0; i < n; i += width) await Promise.all(Array.from({ length: Math.min(width, n - i) }, (_, k) => fn(i + k)));
}

export async function run({ quick }) {
  const N = quick ? 500 : 3000;
  const home = mkdtempSync(join(tmpdir(), 'cao-bench-abuse-'));
  const { proc, hub } = await startServe(home);
  const post = poster(hub);
  try {
    await openSession(post, 'bench-receiver');
    const sender = await openSession(post, 'bench-sender');
    await sendLatency(post, sender, 50); // warm-up
    await sleep(1000);
    const rssStart = rssMb(proc.pid);
    const sendBefore = await sendLatency(post, sender, 200);

    let refusedStatus = 0;
    const refuse = () =>
      inBatches(N, 20, async (i) => {
        const r = await post({ jsonrpc: '2.0', id: i, method: 'tools/call', params: { name: 'list_agents', arguments: {} } });
        refusedStatus = r.status;
      });
    // Two rounds: V8 does not hand freed pages back to the system, so RSS after a round shows what it took at most;
    // a second round that adds little shows nothing was kept.
    await refuse();
    await sleep(1000);
    const rssAfterRefused = rssMb(proc.pid);
    await refuse();
    await sleep(1000);
    const rssAfterRefused2 = rssMb(proc.pid);
    const sendAfter = await sendLatency(post, sender, 200);
    log(
      `2 × ${N} refused session-less POSTs (HTTP ${refusedStatus}): RSS ${rssStart.toFixed(1)} → ${rssAfterRefused.toFixed(1)} → ${rssAfterRefused2.toFixed(1)} MB; send_message median ${sendBefore.median} → ${sendAfter.median} ms`,
    );

    const info = async () => (await (await fetch(new URL(`/api/hub?token=${hub.token}`, hub.url))).json()).mcpSessions;
    /** Opens N idle sessions; returns RSS while open and after their expiry (idle time, a sweep, then a pause). */
    const sessionRound = async (tag) => {
      await inBatches(N, 20, (i) => openSession(post, `idle-${tag}-${i}`));
      await sleep(500);
      const open = rssMb(proc.pid);
      const deadline = Date.now() + (IDLE_SECONDS + 20) * 1000;
      await sleep(IDLE_SECONDS * 1000);
      let left = await info();
      while (left !== 0 && left !== undefined && Date.now() < deadline) {
        await sleep(500);
        left = await info();
      }
      await sleep(3000);
      return { open, expired: rssMb(proc.pid), left };
    };
    const r1 = await sessionRound('a');
    const r2 = await sessionRound('b');
    const rssSessionsOpen = r1.open;
    const rssAfterExpiry = r1.expired;
    const left = r2.left;
    log(
      `${N} idle sessions: RSS ${r1.open.toFixed(1)} MB while open, ${r1.expired.toFixed(1)} MB past their expiry; another ${N}: ${r2.open.toFixed(1)} / ${r2.expired.toFixed(1)} MB (${left ?? 'unknown'} sessions left)`,
    );
    return writeResult('abuse-memory', {
      cli: process.env.CAO_BENCH_CLI ? 'CAO_BENCH_CLI' : 'dist',
      n: N,
      sessionIdleSeconds: IDLE_SECONDS,
      refusedStatus,
      rssMb: {
        start: +rssStart.toFixed(1),
        afterRefusedPosts: +rssAfterRefused.toFixed(1),
        afterRefusedPostsRound2: +rssAfterRefused2.toFixed(1),
        sessionsOpen: +rssSessionsOpen.toFixed(1),
        afterSessionExpiry: +rssAfterExpiry.toFixed(1),
        sessionsOpenRound2: +r2.open.toFixed(1),
        afterSessionExpiryRound2: +r2.expired.toFixed(1),
      },
      sessionsLeftAfterExpiry: left ?? null,
      sendMessageMs: { before: sendBefore, afterRefusedPosts: sendAfter },
    });
  } finally {
    proc.kill('SIGTERM');
    await new Promise((r) => proc.once('exit', r));
    rmSync(home, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  run(args()).catch((e) => {
    console.error(e);
    process.exit(1);
  });
}
