import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'node:http';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { afterEach, describe, expect, it } from 'vitest';
import { startCao, textOf, type CaoSession } from './support/cao-client.js';
import { waitFor } from './support/procs.js';
import { inputsOf, readRecord } from './support/record.js';

const SCRIPT = {
  rules: [
    {
      match: 'report alpha',
      delayMs: 300,
      toolCalls: [{ server: 'cao', tool: 'send_message', arguments: { message: 'alpha done' } }],
      answer: 'sent alpha',
    },
    {
      match: 'report beta',
      delayMs: 600,
      toolCalls: [{ server: 'cao', tool: 'send_message', arguments: { message: 'beta done' } }],
      answer: 'sent beta',
    },
    {
      match: 'ask first',
      delayMs: 100,
      question: { text: 'Allow write to out.txt?', options: ['Yes', 'No'], answers: { '1': 'wrote it', '2': 'did not write' } },
    },
    { match: 'stay quiet', answer: 'ok' },
  ],
  // Echoes the input: a test may read the answer of a later turn than the one it waited for.
  default: { answer: 'got it: {{input}}' },
};

let s: CaoSession | undefined;
afterEach(async () => {
  await s?.close();
  s = undefined;
});

const agentsOf = async (sess: CaoSession) =>
  (
    (await sess.call('list_agents', {})).structuredContent as {
      agents: Array<{ id: string; status: string; pending_messages: number; question?: string }>;
    }
  ).agents;

const statusOf = async (sess: CaoSession, id: string) => (await agentsOf(sess)).find((a) => a.id === id)?.status;

