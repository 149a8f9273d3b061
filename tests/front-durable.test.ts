// CAO_DURABLE=1: the stdio `cao-mcp` is only a front; the hub runs as a daemon of its own (`cao-mcp hub`), so a
// client that restarts, or a front that is killed, costs no worker. Real processes, a real stdio MCP client.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, startCao, stopEverything, textOf, type CaoSession } from './support/cao-client.js';
import { pidAlive, pidsWithEnv, waitFor } from './support/procs.js';

const SCRIPT = {
  rules: [{ match: 'slow task', answer: 'SLOW-ANSWER-77', delayMs: 2500 }],
  default: { answer: 'default: {{input}}' },
};

let home: string;
const sessions: CaoSession[] = [];
const front = async () => {
  const s = await startCao({ home, keepHub: true, env: { CAO_DURABLE: '1', CAO_MOCK_SCRIPT: JSON.stringify(SCRIPT), CAO_HUB_IDLE_SECONDS: '30' } });
  sessions.push(s);
  return s;
};
const daemonPid = () => Number(readFileSync(join(home, 'hubd.pid'), 'utf8').trim());
/** The pid of the front process behind a session (the SDK's stdio transport keeps it). */
const frontPid = (s: CaoSession) => (s.client.transport as unknown as { pid: number | null }).pid!;

beforeAll(() => {
  home = mkdtempSync(join(tmpdir(), 'cao-durable-'));
});
afterAll(async () => {
  for (const s of sessions) await s.close().catch(() => undefined);
  try {
    process.kill(daemonPid(), 'SIGTERM');
    await waitFor(
      () => pidAlive(daemonPid()),
      (a) => !a,
      10_000,
    );
  } catch {
    /* no daemon */
  }
  stopEverything(home); // and the pty host
  rmSync(home, { recursive: true, force: true });
});

describe('durable mode: a stdio front over a daemon hub', () => {
  it('the first front starts the daemon hub; a kill -9 of the front leaves the worker working, and a new front reads its answer', async () => {
    const a = await front();
    const started = await a.call('assign', { agent_profile: 'developer', provider: 'mock', message: 'slow task' });
    expect(started.isError, textOf(started)).toBeFalsy();
    const id = (started.structuredContent as { terminal_id: string }).terminal_id;
    const hub = daemonPid();
    expect(pidAlive(hub)).toBe(true);
    expect(hub).not.toBe(frontPid(a));
    const [worker] = await waitFor(
      () => pidsWithEnv('CAO_TERMINAL_ID', id),
      (p) => p.length > 0,
      15_000,
    );

    process.kill(frontPid(a), 'SIGKILL');
    const b = await front();
    const out = await b.call('read_output', { terminal_id: id, wait_seconds: 30 }, { timeout: 60_000 });
    expect(out.isError, textOf(out)).toBeFalsy();
    expect(out.structuredContent).toMatchObject({ terminal_id: id, output: 'SLOW-ANSWER-77' });
    // the same worker process and the same hub, all along
    expect(pidsWithEnv('CAO_TERMINAL_ID', id)).toContain(worker);
    expect(daemonPid()).toBe(hub);
  });

  it('a kill -9 of the front during a handoff leaves its worker working; a new front reads the exact answer', async () => {
    const a = await front();
    const progress: string[] = [];
    const pending = a
      .call('handoff', { agent_profile: 'developer', provider: 'mock', message: 'slow task' }, { onprogress: (p) => progress.push(p.message ?? '') })
      .catch((e: Error) => e);
    // the first progress notification names the worker
    const [first] = await waitFor(
      () => progress,
      (p) => p.some((m) => /terminal [0-9a-f]{8}/.test(m)),
      20_000,
    );
    expect(first).toBeDefined();
    const id = /terminal ([0-9a-f]{8})/.exec(progress.find((m) => /terminal [0-9a-f]{8}/.test(m))!)![1]!;
    const [worker] = await waitFor(
      () => pidsWithEnv('CAO_TERMINAL_ID', id),
      (p) => p.length > 0,
      15_000,
    );
    process.kill(frontPid(a), 'SIGKILL');
    await pending;
    const b = await front();
    const out = await b.call('read_output', { terminal_id: id, wait_seconds: 30 }, { timeout: 60_000 });
    expect(out.structuredContent).toMatchObject({ terminal_id: id, output: 'SLOW-ANSWER-77' });
    expect(pidsWithEnv('CAO_TERMINAL_ID', id)).toContain(worker);
    await b.call('stop_agent', { terminal_id: id });
  });

  it('a front whose client closes cleanly leaves the hub and the workers running', async () => {
    const c = await front();
    const r = await c.call('list_agents', {});
    const before = (r.structuredContent as { agents: unknown[] }).agents.length;
    expect(before).toBeGreaterThan(0);
    await c.client.close();
    const d = await front();
    const after = await d.call('list_agents', {});
    expect((after.structuredContent as { agents: unknown[] }).agents.length).toBe(before);
  });

  it('a front outlives its hub: after a kill -9 of the daemon, the next call starts a new hub and works', async () => {
    const e = await front();
    const old = daemonPid();
    process.kill(old, 'SIGKILL');
    await waitFor(
      () => pidAlive(old),
      (x) => !x,
      5000,
    );
    // the first call may meet the dead session; the front connects to a new hub (starting it) and replays initialize
    const r = await waitFor(
      () => e.call('list_profiles', {}).catch((err: Error) => ({ isError: true, content: [{ type: 'text' as const, text: err.message }] })),
      (x) => !x.isError,
      20_000,
      500,
    );
    expect(textOf(r as never)).toMatch(/developer/);
    expect(daemonPid()).not.toBe(old);
    expect(pidAlive(daemonPid())).toBe(true);
  });

  it('cao-mcp stop ends the daemon hub and every worker it runs', async () => {
    const f = await front();
    const r = await f.call('assign', { agent_profile: 'developer', provider: 'mock', message: 'slow task' });
    const id = (r.structuredContent as { terminal_id: string }).terminal_id;
    await waitFor(
      () => pidsWithEnv('CAO_TERMINAL_ID', id),
      (p) => p.length > 0,
      15_000,
    );
    const hub = daemonPid();
    const out = execFileSync(process.execPath, [CLI, 'stop'], { env: { ...process.env, CAO_HOME: home }, encoding: 'utf8' });
    expect(out).toMatch(new RegExp(`stopped: daemon hub, pid ${hub}`));
    // gone (a zombie for the front that started it may stay a moment, until that front reaps it)
    expect(
      await waitFor(
        () => pidAlive(hub),
        (a) => !a,
        5000,
      ),
    ).toBe(false);
    expect(
      await waitFor(
        () => pidsWithEnv('CAO_TERMINAL_ID', id),
        (p) => p.length === 0,
        5000,
      ),
    ).toEqual([]);
    expect(execFileSync(process.execPath, [CLI, 'stop'], { env: { ...process.env, CAO_HOME: home }, encoding: 'utf8' })).toMatch(
      /no daemon hub is running/,
    );
  });
});
