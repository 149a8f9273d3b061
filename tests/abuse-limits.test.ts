// Abuse suite, part 2: every size and shape check before anything is started, and the caps (src/flows/limits.ts).
// Each test is one probe of issue 11; each failed on the code before it.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectHttp, startServe, stopProc, type HttpCaller, type HubInfo } from './support/http-client.js';
import { textOf } from './support/cao-client.js';
import { waitFor } from './support/procs.js';
import { tokenOfTerminal } from './support/argv-scan.js';
import { initializeBody, openSession, post, postChunked } from './support/raw-mcp.js';

type Serve = { proc: ChildProcess; hub: HubInfo; stderr: () => string; home: string };
const serves: Serve[] = [];
async function serveWith(env: Record<string, string>): Promise<Serve> {
  const home = mkdtempSync(path.join(tmpdir(), 'cao-abuse-lim-'));
  const s = { ...(await startServe(home, { CAO_MOCK_SCRIPT: JSON.stringify({ default: { answer: 'ok' } }), ...env })), home };
  serves.push(s);
  return s;
}
afterAll(async () => {
  for (const s of serves) {
    await stopProc(s.proc);
    rmSync(s.home, { recursive: true, force: true });
  }
});

const idOf = (r: CallToolResult) => (r.structuredContent as { terminal_id: string }).terminal_id;
const allAgents = async (c: HttpCaller) =>
  ((await c.call('list_agents', { include_ended: true })).structuredContent as { agents: Array<{ id: string; status: string; ended: boolean }> })
    .agents;
const hubInfo = async (s: Serve) => (await (await fetch(new URL(`/api/hub?token=${s.hub.token}`, s.hub.url))).json()) as { mcpSessions: number };

describe('checks before anything is started', () => {
  let s: Serve;
  let sup: HttpCaller;
  beforeAll(async () => {
    s = await serveWith({});
    sup = await connectHttp(s.hub, 'sup');
  });
  afterAll(() => sup?.close());

  it('an over-limit assign or handoff is refused with a clear error, and no worker is started', async () => {
    const big = 'x'.repeat(70 * 1024);
    for (const tool of ['assign', 'handoff']) {
      const r = await sup.call(tool, { agent_profile: 'developer', provider: 'mock', message: big });
      expect(r.isError, tool).toBe(true);
      expect(textOf(r)).toMatch(/the task message is \d+ bytes; the limit is 65536 bytes \(64 KiB\); no worker was started/);
      // the typed code reaches the client at the head of the text
      expect(textOf(r)).toMatch(/^Error: \[body_too_large\] /);
      expect(textOf(r)).not.toMatch(/internal error/);
    }
    // an assign whose framing would push it over the limit is refused too
    const edge = await sup.call('assign', { agent_profile: 'developer', provider: 'mock', message: 'y'.repeat(65_500) });
    expect(edge.isError).toBe(true);
    expect(await allAgents(sup)).toEqual([]);
  });

  it('a model that is not a model name (option, ESC, newline, NUL) is refused before spawn', async () => {
    for (const model of ['-x', '--dangerously-skip-permissions', 'a\u001b[2Jb', 'a\nb', 'a\u0000b', 'x'.repeat(200)]) {
      const r = await sup.call('assign', { agent_profile: 'developer', provider: 'mock', message: 'hi', model });
      expect(r.isError, JSON.stringify(model)).toBe(true);
      expect(textOf(r)).toMatch(/is not a model name/);
    }
    expect(await allAgents(sup)).toEqual([]);
  });
});

