// handoff as an MCP task, and what a dropped connection leaves: real `cao-mcp serve`, real SDK clients over
// Streamable HTTP (some in their own process, killed mid-turn), the mock agent CLI with slow scripted turns.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { CallToolResultSchema, CreateTaskResultSchema, type CallToolResult, type Task } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { CLI, REPO, startCao, type CaoSession } from './support/cao-client.js';
import { connectHttp, startServe, stopProc, type HttpCaller, type HubInfo } from './support/http-client.js';
import { pidAlive, pidsWithEnv, waitFor } from './support/procs.js';

const SLOW = 'SLOW-ANSWER-7 (the exact words)';
const SCRIPT = {
  rules: [
    { match: 'slow answer', answer: SLOW, delayMs: 3000 },
    { match: 'quick answer', answer: 'QUICK-1', delayMs: 200 },
    { match: 'never ends', answer: 'never shown', delayMs: 60_000 },
  ],
  default: { answer: 'default: {{input}}' },
};
const META = 'cao-mcp/terminal_id';
const CHILD = path.join(REPO, 'tests', 'support', 'handoff-client.mjs');

let home: string;
let serve: { proc: ChildProcess; hub: HubInfo; stderr: () => string };
const open: HttpCaller[] = [];
const children: ChildProcess[] = [];

beforeAll(async () => {
  home = mkdtempSync(path.join(tmpdir(), 'cao-tasks-'));
  serve = await startServe(home, { CAO_MOCK_SCRIPT: JSON.stringify(SCRIPT) });
});
afterEach(async () => {
  for (const c of open.splice(0)) await c.close();
  for (const c of children.splice(0)) await stopProc(c, 'SIGKILL');
});
afterAll(async () => {
  await stopProc(serve.proc);
  rmSync(home, { recursive: true, force: true });
});

const connect = async (name: string) => {
  const c = await connectHttp(serve.hub, name);
  open.push(c);
  return c;
};
const args = (message: string) => ({ agent_profile: 'developer', provider: 'mock', message });
const startTask = async (c: HttpCaller, message: string) =>
  (
    await c.client.request(
      { method: 'tools/call', params: { name: 'handoff', arguments: args(message), task: { ttl: 120_000 } } },
      CreateTaskResultSchema,
    )
  ).task;
const getTask = (c: HttpCaller, id: string) => c.client.experimental.tasks.getTask(id);
const taskResult = async (c: HttpCaller, id: string) =>
  (await c.client.experimental.tasks.getTaskResult(id, CallToolResultSchema, { timeout: 60_000 })) as CallToolResult;
const terminalOf = (t: { _meta?: Record<string, unknown> }) => t._meta?.[META] as string | undefined;
const sc = (r: CallToolResult) => r.structuredContent as Record<string, unknown>;
const workerPids = (id: string) => pidsWithEnv('CAO_TERMINAL_ID', id);

