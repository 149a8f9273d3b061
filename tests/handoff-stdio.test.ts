import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startCao, textOf, type CaoSession } from './support/cao-client.js';
import { pidsWithEnv, waitFor } from './support/procs.js';

const SCRIPT = {
  rules: [
    { match: 'say ping', answer: 'PONG-42', delayMs: 200 },
    { match: 'multi', answer: 'line one\nline two\n\nline four', delayMs: 100, stream: { chunks: 3, intervalMs: 100 } },
    { match: 'very slow', answer: 'never shown', delayMs: 20_000 },
    {
      match: 'partial then slow',
      answer: 'first part',
      delayMs: 100,
      stream: { chunks: 2, intervalMs: 100 },
      pauses: [{ afterChunk: 1, ms: 20_000 }],
    },
    { match: 'crash please', crash: { afterMs: 300, exitCode: 7, partial: 'half an answer' } },
  ],
  default: { answer: 'default: {{input}}' },
};

let s: CaoSession | undefined;
afterEach(async () => {
  await s?.close();
  s = undefined;
});

const start = () => startCao({ env: { CAO_MOCK_SCRIPT: JSON.stringify(SCRIPT) } });

describe('cao-mcp over stdio: handoff to a mock worker', () => {
  it('lists the tools with the contract parameters', async () => {
    s = await start();
    const { tools } = await s.client.listTools();
    const names = tools.map((t) => t.name);
    expect(names).toEqual(
      expect.arrayContaining([
        'handoff',
        'assign',
        'send_message',
        'read_inbox',
        'list_agents',
        'read_output',
        'answer_question',
        'stop_agent',
        'list_profiles',
      ]),
    );
    const handoff = tools.find((t) => t.name === 'handoff')!;
    expect(Object.keys(handoff.inputSchema.properties ?? {}).sort()).toEqual([
      'agent_profile',
      'host',
      'message',
      'model',
      'provider',
      'timeout',
      'working_directory',
      'worktree',
      'worktree_base',
    ]);
    expect(handoff.inputSchema.required?.sort()).toEqual(['agent_profile', 'message']);
  });

  it('returns exactly the scripted answer, with progress, and leaves no worker process', async () => {
    s = await start();
    const progress: string[] = [];
    const r = await s.call(
      'handoff',
      { agent_profile: 'developer', provider: 'mock', message: 'please say ping' },
      { onprogress: (p) => progress.push(p.message ?? '') },
    );
    const sc = r.structuredContent as Record<string, unknown>;
    expect(r.isError).toBeFalsy();
    expect(sc.success).toBe(true);
    expect(sc.output).toBe('PONG-42');
    expect(sc.provider).toBe('mock');
    expect(sc.terminal_id).toMatch(/^[0-9a-f]{8}$/);
    expect(typeof sc.duration_ms).toBe('number');
    expect(JSON.parse(textOf(r))).toEqual(sc);
    expect(progress.length).toBeGreaterThan(0);
    const left = await waitFor(
      () => pidsWithEnv('CAO_TERMINAL_ID', sc.terminal_id as string),
      (p) => p.length === 0,
      5000,
    );
    expect(left).toEqual([]);
  });

  it('keeps line breaks of a multi-line streamed answer', async () => {
    s = await start();
    const r = await s.call('handoff', { agent_profile: 'developer', provider: 'mock', message: 'multi please' });
    expect((r.structuredContent as { output: string }).output).toBe('line one\nline two\n\nline four');
  });

  it('times out with the terminal id and the partial answer, leaving the worker running', async () => {
    s = await start();
    const r = await s.call('handoff', { agent_profile: 'developer', provider: 'mock', message: 'partial then slow', timeout: 3 });
    const sc = r.structuredContent as Record<string, unknown>;
    expect(sc.success).toBe(false);
    expect(sc.message).toMatch(/timed out after 3 s/);
    expect(sc.output).toBe('first'); // chunk 1 of 2, then the scripted 20 s pause
    const id = sc.terminal_id as string;
    expect(pidsWithEnv('CAO_TERMINAL_ID', id).length).toBeGreaterThan(0);
    const list = await s.call('list_agents', {});
    const agents = (list.structuredContent as { agents: Array<{ id: string; status: string }> }).agents;
    expect(agents.find((a) => a.id === id)?.status).toBe('processing');
    await s.call('stop_agent', { terminal_id: id });
    expect(
      await waitFor(
        () => pidsWithEnv('CAO_TERMINAL_ID', id),
        (p) => p.length === 0,
      ),
    ).toEqual([]);
  });

  it('ends at once with a clear error when the worker crashes mid-task', async () => {
    s = await start();
    const t0 = Date.now();
    const r = await s.call('handoff', { agent_profile: 'developer', provider: 'mock', message: 'crash please', timeout: 60 });
    const sc = r.structuredContent as Record<string, unknown>;
    expect(Date.now() - t0).toBeLessThan(15_000);
    expect(sc.success).toBe(false);
    expect(sc.message).toMatch(/exited with code 7/);
    expect(pidsWithEnv('CAO_TERMINAL_ID', sc.terminal_id as string)).toEqual([]);
  });

  it('rejects an unknown profile, naming it and the available ones', async () => {
    s = await start();
    const r = await s.call('handoff', { agent_profile: 'no_such_agent', provider: 'mock', message: 'hi' });
    expect(r.isError).toBe(true);
    expect(textOf(r)).toMatch(/unknown agent profile "no_such_agent" \(available: .*developer/);
  });

  it('rejects an empty message without starting anything', async () => {
    s = await start();
    const r = await s.call('handoff', { agent_profile: 'developer', provider: 'mock', message: '   ' });
    expect(r.isError).toBe(true);
    expect(textOf(r)).toMatch(/message must be a non-empty string/);
    const list = await s.call('list_agents', { include_ended: true });
    expect((list.structuredContent as { agents: unknown[] }).agents).toEqual([]);
  });

  it('rejects an out-of-range timeout and an unknown provider', async () => {
    s = await start();
    const r1 = await s.call('handoff', { agent_profile: 'developer', provider: 'mock', message: 'x', timeout: 0 });
    expect(r1.isError).toBe(true);
    expect(textOf(r1)).toMatch(/timeout/);
    const r2 = await s.call('handoff', { agent_profile: 'developer', provider: 'nope', message: 'x' });
    expect(r2.isError).toBe(true);
    expect(textOf(r2)).toMatch(/provider/);
  });

  it('uses a profile from $CAO_HOME/profiles and its provider; a bad profile names file and field', async () => {
    s = await start();
    mkdirSync(join(s.home, 'profiles'), { recursive: true });
    writeFileSync(join(s.home, 'profiles', 'pinger.md'), '---\nname: pinger\ndescription: test\nprovider: mock\n---\nYou answer pings.\n');
    writeFileSync(join(s.home, 'profiles', 'broken.md'), '---\nname: broken\nprovider: not_a_cli\n---\nx\n');
    const ok = await s.call('handoff', { agent_profile: 'pinger', message: 'say ping' });
    expect((ok.structuredContent as { output: string }).output).toBe('PONG-42');
    const bad = await s.call('handoff', { agent_profile: 'broken', message: 'say ping' });
    expect(bad.isError).toBe(true);
    expect(textOf(bad)).toMatch(/broken\.md: field "provider"/);
  });
});