describe('caps', () => {
  it('live workers per caller and in total: the one over the cap gets an error naming the cap', async () => {
    const s = await serveWith({ CAO_MAX_WORKERS: '3', CAO_MAX_WORKERS_PER_CALLER: '2' });
    const alice = await connectHttp(s.hub, 'alice');
    const bob = await connectHttp(s.hub, 'bob');
    try {
      const three = await Promise.all([1, 2, 3].map(() => alice.call('assign', { agent_profile: 'developer', provider: 'mock', message: 'hi' })));
      expect(three.filter((r) => !r.isError)).toHaveLength(2);
      const refused = three.find((r) => r.isError)!;
      expect(textOf(refused)).toMatch(
        /worker limit reached: you \(alice\) have 2 workers running and the limit per caller is 2 \(CAO_MAX_WORKERS_PER_CALLER\)/,
      );
      expect((await bob.call('assign', { agent_profile: 'developer', provider: 'mock', message: 'hi' })).isError).toBeFalsy();
      const total = await bob.call('assign', { agent_profile: 'developer', provider: 'mock', message: 'hi' });
      expect(textOf(total)).toMatch(/worker limit reached: 3 workers are running in this hub \(CAO_MAX_WORKERS\)/);
      expect(textOf(total)).toMatch(/^Error: \[worker_limit\] /);
      expect((await allAgents(alice)).length).toBe(3);
      // a stopped worker frees its place
      await alice.call('stop_agent', { terminal_id: idOf(three.find((r) => !r.isError)!) });
      expect((await alice.call('assign', { agent_profile: 'developer', provider: 'mock', message: 'hi' })).isError).toBeFalsy();
    } finally {
      await alice.close();
      await bob.close();
    }
  });

  it('delegation depth: a worker at the limit is told so, and nothing is started', async () => {
    const s = await serveWith({ CAO_MAX_DEPTH: '2' });
    const sup = await connectHttp(s.hub, 'sup');
    const asWorker = async (id: string) => {
      const client = new Client({ name: 'w', version: '1' });
      await client.connect(
        new StreamableHTTPClientTransport(new URL('/mcp', s.hub.url), {
          requestInit: { headers: { Authorization: `Bearer ${tokenOfTerminal(id)}` } },
        }),
      );
      return client;
    };
    try {
      const d1 = idOf(await sup.call('assign', { agent_profile: 'developer', provider: 'mock', message: 'hi' }));
      await waitFor(() => tokenOfTerminal(d1), Boolean, 10_000);
      const w1 = await asWorker(d1);
      const d2r = (await w1.callTool({
        name: 'assign',
        arguments: { agent_profile: 'developer', provider: 'mock', message: 'hi' },
      })) as CallToolResult;
      expect(d2r.isError, textOf(d2r)).toBeFalsy();
      const d2 = idOf(d2r);
      await waitFor(() => tokenOfTerminal(d2), Boolean, 10_000);
      const w2 = await asWorker(d2);
      for (const tool of ['assign', 'handoff']) {
        const r = (await w2.callTool({ name: tool, arguments: { agent_profile: 'developer', provider: 'mock', message: 'hi' } })) as CallToolResult;
        expect(r.isError).toBe(true);
        expect(textOf(r)).toMatch(/delegation depth limit reached: a worker of yours would be at depth 3, and the limit is 2 \(CAO_MAX_DEPTH\)/);
        expect(textOf(r)).toMatch(/^Error: \[depth_limit\] /);
      }
      expect((await allAgents(sup)).length).toBe(2);
      await w1.close();
      await w2.close();
    } finally {
      await sup.close();
    }
  });

  it('MCP sessions: capped with a clear error, closed after their idle expiry, then a new one can be opened', async () => {
    const s = await serveWith({ CAO_MAX_SESSIONS: '3', CAO_SESSION_IDLE_SECONDS: '1' });
    const sids = [await openSession(s.hub.url, s.hub.token), await openSession(s.hub.url, s.hub.token), await openSession(s.hub.url, s.hub.token)];
    const full = await post(s.hub.url, s.hub.token, initializeBody());
    expect(full.status).toBe(503);
    expect(JSON.parse(full.text).error.message).toMatch(/too many open MCP sessions \(3, CAO_MAX_SESSIONS\)/);
    expect((await hubInfo(s)).mcpSessions).toBe(3);
    await waitFor(
      () => hubInfo(s),
      (h) => h.mcpSessions === 0,
      5000,
    );
    const gone = await post(
      s.hub.url,
      s.hub.token,
      { jsonrpc: '2.0', id: 1, method: 'tools/list' },
      { 'mcp-session-id': sids[0]!, 'mcp-protocol-version': '2025-06-18' },
    );
    expect(gone.status).toBe(404);
    expect(JSON.parse(gone.text).error.message).toMatch(/unknown MCP session .* \(it ended or expired\)/);
    await openSession(s.hub.url, s.hub.token);
  });

  it('a worker whose MCP session expired gets a new one: its next tool call still works', async () => {
    const home = mkdtempSync(path.join(tmpdir(), 'cao-abuse-lim-'));
    const record = path.join(home, 'record.jsonl');
    const script = {
      rules: [
        { match: 'first', toolCalls: [{ server: 'cao', tool: 'list_agents', arguments: {} }], answer: 'one' },
        { match: 'second', toolCalls: [{ server: 'cao', tool: 'send_message', arguments: { message: 'after expiry' } }], answer: 'two' },
      ],
    };
    const s = {
      ...(await startServe(home, { CAO_MOCK_SCRIPT: JSON.stringify(script), CAO_MOCK_RECORD: record, CAO_SESSION_IDLE_SECONDS: '1' })),
      home,
    };
    serves.push(s);
    const sup = await connectHttp(s.hub, 'sup');
    try {
      const id = idOf(await sup.call('assign', { agent_profile: 'developer', provider: 'mock', message: 'first' }));
      const { readRecord } = await import('./support/record.js');
      const results = () => readRecord(record).filter((r) => r.event === 'tool_result');
      await waitFor(results, (x) => x.length === 1, 15_000);
      await waitFor(
        () => hubInfo(s),
        (h) => h.mcpSessions === 1,
        5000,
      ); // the supervisor's own; the worker's expired
      await sup.call('send_message', { receiver_id: id, message: 'second' });
      const got = await waitFor(results, (x) => x.length === 2, 15_000);
      expect(got[1]).toMatchObject({ tool: 'send_message', isError: false });
      const inbox = (await sup.call('read_inbox', { wait_seconds: 5 })).structuredContent as { messages: Array<{ body: string }> };
      expect(inbox.messages.map((m) => m.body)).toEqual(['after expiry']);
    } finally {
      await sup.close();
    }
  });

  it('a refused session-less POST allocates nothing: 300 of them leave no session behind', async () => {
    const s = await serveWith({});
    for (let i = 0; i < 300; i++) {
      const r = await post(s.hub.url, s.hub.token, { jsonrpc: '2.0', id: i, method: 'tools/call', params: { name: 'list_agents', arguments: {} } });
      expect(r.status).toBe(400);
      expect(JSON.parse(r.text).error.message).toMatch(/no MCP session: start one with an initialize POST/);
    }
    // an initialize the SDK refuses (no text/event-stream in Accept) does not stay either
    const refusedInit = await post(s.hub.url, s.hub.token, initializeBody(), { Accept: 'application/json' });
    expect(refusedInit.status).toBe(406);
    expect((await hubInfo(s)).mcpSessions).toBe(0);
  });

  it('a body over the limit is answered 413 with a JSON error, not a reset; with and without Content-Length', async () => {
    const s = await serveWith({ CAO_MAX_BODY_BYTES: '100000' });
    const sized = await post(
      s.hub.url,
      s.hub.token,
      JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { pad: 'z'.repeat(200_000) } }),
    );
    expect(sized.status).toBe(413);
    expect(JSON.parse(sized.text).error).toMatch(/request body larger than 100000 bytes \(CAO_MAX_BODY_BYTES\)/);
    const chunked = await postChunked(s.hub.url, s.hub.token, 3 * 1024 * 1024);
    expect(chunked.status).toBe(413);
    expect(JSON.parse(chunked.text).error).toMatch(/larger than 100000 bytes/);
    // and the hub is fine
    expect((await fetch(new URL('/healthz', s.hub.url))).status).toBe(200);
    expect((await hubInfo(s)).mcpSessions).toBe(0);
  });

  it('the inline path takes only the media type application/json (not text/plain; charset=application/json)', async () => {
    const s = await serveWith({});
    const bob = await connectHttp(s.hub, 'bob');
    try {
      const sid = await openSession(s.hub.url, s.hub.token, { 'X-Cao-Supervisor': 'alice' });
      const headers = {
        'mcp-session-id': sid,
        'mcp-protocol-version': '2025-06-18',
        'X-Cao-Supervisor': 'alice',
        'Content-Type': 'text/plain; charset=application/json',
      };
      const r = await post(
        s.hub.url,
        s.hub.token,
        { jsonrpc: '2.0', id: 5, method: 'tools/call', params: { name: 'send_message', arguments: { receiver_id: 'bob', message: 'smuggled' } } },
        headers,
      );
      expect(r.status).toBe(415);
      expect((await bob.call('read_inbox', {})).structuredContent).toMatchObject({ count: 0 });
    } finally {
      await bob.close();
    }
  });
});

describe('a refused request leaves nothing behind (in process: the bus itself)', () => {
  it('3,000 refused session-less POSTs add no MCP server and no bus listener', async () => {
    const home = mkdtempSync(path.join(tmpdir(), 'cao-abuse-inproc-'));
    const before = process.env.CAO_HOME;
    process.env.CAO_HOME = home;
    const { Hub } = await import('../src/hub/hub.js');
    const hub = await new Hub({ mode: 'serve', port: 0 }).start();
    try {
      const listeners = () => [...hub.bus.all.values()].reduce((n, hs) => n + (hs?.length ?? 0), 0);
      const base = listeners();
      const body = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'send_message', arguments: { message: 'x' } } });
      for (let i = 0; i < 3000; i += 50)
        await Promise.all(Array.from({ length: 50 }, () => post(hub.url, hub.clientToken, body).then((r) => expect(r.status).toBe(400))));
      expect(listeners()).toBe(base);
      expect(hub.http.sessionCount).toBe(0);
      expect(await hub.registry.listTerminals({ includeEnded: true })).toEqual([]);
    } finally {
      await hub.stop();
      process.env.CAO_HOME = before;
      rmSync(home, { recursive: true, force: true });
    }
  });
});