/** A supervisor in its own process (tests/support/handoff-client.mjs); `next` waits for its next stdout line that fits. */
function childClient(name: string, mode: 'blocking' | 'task', message: string) {
  const proc = spawn(process.execPath, [CHILD, serve.hub.url, serve.hub.token, name, mode, message], {
    cwd: REPO,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(proc);
  const lines: Record<string, unknown>[] = [];
  let err = '';
  proc.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  createInterface({ input: proc.stdout! }).on('line', (l) => lines.push(JSON.parse(l) as Record<string, unknown>));
  const next = async (ok: (l: Record<string, unknown>) => boolean, ms = 30_000) => {
    const found = await waitFor(
      () => lines.find(ok),
      (l) => l !== undefined,
      ms,
    );
    if (!found) throw new Error(`the client process printed nothing that fits; stdout: ${JSON.stringify(lines)}\nstderr: ${err}`);
    return found;
  };
  return { proc, lines, next };
}

describe('handoff as an MCP task (Streamable HTTP)', () => {
  it('is declared: taskSupport optional on handoff only, and the tasks capability for tools/call, list and cancel', async () => {
    const c = await connect('alice');
    const caps = c.client.getServerCapabilities();
    expect(caps?.tasks?.requests?.tools?.call).toBeDefined();
    expect(caps?.tasks?.list).toBeDefined();
    expect(caps?.tasks?.cancel).toBeDefined();
    const { tools } = await c.client.listTools();
    expect(tools.find((t) => t.name === 'handoff')?.execution?.taskSupport).toBe('optional');
    for (const t of tools.filter((x) => x.name !== 'handoff')) expect(t.execution?.taskSupport ?? 'forbidden').toBe('forbidden');
  });

  it("a worker's own cao-mcp (the forwarder, which takes no tasks) lists handoff without execution", async () => {
    const c = await connect('ivan');
    const a = await c.call('assign', args('this one never ends'));
    const tid = sc(a).terminal_id as string;
    const [pid] = await waitFor(
      () => workerPids(tid),
      (p) => p.length > 0,
      10_000,
    );
    const env = Object.fromEntries(
      readFileSync(`/proc/${pid}/environ`, 'latin1')
        .split('\0')
        .filter((kv) => /^CAO_(HUB_URL|TERMINAL_ID|TOKEN)=/.test(kv))
        .map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]),
    ) as Record<string, string>;
    expect(Object.keys(env).sort()).toEqual(['CAO_HUB_URL', 'CAO_TERMINAL_ID', 'CAO_TOKEN']);
    const worker = new Client({ name: 'worker-cli', version: '1' });
    await worker.connect(
      new StdioClientTransport({
        command: process.execPath,
        args: [CLI],
        env: { ...(process.env as Record<string, string>), CAO_HOME: home, ...env },
      }),
    );
    try {
      const { tools } = await worker.listTools();
      const handoff = tools.find((t) => t.name === 'handoff');
      expect(handoff).toBeDefined();
      expect(handoff?.execution).toBeUndefined();
      expect(worker.getServerCapabilities()?.tasks).toBeUndefined();
    } finally {
      await worker.close();
      await c.call('stop_agent', { terminal_id: tid });
    }
  });

  it('(a) tasks/get shows working, then completed; tasks/result holds the same structured result as the blocking call', async () => {
    const c = await connect('alice');
    const task = await startTask(c, 'please give the slow answer');
    expect(task.status).toBe('working');
    expect(task.taskId).toMatch(/^[0-9a-f]{32}$/);
    const seen: Task['status'][] = [];
    let last: Awaited<ReturnType<typeof getTask>> | undefined;
    const t0 = Date.now();
    while (Date.now() - t0 < 40_000) {
      last = await getTask(c, task.taskId);
      if (seen.at(-1) !== last.status) seen.push(last.status);
      if (last.status !== 'working') break;
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(seen).toEqual(['working', 'completed']);
    expect(terminalOf(last!)).toMatch(/^[0-9a-f]{8}$/);
    const viaTask = await taskResult(c, task.taskId);
    expect(viaTask.isError).toBeFalsy();
    expect(sc(viaTask).output).toBe(SLOW);
    expect(sc(viaTask).terminal_id).toBe(terminalOf(last!));

    const blocking = await c.call('handoff', args('please give the slow answer'));
    // (the blocking call may be served by the warm spare the task's handoff left: its timings differ)
    const { duration_ms: _d1, terminal_id: _t1, message: m1, timings: _i1, warm: _w1, ...a } = sc(viaTask);
    const { duration_ms: _d2, terminal_id: _t2, message: m2, timings: _i2, warm: _w2, ...b } = sc(blocking);
    expect(a).toEqual(b);
    expect(a).toMatchObject({ success: true, output: SLOW, provider: 'mock', status: 'completed' });
    expect(Object.keys(sc(viaTask)).sort()).toEqual(Object.keys(sc(blocking)).sort());
    expect(String(m1)).toMatch(/^Handed off to developer/);
    expect(String(m2)).toMatch(/^Handed off to developer/);
    expect(JSON.parse((viaTask.content[0] as { text: string }).text)).toEqual(sc(viaTask));
    // the worker was ended, as after a blocking handoff
    expect(
      await waitFor(
        () => workerPids(sc(viaTask).terminal_id as string),
        (p) => p.length === 0,
        10_000,
      ),
    ).toEqual([]);
  });

  it('(b) the client process dies mid-handoff: a new session of the same supervisor gets the answer by read_output and tasks/result', async () => {
    const child = childClient('carol', 'task', 'please give the slow answer');
    const { task } = (await child.next((l) => 'task' in l)) as { task: Task };
    const c = await connect('carol'); // a new session, the same caller
    const t = await waitFor(
      () => getTask(c, task.taskId),
      (x) => terminalOf(x) !== undefined,
      15_000,
    );
    const tid = terminalOf(t)!;
    const pids = await waitFor(
      () => workerPids(tid),
      (p) => p.length > 0,
      10_000,
    );
    expect(pids.length).toBeGreaterThan(0);
    await stopProc(child.proc, 'SIGKILL');
    await new Promise((r) => setTimeout(r, 300));
    expect(pids.every(pidAlive)).toBe(true);
    expect((await getTask(c, task.taskId)).status).toBe('working');
    const out = await c.call('read_output', { terminal_id: tid, wait_seconds: 30 });
    expect(out.isError).toBeFalsy();
    expect(sc(out).output).toBe(SLOW);
    const r = await taskResult(c, task.taskId);
    expect(sc(r)).toMatchObject({ success: true, output: SLOW, terminal_id: tid });
    expect((await getTask(c, task.taskId)).status).toBe('completed');
    // and from yet another session, after the first one closed
    await c.close();
    const again = await connect('carol');
    expect(sc(await taskResult(again, task.taskId)).output).toBe(SLOW);
  });

  it('(c) a blocking handoff whose client is killed mid-turn: the same worker keeps working, left running, and read_output returns its answer', async () => {
    const child = childClient('dave', 'blocking', 'please give the slow answer');
    const first = (await child.next((l) => 'progress' in l)).progress as { message: string; _meta?: Record<string, unknown> };
    const tid = terminalOf(first)!;
    expect(tid).toMatch(/^[0-9a-f]{8}$/);
    const pids = await waitFor(
      () => workerPids(tid),
      (p) => p.length > 0,
      10_000,
    );
    const c = await connect('dave');
    // kill it once the task is typed and the worker is at work
    await waitFor(
      async () => (await c.call('list_agents', {})).structuredContent as { agents: { id: string; status: string }[] },
      (x) => x.agents.some((a) => a.id === tid && a.status === 'processing'),
      15_000,
    );
    await stopProc(child.proc, 'SIGKILL');
    expect(child.lines.some((l) => 'result' in l)).toBe(false);
    await new Promise((r) => setTimeout(r, 300));
    expect(pids.every(pidAlive)).toBe(true);
    const out = await c.call('read_output', { terminal_id: tid, wait_seconds: 30 });
    expect(out.isError).toBeFalsy();
    expect(sc(out)).toMatchObject({ terminal_id: tid, output: SLOW, status: 'completed' });
    // left running (not ended by a handoff nobody waits for any more): still readable, same processes
    await new Promise((r) => setTimeout(r, 1000));
    expect(pids.every(pidAlive)).toBe(true);
    expect(sc(await c.call('read_output', { terminal_id: tid })).output).toBe(SLOW);
    const agents = (await c.call('list_agents', {})).structuredContent as { agents: { id: string; ended: boolean }[] };
    expect(agents.agents.find((a) => a.id === tid)?.ended).toBe(false);
    expect((await c.call('stop_agent', { terminal_id: tid })).isError).toBeFalsy();
  });

  it('(d) an explicit cancel still stops the worker: tasks/cancel, and notifications/cancelled on a blocking call', async () => {
    const c = await connect('erin');
    const task = await startTask(c, 'this one never ends');
    const t = await waitFor(
      () => getTask(c, task.taskId),
      (x) => terminalOf(x) !== undefined,
      15_000,
    );
    const tid = terminalOf(t)!;
    expect(
      await waitFor(
        () => workerPids(tid),
        (p) => p.length > 0,
        10_000,
      ),
    ).not.toEqual([]);
    const cancelled = await c.client.experimental.tasks.cancelTask(task.taskId);
    expect(cancelled.status).toBe('cancelled');
    expect(
      await waitFor(
        () => workerPids(tid),
        (p) => p.length === 0,
        10_000,
      ),
    ).toEqual([]);
    expect((await getTask(c, task.taskId)).status).toBe('cancelled');

    const ac = new AbortController();
    let blockingTid: string | undefined;
    const call = c.client
      .callTool({ name: 'handoff', arguments: args('this one never ends') }, undefined, {
        signal: ac.signal,
        timeout: 60_000,
        onprogress: (p) => {
          blockingTid ??= terminalOf(p as { _meta?: Record<string, unknown> });
        },
      })
      .catch((e: Error) => e);
    await waitFor(
      () => blockingTid,
      (x) => x !== undefined,
      15_000,
    );
    expect(
      await waitFor(
        () => workerPids(blockingTid!),
        (p) => p.length > 0,
        10_000,
      ),
    ).not.toEqual([]);
    ac.abort('the supervisor changed its mind');
    expect(await call).toBeInstanceOf(Error);
    expect(
      await waitFor(
        () => workerPids(blockingTid!),
        (p) => p.length === 0,
        10_000,
      ),
    ).toEqual([]);
    const ended = await waitFor(
      async () => ((await c.call('list_agents', { include_ended: true })).structuredContent as { agents: { id: string; ended: boolean }[] }).agents,
      (as) => as.find((a) => a.id === blockingTid)?.ended === true,
      10_000,
    );
    expect(ended.find((a) => a.id === blockingTid)).toMatchObject({ ended: true });
  });

  it('(e) another caller can neither see nor fetch nor cancel the task', async () => {
    const owner = await connect('frank');
    const other = await connect('mallory');
    const task = await startTask(owner, 'give the quick answer');
    await expect(getTask(other, task.taskId)).rejects.toThrow(/not found/i);
    await expect(taskResult(other, task.taskId)).rejects.toThrow(/not found/i);
    await expect(other.client.experimental.tasks.cancelTask(task.taskId)).rejects.toThrow(/not found/i);
    expect((await other.client.experimental.tasks.listTasks()).tasks.map((t) => t.taskId)).not.toContain(task.taskId);
    expect((await owner.client.experimental.tasks.listTasks()).tasks.map((t) => t.taskId)).toContain(task.taskId);
    const r = await taskResult(owner, task.taskId);
    expect(sc(r).output).toBe('QUICK-1');
    await expect(taskResult(other, task.taskId)).rejects.toThrow(/not found/i);
  });

  it('(f) over HTTP, the first progress notification already names the terminal, in _meta and in its text', async () => {
    const c = await connect('gina');
    const progress: { message?: string; _meta?: Record<string, unknown> }[] = [];
    const r = await c.client.callTool({ name: 'handoff', arguments: args('give the quick answer') }, undefined, {
      timeout: 60_000,
      onprogress: (p) => void progress.push(p as (typeof progress)[number]),
    });
    const tid = sc(r as CallToolResult).terminal_id as string;
    expect(progress.length).toBeGreaterThan(0);
    expect(terminalOf(progress[0])).toBe(tid);
    expect(progress[0].message).toContain(tid);
    for (const p of progress) expect(terminalOf(p)).toBe(tid);
  });
});

describe('handoff progress over stdio', () => {
  let s: CaoSession | undefined;
  afterEach(async () => {
    await s?.close();
    s = undefined;
  });

  it('(f) the first progress notification names the terminal, in _meta and in its text', async () => {
    s = await startCao({ env: { CAO_MOCK_SCRIPT: JSON.stringify(SCRIPT) } });
    const progress: { message?: string; _meta?: Record<string, unknown> }[] = [];
    const r = await s.call('handoff', args('give the quick answer'), { onprogress: (p) => void progress.push(p) });
    const tid = sc(r).terminal_id as string;
    expect(tid).toMatch(/^[0-9a-f]{8}$/);
    expect(terminalOf(progress[0])).toBe(tid);
    expect(progress[0].message).toContain(`terminal ${tid}`);
  });
});
