// Warm spares: real `cao-mcp serve`, the mock agent CLI, real MCP clients over Streamable HTTP. A spare is a worker
// started ahead of need and never typed into; a handoff of the same spec takes it and skips the start-up.
import { execFileSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectHttp, startServe, stopProc, type HttpCaller, type HubInfo } from './support/http-client.js';
import { pidsWithEnv, waitFor } from './support/procs.js';
import { specKey, type WorkerSpec } from '../src/flows/warm.js';

// A slow start-up (1.5 s before its prompt), so that a warm handoff is visibly faster than a cold one.
const SCRIPT = {
  startup: { delayMs: 1500 },
  rules: [{ match: 'first task', answer: 'FIRST-ANSWER' }],
  default: { answer: 'answer to: {{input}}' },
};

let home: string;
let project: string;
let serve: { proc: ChildProcess; hub: HubInfo; stderr: () => string };
let c: HttpCaller;

beforeAll(async () => {
  home = mkdtempSync(path.join(tmpdir(), 'cao-warm-'));
  project = path.join(home, 'project');
  mkdirSync(path.join(project, '.cao', 'profiles'), { recursive: true });
  writeFileSync(path.join(project, '.cao', 'profiles', 'solo.md'), '---\ndescription: never warm\npool: 0\n---\nYou work alone.\n');
  writeFileSync(path.join(project, '.cao', 'profiles', 'pair.md'), '---\ndescription: two spares\npool: 2\n---\nYou pair.\n');
  for (const args of [
    ['init', '-q'],
    ['add', '.'],
    ['-c', 'user.name=T', '-c', 'user.email=t@example.com', 'commit', '-qm', 'init'],
  ])
    execFileSync('git', args, { cwd: project });
  serve = await startServe(path.join(home, 'cao'), { CAO_MOCK_SCRIPT: JSON.stringify(SCRIPT), CAO_WARM_IDLE_SECONDS: '20' });
  c = await connectHttp(serve.hub, 'boss');
});
afterAll(async () => {
  await c?.close();
  if (serve) await stopProc(serve.proc);
  rmSync(home, { recursive: true, force: true });
});

const json = (r: { structuredContent?: unknown }) => r.structuredContent as Record<string, any>;
const handoff = async (message: string, extra: Record<string, unknown> = {}) =>
  json(await c.call('handoff', { agent_profile: 'developer', provider: 'mock', working_directory: project, message, ...extra }));
const agents = async () => json(await c.call('list_agents', { include_ended: true })).agents as Record<string, any>[];
const spares = async (profile = 'developer') => (await agents()).filter((a) => a.warm && !a.ended && a.profile === profile);
const readySpares = (profile = 'developer', n = 1) =>
  waitFor(
    () => spares(profile),
    (s) => s.length >= n && s.every((a) => a.status === 'idle'),
    20_000,
    100,
  );