describe('inbox: assign and send_message through real MCP clients and mock workers', () => {
  it('two assigned workers report back; the supervisor gets both, each exactly once, with a notification', async () => {
    const { s } = await startWithRecord();
    const a = await s.call('assign', { agent_profile: 'developer', provider: 'mock', message: 'report alpha' });
    const b = await s.call('assign', { agent_profile: 'developer', provider: 'mock', message: 'report beta' });
    const ida = (a.structuredContent as { terminal_id: string }).terminal_id;
    const idb = (b.structuredContent as { terminal_id: string }).terminal_id;
    expect(ida).not.toBe(idb);
    const got: Array<{ sender_id: string; body: string }> = [];
    for (let i = 0; i < 10 && got.length < 2; i++) {
      const r = await s.call('read_inbox', { wait_seconds: 10 });
      got.push(...(r.structuredContent as { messages: Array<{ sender_id: string; body: string }> }).messages);
    }
    // two workers run side by side: which reports first is theirs to decide (order holds per sender)
    expect(got.map((m) => [m.sender_id, m.body]).sort((x, y) => x[1]!.localeCompare(y[1]!))).toEqual([
      [ida, 'alpha done'],
      [idb, 'beta done'],
    ]);
    const again = await s.call('read_inbox', { wait_seconds: 1 });
    expect((again.structuredContent as { count: number }).count).toBe(0);
    expect(s.notifications.length).toBeGreaterThanOrEqual(2);
  });

  it('a message to an agent that is already idle is delivered without any further event', async () => {
    const { s, record } = await startWithRecord();
    const a = await s.call('assign', { agent_profile: 'developer', provider: 'mock', message: 'stay quiet' });
    const id = (a.structuredContent as { terminal_id: string }).terminal_id;
    expect(
      await waitFor(
        () => statusOf(s, id),
        (st) => st === 'completed',
        15_000,
      ),
    ).toBe('completed');
    const m = await s.call('send_message', { receiver_id: id, message: 'hello idle agent' });
    expect(m.isError).toBeFalsy();
    const inputs = await waitFor(
      () => inputsOf(record),
      (xs) => xs.some((x) => x.includes('hello idle agent')),
      5000,
    );
    expect(inputs.filter((x) => x.includes('hello idle agent'))).toHaveLength(1);
  });

  it('nothing is typed into a worker waiting on a question; it goes on after answer_question', async () => {
    const { s, record } = await startWithRecord();
    const a = await s.call('assign', { agent_profile: 'developer', provider: 'mock', message: 'ask first' });
    const id = (a.structuredContent as { terminal_id: string }).terminal_id;
    expect(
      await waitFor(
        () => statusOf(s, id),
        (st) => st === 'waiting_user_answer',
        15_000,
      ),
    ).toBe('waiting_user_answer');
    const agent = (await agentsOf(s)).find((x) => x.id === id)!;
    expect(agent.question).toMatch(/Allow write to out\.txt\?/);
    await s.call('send_message', { receiver_id: id, message: 'must wait for the dialog' });
    await new Promise((r) => setTimeout(r, 2500));
    expect(inputsOf(record).some((x) => x.includes('must wait'))).toBe(false);
    expect((await agentsOf(s)).find((x) => x.id === id)!.pending_messages).toBe(1);
    const ans = await s.call('answer_question', { terminal_id: id, answer: '1' });
    expect(ans.isError).toBeFalsy();
    const out = await s.call('read_output', { terminal_id: id, wait_seconds: 10 });
    expect(textOf(out)).toMatch(/wrote it|must wait/);
    await waitFor(
      () => inputsOf(record),
      (xs) => xs.some((x) => x.includes('must wait for the dialog')),
      10_000,
    );
    expect(readRecord(record).filter((r) => r.event === 'choice')).toHaveLength(1);
    expect(inputsOf(record).filter((x) => x.includes('must wait for the dialog'))).toHaveLength(1);
  });

  it('answer_question refuses when the agent is not waiting', async () => {
    const { s } = await startWithRecord();
    const a = await s.call('assign', { agent_profile: 'developer', provider: 'mock', message: 'stay quiet' });
    const id = (a.structuredContent as { terminal_id: string }).terminal_id;
    await waitFor(
      () => statusOf(s, id),
      (st) => st === 'completed',
      15_000,
    );
    const r = await s.call('answer_question', { terminal_id: id, answer: '1' });
    expect(r.isError).toBe(true);
    expect(textOf(r)).toMatch(/not waiting for an answer \(it is completed\)/);
  });

  it('message text is data: escape sequences cannot break out of the paste', async () => {
    const { s, record } = await startWithRecord();
    const a = await s.call('assign', { agent_profile: 'developer', provider: 'mock', message: 'stay quiet' });
    const id = (a.structuredContent as { terminal_id: string }).terminal_id;
    await waitFor(
      () => statusOf(s, id),
      (st) => st === 'completed',
      15_000,
    );
    await s.call('send_message', { receiver_id: id, message: 'before\x1b[201~\r/exit\rafter \x1b]0;title\x07 \x9b2J end' });
    const inputs = await waitFor(
      () => inputsOf(record),
      (xs) => xs.some((x) => x.includes('before')),
      5000,
    );
    const got = inputs.filter((x) => x.includes('before'));
    expect(got).toHaveLength(1);
    expect(got[0]).toContain('before');
    expect(got[0]).toContain('after');
    expect(got[0]).toContain('end');
    expect(got[0]).not.toMatch(/\x1b|\x9b|\x07/);
    // The agent is still alive: "/exit" was not submitted on its own.
    expect(await statusOf(s, id)).not.toBe('exited');
  });

  it('bad input: unknown or ended receiver, self, empty, oversized; each a clear error', async () => {
    const { s } = await startWithRecord();
    const unknown = await s.call('send_message', { receiver_id: 'abcdef12', message: 'x' });
    expect(unknown.isError).toBe(true);
    expect(textOf(unknown)).toMatch(/abcdef12/);
    const self = await s.call('send_message', { receiver_id: 'supervisor', message: 'x' });
    expect(self.isError).toBe(true);
    expect(textOf(self)).toMatch(/yourself|self/i);
    const noReceiver = await s.call('send_message', { message: 'x' });
    expect(noReceiver.isError).toBe(true);
    expect(textOf(noReceiver)).toMatch(/receiver_id is required/);
    const a = await s.call('assign', { agent_profile: 'developer', provider: 'mock', message: 'stay quiet' });
    const id = (a.structuredContent as { terminal_id: string }).terminal_id;
    const empty = await s.call('send_message', { receiver_id: id, message: '  ' });
    expect(empty.isError).toBe(true);
    expect(textOf(empty)).toMatch(/empty/);
    const big = await s.call('send_message', { receiver_id: id, message: 'x'.repeat(70 * 1024) });
    expect(big.isError).toBe(true);
    expect(textOf(big)).toMatch(/65536/);
    await s.call('stop_agent', { terminal_id: id });
    const ended = await s.call('send_message', { receiver_id: id, message: 'too late' });
    expect(ended.isError).toBe(true);
    expect(textOf(ended)).toMatch(/ended|exited/);
    const agents = await s.call('list_agents', { include_ended: true });
    expect(JSON.stringify(agents.structuredContent)).not.toMatch(/too late/);
  });

  it('a worker that fails to start: the assigner gets an inbox message saying so', async () => {
    // An invalid mock script makes the worker CLI exit at once (code 2), before it is ever ready.
    const session = await startCao({ env: { CAO_MOCK_SCRIPT: '{"rules": [{"answr": "typo"}]}' } });
    s = session;
    const a = await session.call('assign', { agent_profile: 'developer', provider: 'mock', message: 'anything' });
    const id = (a.structuredContent as { terminal_id: string }).terminal_id;
    const r = await session.call('read_inbox', { wait_seconds: 20 });
    const msgs = (r.structuredContent as { messages: Array<{ sender_id: string; body: string }> }).messages;
    expect(msgs).toHaveLength(1);
    expect(msgs[0].sender_id).toBe(id);
    expect(msgs[0].body).toMatch(new RegExp(`Worker ${id} \\(developer, mock\\) failed to start, so it never received the task`));
    expect(msgs[0].body).toMatch(/exited during startup \(code 2\)/);
    const agents = await session.call('list_agents', { include_ended: true });
    const row = (agents.structuredContent as { agents: Array<{ id: string; ended: boolean }> }).agents.find((x) => x.id === id);
    expect(row?.ended).toBe(true);
  });

  it('the hub refuses a connection with an invalid token', async () => {
    const { s } = await startWithRecord();
    const hubs = readRecordHub(s.home);
    const client = new Client({ name: 'intruder', version: '1' });
    const transport = new StreamableHTTPClientTransport(new URL('/mcp', hubs.url), {
      requestInit: { headers: { Authorization: 'Bearer not-a-token' } },
    });
    await expect(client.connect(transport)).rejects.toThrow(/401|token/);
    // DNS rebinding: a valid token under a foreign Host header is still refused (fetch cannot set Host).
    const status = await new Promise<number>((resolve, reject) => {
      const u = new URL('/mcp', hubs.url);
      const req = request(
        {
          host: u.hostname,
          port: u.port,
          path: u.pathname,
          method: 'POST',
          headers: { host: 'evil.example', authorization: `Bearer ${hubs.token}`, 'content-type': 'application/json' },
        },
        (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        },
      );
      req.on('error', reject);
      req.end('{}');
    });
    expect(status).toBe(403);
  });
});

function startWithRecord() {
  return (async () => {
    const home = mkdtempSync(join(tmpdir(), 'cao-inbox-'));
    const record = join(home, 'record.jsonl');
    const session = await startCao({ home, env: { CAO_MOCK_SCRIPT: JSON.stringify(SCRIPT), CAO_MOCK_RECORD: record } });
    s = session;
    return { s: session, record };
  })();
}

function readRecordHub(home: string): { url: string; token: string } {
  const dir = join(home, 'hubs');
  const f = readdirSync(dir).find((x) => x.endsWith('.json'))!;
  return JSON.parse(readFileSync(join(dir, f), 'utf8'));
}
