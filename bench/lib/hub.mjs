// Starts bench/lib/hub-host.mjs with a fresh CAO_HOME (or `home`, kept with `keepHome`) and gives the benchmark an
// MCP client and an IPC channel. `spawnedAt` and `readyAt` (hi-res wall clock) say when the process was spawned and
// when its hub had started (after re-adoption, for a durable hub: BENCH_DURABLE=1).
import { fork } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { BENCH_DIR, REPO, now } from './stats.mjs';

export async function startHub({ env = {}, collect = true, execArgv = [], home: givenHome, keepHome = false } = {}) {
  const home = givenHome ?? mkdtempSync(join(tmpdir(), 'cao-bench-'));
  const record = join(home, 'record.jsonl');
  const spawnedAt = now();
  const child = fork(process.env.BENCH_HOST || join(BENCH_DIR, 'lib', 'hub-host.mjs'), [], {
    cwd: REPO,
    // benchmarks measure the hub at scale (100 agents from one caller), not its default caps
    env: {
      ...process.env,
      CAO_MAX_WORKERS: '1000',
      CAO_MAX_WORKERS_PER_CALLER: '1000',
      CAO_HOME: home,
      CAO_MOCK_RECORD: record,
      BENCH_COLLECT: collect ? '1' : '0',
      ...env,
    },
    stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
    execArgv: [...execArgv, ...(process.env.BENCH_HUB_NODE_ARGS ? process.env.BENCH_HUB_NODE_ARGS.split(' ') : [])],
  });
  let stderr = '';
  child.stderr.on('data', (d) => {
    stderr += d.toString();
    if (stderr.length > 200_000) stderr = stderr.slice(-100_000);
  });
  const info = await new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`hub did not start:\n${stderr}`)), 20_000);
    child.once('message', (m) => {
      clearTimeout(t);
      resolve({ ...m, readyAt: now() });
    });
    child.once('exit', (c) => reject(new Error(`hub exited (${c}):\n${stderr}`)));
  });
  let seq = 0;
  const waiting = new Map();
  child.on('message', (m) => {
    const w = waiting.get(m.re);
    if (!w) return;
    waiting.delete(m.re);
    if (m.error) w.reject(new Error(m.error));
    else w.resolve(m);
  });
  const request = (cmd, extra = {}) =>
    new Promise((resolve, reject) => {
      const id = ++seq;
      waiting.set(id, { resolve, reject });
      child.send({ id, cmd, ...extra });
    });
  const clients = [];
  return {
    home,
    record,
    url: info.url,
    token: info.token,
    pid: info.pid,
    child,
    spawnedAt,
    readyAt: info.readyAt,
    /** Durable: whether the hub runs its workers' ptys in the pty host (false for a build without one). */
    durable: info.durable === true,
    hostPid: info.hostPid ?? null,
    /** What re-adoption did at the hub's start (durable), as `hub.adoption`. */
    adoption: info.adoption ?? null,
    /** When the hub process had imported the build (`imported`) and when Hub.start() had returned (`started`). */
    times: info.times ?? null,
    stderr: () => stderr,
    request,
    events: async () => (await request('events')).events,
    stats: async () => (await request('stats')).stats,
    mark: () => request('mark'),
    setEnv: (vars) => request('env', { vars }),
    statuses: async () => (await request('status')).statuses,
    workers: async () => (await request('workers')).workers,
    /** kill -9 of the hub process (its workers live on in the pty host when durable); resolves once it is reaped. */
    async kill9() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGKILL');
      await exited;
    },
    async client(name = 'bench') {
      const c = await connect(info.url, info.token, name);
      clients.push(c);
      return c;
    },
    /** The mock agents' record, read before stop() removes the hub's home. */
    recordCopy: [],
    async stop() {
      for (const c of clients) await c.close();
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        await Promise.race([request('stop').catch(() => undefined), new Promise((r) => setTimeout(r, 15_000))]);
        await Promise.race([exited, new Promise((r) => setTimeout(r, 5_000))]);
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      }
      this.recordCopy = await readRecord(record);
      if (process.env.BENCH_DEBUG === '1') {
        // what the hub (and a durable hub's pty host) said, for finding out why a run failed
        const { existsSync, readFileSync } = await import('node:fs');
        const hostLog = join(home, 'logs', 'ptyhost.log');
        process.stderr.write(`--- hub stderr (last 8 KB)\n${stderr.slice(-8192)}\n`);
        if (existsSync(hostLog)) process.stderr.write(`--- pty host log (last 8 KB)\n${readFileSync(hostLog, 'utf8').slice(-8192)}\n`);
      }
      if (!keepHome) {
        // a durable hub's pty host outlives it (until its idle timeout): it is ours, and its home goes now
        if (info.hostPid) stopPtyHost(info.hostPid);
        rmSync(home, { recursive: true, force: true });
      }
    },
  };
}

/** An MCP client over Streamable HTTP as the external supervisor `name`. */
export async function connect(url, token, name) {
  const client = new Client({ name, version: '1' });
  await client.connect(
    new StreamableHTTPClientTransport(new URL('/mcp', url), {
      requestInit: { headers: { Authorization: `Bearer ${token}`, 'X-Cao-Supervisor': name } },
    }),
  );
  return {
    client,
    /** Calls a tool; throws when it reports an error. */
    async call(tool, args, timeout = 300_000) {
      const r = await client.callTool({ name: tool, arguments: args }, undefined, { timeout });
      if (r.isError) throw new Error(`${tool} failed: ${r.content?.map((c) => c.text).join('\n')}`);
      return r.structuredContent ?? r;
    },
    /** Calls a tool and returns its structured result whatever it says. */
    async callRaw(tool, args, timeout = 300_000) {
      const r = await client.callTool({ name: tool, arguments: args }, undefined, { timeout });
      return { ...(r.structuredContent ?? {}), isError: r.isError === true, text: r.content?.map((c) => c.text).join('\n') };
    },
    close: () => client.close().catch(() => undefined),
  };
}

/** Reads a mock agent record file (CAO_MOCK_RECORD). */
export async function readRecord(file) {
  const { readFileSync, existsSync } = await import('node:fs');
  if (!existsSync(file)) return [];
  // read while the agents append: a last line without its newline is still being written, and is left for next time
  const text = readFileSync(file, 'utf8');
  return text
    .slice(0, text.lastIndexOf('\n') + 1)
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l));
}

/** Ends a pty host this benchmark started (SIGTERM: it ends what it still runs). */
export function stopPtyHost(pid) {
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    /* gone already */
  }
}
