// Structured logs: the real stdio server (a front, its daemon hub and the pty host) logging JSON lines to
// $CAO_HOME/logs/ while its stdout carries JSON-RPC only; the level variable; no token in any log; rotation
// by size (in this process and in a child that exits right after logging); redaction.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { closeLog, configureLog, flushLog, logger } from '../src/util/log.js';
import { CLI, REPO, stopEverything } from './support/cao-client.js';
import { logRecords, type LogRecord } from './support/logs.js';
import { waitFor } from './support/procs.js';

const SCRIPT = { rules: [{ match: 'say ping', answer: 'PONG-42', delayMs: 100 }], default: { answer: 'default: {{input}}' } };

const cleanup: Array<() => void> = [];
afterEach(() => {
  for (const f of cleanup.splice(0).reverse()) f();
});

function tmp(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

type Rpc = { jsonrpc: string; id?: number; result?: { isError?: boolean; structuredContent?: Record<string, unknown> }; error?: unknown };

/** `cao-mcp` over stdio with nothing between us and its pipes: every byte of its stdout is kept. */
function startRaw(home: string, env: Record<string, string> = {}) {
  const proc: ChildProcess = spawn(process.execPath, [CLI], {
    cwd: REPO,
    env: { ...(process.env as Record<string, string>), CAO_HOME: home, CAO_MOCK_SCRIPT: JSON.stringify(SCRIPT), ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  cleanup.push(() => {
    proc.kill('SIGKILL');
    stopEverything(home);
  });
  let stdout = '';
  let stderr = '';
  let pending = '';
  const waiting = new Map<number, (m: Rpc) => void>();
  proc.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  proc.stdout!.on('data', (d: Buffer) => {
    stdout += d.toString();
    pending += d.toString();
    let nl: number;
    while ((nl = pending.indexOf('\n')) >= 0) {
      const line = pending.slice(0, nl);
      pending = pending.slice(nl + 1);
      let m: Rpc;
      try {
        m = JSON.parse(line) as Rpc;
      } catch {
        continue; // the assertion on stdout reports it
      }
      if (typeof m.id === 'number') waiting.get(m.id)?.(m);
    }
  });
  let next = 1;
  const send = (m: unknown) => proc.stdin!.write(`${JSON.stringify(m)}\n`);
  const request = (method: string, params: unknown, ms = 60_000): Promise<Rpc> => {
    const id = next++;
    send({ jsonrpc: '2.0', id, method, params });
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`no answer to ${method} in ${ms} ms; stderr: ${stderr}`)), ms);
      waiting.set(id, (m) => {
        clearTimeout(t);
        resolve(m);
      });
    });
  };
  const exited = new Promise<number | null>((r) => proc.on('exit', (code) => r(code)));
  return {
    proc,
    stdout: () => stdout,
    stderr: () => stderr,
    request,
    call: (name: string, args: Record<string, unknown>) => request('tools/call', { name, arguments: args }),
    async initialize() {
      const r = await request('initialize', { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'logs-test', version: '1' } });
      send({ jsonrpc: '2.0', method: 'notifications/initialized' });
      return r;
    },
    /** Closes stdin (the client goes), waits for the front to exit, then stops the daemon hub and the pty host. */
    async end() {
      proc.stdin!.end();
      await exited;
      stopEverything(home);
    },
  };
}

function expectOnlyJsonRpc(stdout: string): void {
  const lines = stdout.split('\n').filter((l) => l !== '');
  expect(lines.length).toBeGreaterThan(0);
  for (const l of lines) {
    let m: Rpc | undefined;
    expect(() => (m = JSON.parse(l) as Rpc), `a stdout line that is not JSON: ${l}`).not.toThrow();
    expect(m!.jsonrpc, l).toBe('2.0');
  }
}

function expectRecordShape(records: LogRecord[]): void {
  for (const r of records) {
    expect(typeof r.level).toBe('string');
    expect(Number.isNaN(Date.parse(r.time))).toBe(false);
    expect(Number.isInteger(r.pid)).toBe(true);
    expect(typeof r.component).toBe('string');
  }
}

/** Every file under logs/ (the JSON logs, the stderr files, the terminals' raw output): none holds any of `secrets`. */
function expectNoSecretsIn(home: string, secrets: string[]): void {
  const dir = join(home, 'logs');
  for (const f of readdirSync(dir)) {
    const text = readFileSync(join(dir, f), 'utf8');
    for (const s of secrets) expect(text.includes(s), `${f} holds a secret`).toBe(false);
  }
}

