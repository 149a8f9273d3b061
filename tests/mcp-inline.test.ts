// The hub's hot path for quick tool calls over Streamable HTTP (src/hub/inline-mcp.ts): answered as JSON
// without the SDK's stream machinery, while everything it does not take stays the SDK's, errors included.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectHttp, startServe, stopProc, type HttpCaller, type HubInfo } from './support/http-client.js';

let home: string;
let serve: { proc: ChildProcess; hub: HubInfo; stderr: () => string };
let bob: HttpCaller;
let post: (body: unknown, headers?: Record<string, string>) => Promise<{ status: number; type: string; text: string }>;

beforeAll(async () => {
  home = mkdtempSync(path.join(tmpdir(), 'cao-inline-'));
  serve = await startServe(home);
  bob = await connectHttp(serve.hub, 'bob'); // the receiver, an external supervisor with an inbox
  const base = {
    Authorization: `Bearer ${serve.hub.token}`,
    'X-Cao-Supervisor': 'alice',
    'Content-Type': 'application/json',
    Accept: 'application/json, text/event-stream',
  };
  let session: Record<string, string> = {};
  post = async (body, headers = {}) => {
    const r = await fetch(new URL('/mcp', serve.hub.url), {
      method: 'POST',
      headers: { ...base, ...session, ...headers },
      body: JSON.stringify(body),
    });
    return { status: r.status, type: r.headers.get('content-type') ?? '', text: await r.text() };
  };
  const init = await fetch(new URL('/mcp', serve.hub.url), {
    method: 'POST',
    headers: base,
    body: JSON.stringify({
      jsonrpc: '2.0',
      id: 0,
      method: 'initialize',
      params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'alice', version: '1' } },
    }),
  });
  await init.text();
  session = { 'mcp-session-id': init.headers.get('mcp-session-id')!, 'mcp-protocol-version': '2025-06-18' };
  await post({ jsonrpc: '2.0', method: 'notifications/initialized' });
}, 30_000);

afterAll(async () => {
  await bob?.close();
  if (serve) await stopProc(serve.proc);
  rmSync(home, { recursive: true, force: true });
});

/** The JSON-RPC message of a response, whether sent as JSON or as one SSE event. */
function message(r: { type: string; text: string }): { id?: unknown; result?: Record<string, unknown>; error?: { message: string } } {
  if (r.type.includes('text/event-stream'))
    return JSON.parse(
      r.text
        .split('\n')
        .find((l) => l.startsWith('data: '))!
        .slice(6),
    );
  return JSON.parse(r.text);
}

const call = (id: number | string, name: string, args: unknown) => ({ jsonrpc: '2.0', id, method: 'tools/call', params: { name, arguments: args } });

describe('quick tool calls over HTTP', () => {
  it('send_message is answered as JSON, stored, and reaches the receiver', async () => {
    const r = await post(call('req-1', 'send_message', { receiver_id: 'bob', message: 'inline hello' }));
    expect(r.status).toBe(200);
    expect(r.type).toContain('application/json');
    const m = message(r);
    expect(m.id).toBe('req-1');
    expect(m.result).toMatchObject({ structuredContent: { success: true, receiver_id: 'bob', message_id: expect.any(Number) } });
    expect(JSON.parse((m.result!.content as { text: string }[])[0]!.text)).toEqual(m.result!.structuredContent);
    const inbox = await bob.call('read_inbox', {});
    expect(inbox.structuredContent).toMatchObject({ count: 1, messages: [{ sender_id: 'alice', body: 'inline hello' }] });
  });

  it('a refusal from the tool comes back the same way, as an error result naming what was wrong', async () => {
    const r = await post(call(7, 'send_message', { receiver_id: 'nobody-here', message: 'hi' }));
    expect(r.type).toContain('application/json');
    expect(message(r).result).toMatchObject({ isError: true, content: [{ text: expect.stringMatching(/receiver nobody-here does not exist/) }] });
    const lists = message(await post(call(8, 'list_agents', {})));
    expect(lists.result).toMatchObject({ structuredContent: { agents: [] } });
  });

  it('what the hot path does not take is the SDK’s: bad arguments, other tools, bad headers', async () => {
    // arguments that do not fit the schema: the SDK's own validation error, on its SSE stream
    const bad = await post(call(9, 'send_message', { receiver_id: 'bob' }));
    expect(bad.type).toContain('text/event-stream');
    expect(JSON.stringify(message(bad))).toMatch(/message/);
    expect(JSON.stringify(message(bad))).toMatch(/invalid|required|expected/i);
    // a tool that may wait (read_inbox) goes through the SDK
    const slow = await post(call(10, 'read_inbox', {}));
    expect(slow.type).toContain('text/event-stream');
    expect(message(slow).result).toMatchObject({ structuredContent: { count: 0 } });
    // an unsupported protocol version and a client that cannot take SSE are refused by the SDK
    const version = await post(call(11, 'send_message', { receiver_id: 'bob', message: 'x' }), { 'mcp-protocol-version': '1999-01-01' });
    expect(version.status).toBe(400);
    expect(version.text).toMatch(/Unsupported protocol version/);
    const accept = await post(call(12, 'send_message', { receiver_id: 'bob', message: 'x' }), { Accept: 'application/json' });
    expect(accept.status).toBe(406);
    // none of the refused sends was stored
    const inbox = await bob.call('read_inbox', {});
    expect(inbox.structuredContent).toMatchObject({ count: 0 });
  });
});