describe('warm spares', () => {
  it('after the first handoff a spare is kept ready; the next handoff of the same spec takes it, answers exactly, and starts nothing', async () => {
    const cold = await handoff('first task');
    expect(cold).toMatchObject({ success: true, output: 'FIRST-ANSWER', warm: false });
    expect(cold.timings.spawn_ms).toBeGreaterThanOrEqual(0);
    expect(cold.timings.ready_ms).toBeGreaterThan(cold.timings.first_output_ms);

    const [spare] = await readySpares();
    // nobody's until taken: only the operator may act on it
    expect(spare).toMatchObject({ creator: null, status: 'idle', warm: true });

    const warm = await handoff('second task');
    expect(warm).toMatchObject({ success: true, warm: true, terminal_id: spare!.id });
    // the exact answer to this task, nothing of the first one (the spare never saw it)
    expect(warm.output).toBe('answer to: second task');
    expect(warm.timings).toMatchObject({ spawn_ms: null, first_output_ms: null, ready_ms: null });
    expect(warm.timings.submitted_ms).toBeLessThan(500);
    // the start-up (1.5 s in this script) is not in the warm handoff
    expect(warm.duration_ms).toBeLessThan(cold.duration_ms - 1000);
    const taken = (await agents()).find((a) => a.id === spare!.id)!;
    expect(taken.creator).toBe('boss');
    // and another spare takes its place
    const [next] = await readySpares();
    expect(next!.id).not.toBe(spare!.id);
  });

  it('a spare that went bad is stopped and replaced, never used: typed into by a person, or exited', async () => {
    const [spare] = await readySpares();
    const typed = await fetch(new URL(`/api/agents/${spare!.id}/input`, serve.hub.url), {
      method: 'POST',
      headers: { Authorization: `Bearer ${serve.hub.token}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ data: 'x' }),
    });
    expect(typed.status).toBe(200);
    const r = await handoff('third task');
    expect(r).toMatchObject({ success: true, warm: false, output: 'answer to: third task' });
    expect(r.terminal_id).not.toBe(spare!.id);
    const gone = await waitFor(
      async () => (await agents()).find((a) => a.id === spare!.id)!,
      (a) => a.ended,
      10_000,
    );
    expect(gone.last_error).toMatch(/^warm spare went bad/);

    // one that exited on its own is simply gone: the next handoff starts cold
    const [s2] = await readySpares();
    for (const pid of pidsWithEnv('CAO_TERMINAL_ID', s2!.id)) process.kill(pid, 'SIGKILL');
    await waitFor(
      async () => (await agents()).find((a) => a.id === s2!.id)!,
      (a) => a.ended,
      10_000,
    );
    const r2 = await handoff('fourth task');
    expect(r2).toMatchObject({ success: true, warm: false, output: 'answer to: fourth task' });
  });

  it('profiles choose how many: pool: 0 keeps none, pool: 2 keeps two', async () => {
    await handoff('solo task', { agent_profile: 'solo' });
    await new Promise((r) => setTimeout(r, 2500));
    expect(await spares('solo')).toEqual([]);

    await handoff('pair task', { agent_profile: 'pair' });
    const two = await readySpares('pair', 2);
    expect(two).toHaveLength(2);
    // a different spec (another model) never takes them
    const other = await handoff('other model', { agent_profile: 'pair', model: 'other-model' });
    expect(other.warm).toBe(false);
  });

  it('a worker in a worktree is never served by a spare, and leaves none', async () => {
    const before = (await readySpares()).map((a) => a.id);
    const r = await handoff('in a worktree', { worktree: true });
    expect(r).toMatchObject({ success: true, warm: false, output: 'answer to: in a worktree', worktree: { state: 'removed' } });
    await new Promise((res) => setTimeout(res, 2500));
    const after = await spares();
    expect(after.map((a) => a.id)).toEqual(before);
    expect(after.every((a) => a.working_directory === project)).toBe(true);
  });

  it('an unused spare expires (CAO_WARM_IDLE_SECONDS)', async () => {
    const [s] = await readySpares();
    const ended = await waitFor(
      async () => (await agents()).find((a) => a.id === s!.id)!,
      (a) => a.ended,
      40_000,
      500,
    );
    expect(ended.last_error).toMatch(/unused for 20 s \(CAO_WARM_IDLE_SECONDS\)/);
  }, 60_000);

  it('a spare matches only the same provider, profile (and its prompt), model, directory and hub environment', () => {
    const profile = { name: 'dev', description: '', systemPrompt: 'You code.', file: '/p/dev.md' };
    const spec: WorkerSpec = { cwd: '/w', profile, providerId: 'mock', model: undefined };
    const env = { PATH: '/bin', CAO_X: '1' };
    const key = specKey(spec, env);
    expect(specKey({ ...spec }, { CAO_X: '1', PATH: '/bin' })).toBe(key); // order does not matter
    for (const other of [
      specKey({ ...spec, providerId: 'claude_code' }, env),
      specKey({ ...spec, profile: { ...profile, systemPrompt: 'You review.' } }, env),
      specKey({ ...spec, profile: { ...profile, file: '/q/dev.md' } }, env),
      specKey({ ...spec, model: 'm2' }, env),
      specKey({ ...spec, cwd: '/elsewhere' }, env),
      specKey(spec, { ...env, CAO_X: '2' }),
    ])
      expect(other).not.toBe(key);
  });
});