const mode = (p: string) => statSync(p).mode & 0o777;

describe('structured logs of the stdio server', () => {
  it('stdout carries JSON-RPC only; the front, its hub and the pty host log JSON lines (0600, in a 0700 dir) without tokens or bodies', async () => {
    const home = tmp('cao-logs-');
    const s = startRaw(home);
    await s.initialize();
    const assigned = await s.call('assign', { agent_profile: 'developer', provider: 'mock', message: 'say ping' });
    expect(assigned.result?.isError).toBeFalsy();
    const workerId = String(assigned.result?.structuredContent?.terminal_id);
    expect(workerId).toMatch(/^[0-9a-f]{8}$/);
    const mcp = JSON.parse(readFileSync(join(home, 'run', workerId, 'mock-mcp.json'), 'utf8')) as {
      mcpServers: { cao: { env: Record<string, string> } };
    };
    const workerToken = mcp.mcpServers.cao.env.CAO_TOKEN;
    expect(workerToken).toBeTruthy();
    const hubTokens = readdirSync(join(home, 'hubs')).map(
      (f) => (JSON.parse(readFileSync(join(home, 'hubs', f), 'utf8')) as { token: string }).token,
    );
    expect(hubTokens.length).toBeGreaterThan(0);

    const handoff = await s.call('handoff', { agent_profile: 'developer', provider: 'mock', message: 'secret-body-7391 please say ping' });
    expect(handoff.result?.structuredContent?.output).toBe('PONG-42');
    // bad calls: a tool that does not exist, a handoff without its message
    const unknown = await s.call('no_such_tool', {});
    expect(unknown.error ?? unknown.result?.isError).toBeTruthy();
    const invalid = await s.call('handoff', { agent_profile: 'developer' });
    expect(invalid.error ?? invalid.result?.isError).toBeTruthy();
    await s.call('stop_agent', { terminal_id: workerId });
    await s.end();

    expectOnlyJsonRpc(s.stdout());
    const logs = join(home, 'logs');
    expect(mode(logs)).toBe(0o700);
    for (const f of ['hub.log', 'ptyhost.log']) expect(mode(join(logs, f)), f).toBe(0o600);

    const hub = logRecords(home, 'hub.log');
    expectRecordShape(hub);
    const front = hub.filter((r) => r.pid === s.proc.pid);
    expect(front.map((r) => [r.component, r.msg])).toContainEqual(['front', 'the client went away']);
    const daemon = hub.filter((r) => r.pid !== s.proc.pid);
    expect(daemon.find((r) => r.msg === 'hub started')).toMatchObject({ level: 'info', component: 'hub', mode: 'daemon' });
    expect(daemon.some((r) => r.component === 'hub' && r.msg === 'hub stopped')).toBe(true);

    const host = logRecords(home, 'ptyhost.log');
    expectRecordShape(host);
    expect(host.every((r) => r.component === 'ptyhost')).toBe(true);
    expect(host.some((r) => r.msg?.startsWith(`spawn ${workerId}: `))).toBe(true);

    expectNoSecretsIn(home, [workerToken, ...hubTokens]);
    // the task's text is in the worker's own terminal log (its screen), never in the JSON logs
    for (const f of ['hub.log', 'ptyhost.log']) expect(readFileSync(join(logs, f), 'utf8')).not.toContain('secret-body-7391');
  });

  it('CAO_LOG_LEVEL=warn drops the info lines of every process', async () => {
    const home = tmp('cao-logs-warn-');
    const s = startRaw(home, { CAO_LOG_LEVEL: 'warn' });
    await s.initialize();
    const handoff = await s.call('handoff', { agent_profile: 'developer', provider: 'mock', message: 'say ping' });
    expect(handoff.result?.structuredContent?.output).toBe('PONG-42');
    await s.call('no_such_tool', {});
    await s.end();
    expectOnlyJsonRpc(s.stdout());
    // the files are there (each process opened its log), with nothing below warn in them
    for (const f of ['hub.log', 'ptyhost.log']) {
      expect(existsSync(join(home, 'logs', f)), f).toBe(true);
      const records = logRecords(home, f);
      expectRecordShape(records);
      expect(records.filter((r) => !['warn', 'error', 'fatal'].includes(r.level))).toEqual([]);
    }
  });
});

