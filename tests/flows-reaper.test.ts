// The idle reaper: a worker ready with nothing to do for CAO_WORKER_IDLE_SECONDS is stopped and its creator told;
// one that is working, or has mail waiting, is not. A real hub (`cao-mcp serve`), mock workers, an MCP client.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { connectHttp, startServe, stopProc } from './support/http-client.js';
import { pidsWithEnv, waitFor } from './support/procs.js';

const home = mkdtempSync(join(tmpdir(), 'cao-reaper-'));
const cleanup: Array<() => unknown> = [];
afterAll(async () => {
  for (const f of cleanup.reverse()) await f();
  rmSync(home, { recursive: true, force: true });
});

describe('idle reaper', () => {
  it('stops a worker idle past CAO_WORKER_IDLE_SECONDS, tells its creator, and spares one at work', { timeout: 60_000 }, async () => {
    const script = { rules: [{ match: 'long job', answer: 'done at last', delayMs: 6000 }], default: { answer: 'ok' } };
    const { proc, hub } = await startServe(home, { CAO_MOCK_SCRIPT: JSON.stringify(script), CAO_WORKER_IDLE_SECONDS: '2' });
    cleanup.push(() => stopProc(proc));
    const boss = await connectHttp(hub, 'boss');
    cleanup.push(() => boss.close());
    const idle = (await boss.call('assign', { agent_profile: 'developer', provider: 'mock', message: 'quick one' })).structuredContent as {
      terminal_id: string;
    };
    const busy = (await boss.call('assign', { agent_profile: 'developer', provider: 'mock', message: 'long job' })).structuredContent as {
      terminal_id: string;
    };
    const idlePid = await waitFor(
      () => pidsWithEnv('CAO_TERMINAL_ID', idle.terminal_id),
      (p) => p.length > 0,
      15_000,
    );
    expect(idlePid.length).toBeGreaterThan(0);
    // the idle one goes, within the idle time plus a sweep
    const gone = await waitFor(
      () => pidsWithEnv('CAO_TERMINAL_ID', idle.terminal_id),
      (p) => p.length === 0,
      15_000,
      100,
    );
    expect(gone).toEqual([]);
    // the busy one (6 s of work, past the 2 s idle time) is still there while it works
    expect(pidsWithEnv('CAO_TERMINAL_ID', busy.terminal_id).length).toBeGreaterThan(0);
    const inbox = await boss.call('read_inbox', { limit: 50 });
    const notices = (inbox.structuredContent as { messages: Array<{ kind: string; sender_id: string; body: string }> }).messages.filter(
      (m) => m.kind === 'notice' && m.sender_id === idle.terminal_id,
    );
    expect(notices.map((n) => n.body)).toEqual([expect.stringMatching(/was stopped after 2 s with nothing to do \(CAO_WORKER_IDLE_SECONDS\)/)]);
    const agents = await boss.call('list_agents', { include_ended: true });
    const row = (agents.structuredContent as { agents: Array<{ id: string; ended: boolean; last_error?: string }> }).agents.find(
      (a) => a.id === idle.terminal_id,
    );
    expect(row).toMatchObject({ ended: true, last_error: 'idle for 2 s (CAO_WORKER_IDLE_SECONDS)' });
  });
});
