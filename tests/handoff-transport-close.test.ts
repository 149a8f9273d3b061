// The other way a connection goes away: the transport itself closes (what a stdio front sees when its client dies;
// an HTTP session on DELETE or expiry). The SDK then aborts every request in flight, as it does on a cancellation;
// a handoff must tell the two apart. A real hub in process, SDK clients over the SDK's in-memory transport.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { CallToolResultSchema, CreateTaskResultSchema, type CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Hub as HubType } from '../src/hub/hub.js';
import { HandoffTasks } from '../src/mcp/tasks.js';
import { pidsWithEnv, waitFor } from './support/procs.js';

const ANSWER = 'CLOSED-BUT-DONE 31';
const SCRIPT = {
  rules: [
    { match: 'slow answer', answer: ANSWER, delayMs: 2500 },
    { match: 'never ends', answer: 'never shown', delayMs: 60_000 },
  ],
};
const META = 'cao-mcp/terminal_id';

let home: string;
let hub: HubType;
let tasks: HandoffTasks;

beforeAll(async () => {
  home = mkdtempSync(path.join(tmpdir(), 'cao-close-'));
  process.env.CAO_HOME = home;
  process.env.CAO_MOCK_SCRIPT = JSON.stringify(SCRIPT);
  const { Hub } = await import('../src/hub/hub.js');
  hub = await new Hub({ mode: 'serve', port: 0 }).start();
  await hub.registry.ensureExternal('sam');
  tasks = new HandoffTasks();
});
afterAll(async () => {
  await hub?.stop();
  rmSync(home, { recursive: true, force: true });
});

async function connect(name = 'sam') {
  const { createMcpServer } = await import('../src/mcp/tools.js');
  const { server } = createMcpServer(hub.flows, { id: name, kind: 'external' }, tasks);
  const [a, b] = InMemoryTransport.createLinkedPair();
  await server.connect(a);
  const client = new Client({ name, version: '1' });
  await client.connect(b);
  return { client, transport: b, server };
}
const args = (message: string) => ({ agent_profile: 'developer', provider: 'mock', message });
const sc = (r: CallToolResult) => r.structuredContent as Record<string, unknown>;

describe('handoff when the transport closes mid-turn', () => {
  it('a blocking handoff: the worker keeps working and is left running; a new session reads its answer', async () => {
    const first = await connect();
    let tid: string | undefined;
    const call = first.client
      .callTool({ name: 'handoff', arguments: args('give the slow answer') }, undefined, {
        timeout: 60_000,
        onprogress: (p) => {
          tid ??= (p as { _meta?: Record<string, string> })._meta?.[META];
        },
      })
      .catch((e: Error) => e);
    await waitFor(
      () => tid,
      (x) => x !== undefined,
      15_000,
    );
    const pids = await waitFor(
      () => pidsWithEnv('CAO_TERMINAL_ID', tid!),
      (p) => p.length > 0,
      10_000,
    );
    await first.transport.close(); // both ends: the server's Protocol runs _onclose and aborts the request
    expect(first.server.isConnected()).toBe(false);
    expect(await call).toBeInstanceOf(Error); // the client side gave up on it
    await new Promise((r) => setTimeout(r, 300));
    expect(pidsWithEnv('CAO_TERMINAL_ID', tid!)).toEqual(pids);

    const second = await connect();
    const out = (await second.client.callTool({ name: 'read_output', arguments: { terminal_id: tid, wait_seconds: 30 } })) as CallToolResult;
    expect(sc(out)).toMatchObject({ terminal_id: tid, output: ANSWER, status: 'completed' });
    await new Promise((r) => setTimeout(r, 800));
    expect(pidsWithEnv('CAO_TERMINAL_ID', tid!)).toEqual(pids); // left running, not ended by the handoff
    await second.client.callTool({ name: 'stop_agent', arguments: { terminal_id: tid } });
    await second.client.close();
  });

  it('a cancellation on the same transport (notifications/cancelled) stops the worker', async () => {
    const c = await connect();
    const ac = new AbortController();
    let tid: string | undefined;
    const call = c.client
      .callTool({ name: 'handoff', arguments: args('this never ends') }, undefined, {
        signal: ac.signal,
        timeout: 60_000,
        onprogress: (p) => {
          tid ??= (p as { _meta?: Record<string, string> })._meta?.[META];
        },
      })
      .catch((e: Error) => e);
    await waitFor(
      () => tid,
      (x) => x !== undefined,
      15_000,
    );
    expect(
      await waitFor(
        () => pidsWithEnv('CAO_TERMINAL_ID', tid!),
        (p) => p.length > 0,
        10_000,
      ),
    ).not.toEqual([]);
    ac.abort();
    expect(await call).toBeInstanceOf(Error);
    expect(
      await waitFor(
        () => pidsWithEnv('CAO_TERMINAL_ID', tid!),
        (p) => p.length === 0,
        10_000,
      ),
    ).toEqual([]);
    expect(c.server.isConnected()).toBe(true);
    await c.client.close();
  });

  it('a task outlives the session that started it: tasks/result from a new session', async () => {
    const first = await connect();
    const { task } = await first.client.request(
      { method: 'tools/call', params: { name: 'handoff', arguments: args('give the slow answer'), task: {} } },
      CreateTaskResultSchema,
    );
    expect(task.ttl).toBe(60 * 60 * 1000); // the default TTL when none is asked for
    await first.transport.close();
    const second = await connect();
    const r = (await second.client.experimental.tasks.getTaskResult(task.taskId, CallToolResultSchema, { timeout: 60_000 })) as CallToolResult;
    expect(sc(r)).toMatchObject({ success: true, output: ANSWER });
    await second.client.close();
  });
});