describe('the logger', () => {
  afterEach(() => closeLog());

  it('writes the level asked for and above, and redacts token, authorization and env fields', async () => {
    const file = join(tmp('cao-logs-unit-'), 'unit.log');
    configureLog({ file, level: 'warn' });
    logger('unit').info('dropped');
    logger('unit').warn({ token: 'T0K-1', call: { env: { CAO_TOKEN: 'T0K-2' }, headers: { authorization: 'Bearer T0K-3' } }, n: 1 }, 'kept');
    await flushLog();
    const text = readFileSync(file, 'utf8');
    expect(text).not.toMatch(/T0K-|dropped/);
    const lines = text.split('\n').filter(Boolean);
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0])).toMatchObject({
      level: 'warn',
      component: 'unit',
      pid: process.pid,
      msg: 'kept',
      n: 1,
      token: '[redacted]',
      call: { env: '[redacted]', headers: { authorization: '[redacted]' } },
    });
    expect(mode(file)).toBe(0o600);
  });

  it('rotates past its size: <file> → .1 → .2, the oldest dropped, every file 0600, the newest lines kept in order', async () => {
    const file = join(tmp('cao-logs-rot-'), 'rot.log');
    configureLog({ file, maxBytes: 4096 });
    for (let i = 0; i < 300; i++) logger('rot').info({ i }, 'a line of some length to fill the file');
    await flushLog();
    const files = [`${file}.2`, `${file}.1`, file];
    const readSeq = () =>
      files.flatMap((f) => (existsSync(f) ? readFileSync(f, 'utf8').split('\n').filter(Boolean) : [])).map((l) => (JSON.parse(l) as { i: number }).i);
    // the streams a rotation ended finish their last writes asynchronously
    const seq = await waitFor(readSeq, (q) => q.at(-1) === 299 && q.every((v, k) => k === 0 || v === q[k - 1] + 1), 5000);
    expect(existsSync(`${file}.3`)).toBe(false);
    for (const f of files) {
      expect(mode(f), f).toBe(0o600);
      expect(statSync(f).size).toBeLessThanOrEqual(4096 + 200);
    }
    expect(seq.at(-1), JSON.stringify(seq)).toBe(299);
    expect(seq).toEqual(Array.from({ length: seq.length }, (_, k) => 300 - seq.length + k));
    expect(seq.length).toBeGreaterThan(40);
  });

  it('CAO_LOG_FILE_MAX_BYTES sets the size; a process that logs and exits at once loses no line', () => {
    const home = tmp('cao-logs-env-');
    const script = `import { logger } from ${JSON.stringify(join(REPO, 'dist', 'util', 'log.js'))};
for (let i = 0; i < 25; i++) logger('child').info({ i, token: 'never-${'x'}' }, 'line');
process.exit(0);`;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
      env: { ...process.env, CAO_HOME: home, CAO_LOG_FILE_MAX_BYTES: '2000', CAO_LOG_LEVEL: 'debug' },
      encoding: 'utf8',
    });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toBe('');
    const files = readdirSync(join(home, 'logs')).sort();
    expect(files).toEqual(['hub.log', 'hub.log.1']);
    // every line is there; one that was being written when exit flushed the rest may come after them
    const seq = ['hub.log.1', 'hub.log'].flatMap((f) => logRecords(home, f).map((x) => x.i as number)).sort((a, b) => a - b);
    expect(seq).toEqual(Array.from({ length: 25 }, (_, k) => k));
    expect(readFileSync(join(home, 'logs', 'hub.log.1'), 'utf8')).not.toContain('never-x');
  });

  it('a crash is logged too: the uncaught error with its stack, then Node exits as it would', () => {
    const home = tmp('cao-logs-crash-');
    const script = `import { logger } from ${JSON.stringify(join(REPO, 'dist', 'util', 'log.js'))};
logger('hub').info('up');
setTimeout(() => { throw new Error('kaboom-17'); }, 10);`;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { env: { ...process.env, CAO_HOME: home }, encoding: 'utf8' });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('kaboom-17');
    const records = logRecords(home, 'hub.log');
    expect(records.map((x) => [x.component, x.level, x.msg])).toEqual([
      ['hub', 'info', 'up'],
      ['process', 'fatal', 'uncaught exception'],
    ]);
    expect((records[1].err as { stack: string }).stack).toContain('kaboom-17');
  });
});
