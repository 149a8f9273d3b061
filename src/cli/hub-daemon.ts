import { spawn } from 'node:child_process';
import { closeSync, fstatSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { Hub } from '../hub/hub.js';
import { listHubRecords, type HubRecord } from '../hub/hub-record.js';
import type { HubAddress } from '../mcp/front.js';
import { caoHome, distFile, logsDir } from '../util/paths.js';
import { pidAlive } from '../util/process.js';
import { logger } from '../util/log.js';

/** A daemon hub with no worker and no MCP session for this long ends by itself (CAO_HUB_IDLE_SECONDS). */
const IDLE_DEFAULT_S = 600;
/** How long a front waits for the daemon it started to answer. */
const START_TIMEOUT_MS = 20_000;

/**
 * `cao-mcp hub`: the hub as a process of its own, started (detached) by the first stdio front that needs one
 * (CAO_DURABLE=1). One per CAO_HOME: a lock file holds the pid of the one that runs.
 */
export async function runHubDaemon(): Promise<void> {
  const lock = join(caoHome(), 'hubd.pid');
  if (!takeLock(lock)) {
    logger('hub').info('another hub daemon runs for this CAO_HOME; leaving it be');
    return;
  }
  const hub = await startOnKnownPort();
  const idleMs = Number(process.env.CAO_HUB_IDLE_SECONDS || IDLE_DEFAULT_S) * 1000;
  let idleSince = Date.now();
  let ending = false;
  const end = async (why: string, keepWorkers = false) => {
    if (ending) return;
    ending = true;
    logger('hub').info({ why, keepWorkers }, `${why}; stopping${keepWorkers ? ', leaving the workers to the next hub' : ''}`);
    await hub.stop({ keepWorkers }).catch((e: Error) => logger('hub').error({ err: e }, 'stop failed'));
    rmSync(lock, { force: true });
    process.exit(0);
  };
  const timer = setInterval(
    () => {
      if (hub.pool.busy().length || hub.http.sessionCount) idleSince = Date.now();
      else if (Date.now() - idleSince >= idleMs) void end(`idle for ${Math.round(idleMs / 1000)} s`);
    },
    Math.min(30_000, Math.max(200, idleMs / 4)),
  );
  timer.unref();
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(sig, () => void end(`got ${sig}`));
  // `cao-mcp stop --keep-workers`: a restart (an upgrade) that the workers do not notice
  process.on('SIGUSR2', () => void end('got SIGUSR2', true));
}

/**
 * The daemon listens where the previous one did when it can: its workers' forwarders have that address in
 * their environment, so a hub that restarts there keeps them reachable. Otherwise any free port.
 */
async function startOnKnownPort(): Promise<Hub> {
  const file = join(caoHome(), 'hub.port');
  let port = 0;
  try {
    port = Number(readFileSync(file, 'utf8').trim()) || 0;
  } catch {
    /* first start */
  }
  // Probed first: a hub that fails to listen after it adopted the workers would end them as it stops.
  if (port && !(await portFree(port))) port = 0;
  const hub = await (await Hub.open({ mode: 'daemon', port, durable: true })).start();
  writeFileSync(file, `${hub.http.port}\n`, { mode: 0o600 });
  return hub;
}

/** The running daemon hub of this CAO_HOME, started (detached) when there is none. */
export async function ensureHubDaemon(): Promise<HubAddress> {
  const found = await liveDaemon();
  if (found) return found;
  // The daemon logs to hub.log itself; its stdio (a crash's stack, Node's own warnings) goes beside it.
  const logFile = join(logsDir(), 'hub.stderr.log');
  const log = openSync(logFile, 'a', 0o600);
  const from = fstatSync(log).size;
  let exited = false;
  try {
    const child = spawn(process.execPath, [distFile('cli/main.js'), 'hub'], { detached: true, stdio: ['ignore', log, log], env: process.env });
    child.once('exit', () => (exited = true));
    child.unref();
  } finally {
    closeSync(log);
  }
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 100));
    const up = await liveDaemon();
    if (up) return up;
    // it gave up (bad settings, a database it cannot reach, a host name another hub holds): say why, now
    if (exited && !(await liveDaemon())) throw new Error(`the cao-mcp hub could not start: ${whyItEnded(logFile, from)}`);
  }
  throw new Error(`the cao-mcp hub did not start within ${START_TIMEOUT_MS / 1000} s; see ${join(logsDir(), 'hub.log')} and hub.stderr.log`);
}

/** The daemon's own last words (`cao-mcp: …` on its stderr) since `from`, or where to look. */
function whyItEnded(file: string, from: number): string {
  try {
    const text = readFileSync(file, 'utf8').slice(from);
    const said = text
      .split('\n')
      .filter((l) => l.startsWith('cao-mcp: '))
      .pop();
    if (said) return said.slice('cao-mcp: '.length);
  } catch {
    /* no log */
  }
  return `it exited; see ${join(logsDir(), 'hub.log')} and ${file}`;
}

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
}

async function liveDaemon(): Promise<HubAddress | null> {
  for (const r of listHubRecords().filter((x: HubRecord) => x.mode === 'daemon')) {
    if (await answers(r.url)) return { url: r.url, token: r.token };
  }
  return null;
}

async function answers(url: string): Promise<boolean> {
  try {
    const res = await fetch(new URL('/healthz', url), { signal: AbortSignal.timeout(2000) });
    return res.ok;
  } catch {
    return false;
  }
}

/** Creates the lock file with our pid; a lock whose process is gone is taken over. */
function takeLock(file: string): boolean {
  for (let i = 0; i < 2; i++) {
    try {
      writeFileSync(file, `${process.pid}\n`, { flag: 'wx', mode: 0o600 });
      return true;
    } catch {
      const pid = Number(readFileSync(file, 'utf8').trim());
      if (Number.isInteger(pid) && pid > 1 && pid !== process.pid && pidAlive(pid)) return false;
      rmSync(file, { force: true });
    }
  }
  return false;
}
