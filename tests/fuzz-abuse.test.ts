// Abuse suite, part 5: property-based fuzzing (fast-check) of the sanitizer, the tool input schemas and the HTTP
// front. Thousands of generated inputs; for each: no crash, a clear error for every refusal, nothing stored.
import { mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { markInvisible, neutraliseForTerminal, neutraliseOneLine } from '../src/util/sanitize.js';
import type { Hub as HubType } from '../src/hub/hub.js';

/** Strings rich in what an attacker would send: escapes, C0/C1 controls, bidi and zero-width characters, surrogates. */
const nasty = fc.string({
  unit: fc.oneof(
    fc.constantFrom(
      '\x1b',
      '\x1b[',
      '\x1b]',
      '\x1bP',
      '\x07',
      '\x9b',
      '\r',
      '\n',
      '\t',
      '\x00',
      '\x7f',
      '[201~',
      '\u202e',
      '\u2066',
      '\u200b',
      '\ufeff',
      '\u061c',
    ),
    fc.integer({ min: 0, max: 0x9f }).map((c) => String.fromCharCode(c)),
    fc.string({ unit: 'grapheme', maxLength: 2 }),
    fc.string({ unit: 'binary', maxLength: 2 }),
  ),
  maxLength: 80,
});

const CONTROL_RE = /[\x00-\x08\x0b-\x1f\x7f-\x9f]/;
const INVISIBLE_RE = /[\u061c\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]/;

describe('fuzz: the sanitizer', () => {
  it('neutraliseForTerminal: no ESC, no control but LF and TAB, no invisible formatting; idempotent', () => {
    fc.assert(
      fc.property(nasty, (s) => {
        const out = neutraliseForTerminal(s);
        expect(out).not.toMatch(CONTROL_RE);
        expect(out).not.toMatch(INVISIBLE_RE);
        expect(neutraliseForTerminal(out)).toBe(out);
      }),
      { numRuns: 5000 },
    );
  });

  it('neutraliseOneLine: one line, trimmed, and nothing a terminal would act on', () => {
    fc.assert(
      fc.property(nasty, (s) => {
        const out = neutraliseOneLine(s);
        expect(out).not.toMatch(/[\n\t\r]/);
        expect(out).not.toMatch(CONTROL_RE);
        expect(out).toBe(out.trim());
      }),
      { numRuns: 5000 },
    );
  });

  it('markInvisible keeps every visible character and marks each invisible one', () => {
    fc.assert(
      fc.property(nasty, (s) => {
        const out = markInvisible(s);
        expect(out).not.toMatch(INVISIBLE_RE);
        expect(out.replace(/⟦U\+[0-9A-F]{4}⟧/g, '')).toBe(s.replace(new RegExp(INVISIBLE_RE.source, 'g'), ''));
      }),
      { numRuns: 3000 },
    );
  });
});

let home: string;
let hub: HubType;
const savedHome = process.env.CAO_HOME;
beforeAll(async () => {
  home = mkdtempSync(path.join(tmpdir(), 'cao-fuzz-'));
  process.env.CAO_HOME = home;
  const { Hub } = await import('../src/hub/hub.js');
  hub = await new Hub({ mode: 'serve', port: 0 }).start();
});
afterAll(async () => {
  await hub?.stop();
  process.env.CAO_HOME = savedHome;
  rmSync(home, { recursive: true, force: true });
});

const counts = async () => ({
  messages: (await hub.inbox.listMessages({ limit: 1_000_000 })).length,
  workers: (await hub.registry.listTerminals({ includeEnded: true, kind: 'worker' })).length,
});

const TOOLS = [
  'handoff',
  'assign',
  'send_message',
  'read_inbox',
  'list_agents',
  'read_output',
  'answer_question',
  'stop_agent',
  'list_profiles',
] as const;
const KEYS = [
  'agent_profile',
  'message',
  'timeout',
  'working_directory',
  'provider',
  'model',
  'receiver_id',
  'wait_seconds',
  'limit',
  'include_ended',
  'terminal_id',
  'mode',
  'answer',
];
const REAL_PROFILES = new Set(['developer', 'reviewer', 'code_supervisor']);
const value = fc.oneof(
  nasty,
  fc.string(),
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.array(fc.string(), { maxLength: 3 }),
  fc.object({ maxDepth: 1 }),
  fc.constantFrom('mock', 'codex', '-x', '..', '/', 'abcdef12', 'supervisor', 'screen'),
);

describe('fuzz: the tool input schemas (an MCP client in process)', () => {
  it('random arguments to every tool: a result or a clear error, never an internal error, and nothing stored', async () => {
    const { createMcpServer } = await import('../src/mcp/tools.js');
    const { server } = createMcpServer(hub.flows, { id: 'fuzzer', kind: 'external' });
    await hub.registry.ensureExternal('fuzzer');
    const [a, b] = InMemoryTransport.createLinkedPair();
    await server.connect(a);
    const client = new Client({ name: 'fuzz', version: '1' });
    await client.connect(b);
    const before = await counts();
    let refused = 0;
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...TOOLS), fc.dictionary(fc.constantFrom(...KEYS), value, { maxKeys: 6 }), async (tool, rawArgs) => {
        const args: Record<string, unknown> = { ...rawArgs };
        // never start a real worker, never wait: a profile that exists or a wait would make this a different test
        if (typeof args.agent_profile === 'string' && REAL_PROFILES.has(args.agent_profile)) args.agent_profile = 'no-such-profile';
        if (typeof args.wait_seconds === 'number') args.wait_seconds = 0;
        let r: CallToolResult;
        try {
          r = (await client.callTool({ name: tool, arguments: args })) as CallToolResult;
        } catch (e) {
          // the SDK's schema refusal: an MCP error naming what was wrong
          expect((e as Error).message).toMatch(/invalid|expected|required|Input validation/i);
          refused++;
          return;
        }
        const text = r.content.map((c) => (c.type === 'text' ? c.text : '')).join('\n');
        if (r.isError) {
          refused++;
          expect(text).toMatch(/^(Error: \S|MCP error -32602: Input validation error)/);
          expect(text).not.toMatch(/internal error/i);
        }
      }),
      { numRuns: 2000 },
    );
    expect(refused).toBeGreaterThan(1000);
    expect(await counts()).toEqual(before);
    await client.close();
  }, 120_000);
});

interface Reply {
  status: number;
  type: string;
  text: string;
}
function send(method: string, p: string, headers: Record<string, string>, body: Buffer | null): Promise<Reply> {
  const u = new URL(hub.url);
  // a well-formed HTTP message (the fuzzing is of what is in it): a body always has its Content-Length
  const all = body ? { ...headers, 'content-length': String(body.length) } : headers;
  return new Promise((resolve, reject) => {
    const req = request({ host: u.hostname, port: u.port, path: p, method, headers: all, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, type: String(res.headers['content-type'] ?? ''), text: Buffer.concat(chunks).toString('utf8') }),
      );
      // an SSE answer (a GET stream) stays open: one event is enough
      if (String(res.headers['content-type']).includes('text/event-stream')) setTimeout(() => res.destroy(), 50);
      res.on('close', () =>
        resolve({ status: res.statusCode ?? 0, type: String(res.headers['content-type'] ?? ''), text: Buffer.concat(chunks).toString('utf8') }),
      );
    });
    req.on('error', reject);
    req.end(body ?? undefined);
  });
}

describe('fuzz: the HTTP front', () => {
  it('random methods, paths, headers and bodies: a known status, a JSON error for every refusal, nothing stored, nothing left open', async () => {
    const before = await counts();
    const token = hub.clientToken;
    const rpc = fc.record(
      {
        jsonrpc: fc.constantFrom('2.0', '1.0', 2),
        id: fc.oneof(fc.integer(), fc.string({ maxLength: 5 }), fc.constant(null)),
        method: fc.constantFrom('initialize', 'tools/call', 'tools/list', 'ping', 'notifications/initialized', 'x'),
        params: fc.oneof(
          fc.record({ name: fc.constantFrom(...TOOLS, 'nope'), arguments: fc.dictionary(fc.constantFrom(...KEYS), value, { maxKeys: 4 }) }),
          fc.constant({ protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'f', version: '1' } }),
          fc.anything({ maxDepth: 2 }),
        ),
      },
      { requiredKeys: [] },
    );
    const body = fc.oneof(
      rpc.map((m) => Buffer.from(JSON.stringify(m))),
      fc.array(rpc, { maxLength: 3 }).map((m) => Buffer.from(JSON.stringify(m))),
      nasty.map((s) => Buffer.from(s)),
      fc.uint8Array({ maxLength: 200 }).map((a) => Buffer.from(a)),
      fc.constant(null),
    );
    const headers = fc.record(
      {
        authorization: fc.constantFrom(`Bearer ${token}`, 'Bearer nope', `Basic ${token}`, 'Bearer '),
        'content-type': fc.constantFrom(
          'application/json',
          'text/plain; charset=application/json',
          'application/json; charset=utf-8',
          'multipart/form-data',
          '',
        ),
        accept: fc.constantFrom('application/json, text/event-stream', 'application/json', 'text/event-stream', '*/*'),
        'mcp-session-id': fc.constantFrom('00000000-0000-0000-0000-000000000000', 'x', ''),
        'mcp-protocol-version': fc.constantFrom('2025-06-18', '1999-01-01'),
        'x-cao-supervisor': fc.constantFrom('fuzzy', 'abcdef12', '../x', 'a b'),
        origin: fc.constantFrom('http://127.0.0.1', 'http://evil.example', 'null'),
      },
      { requiredKeys: [] },
    );
    const paths = fc.constantFrom(
      '/mcp',
      '/mcp?token=' + token,
      '/',
      '/?token=' + token,
      '/api/agents?token=' + token,
      '/api/agents/abcdef12/answer?token=' + token,
      '/api/agents/abcdef12/input?token=' + token,
      '/api/messages?limit=-1&token=' + token,
      '/healthz',
      '/nope',
      '/api/events?token=nope',
    );
    const statuses = new Set([200, 202, 400, 401, 403, 404, 405, 406, 409, 410, 413, 415, 503]);
    await fc.assert(
      fc.asyncProperty(fc.constantFrom('GET', 'POST', 'DELETE', 'PUT', 'PATCH'), paths, headers, body, async (method, p, h, b) => {
        const clean = Object.fromEntries(Object.entries(h).filter(([, v]) => v !== ''));
        const r = await send(method, p, clean, method === 'GET' ? null : b);
        expect(statuses.has(r.status), `${method} ${p} → ${r.status} ${r.text.slice(0, 200)}`).toBe(true);
        if (r.status >= 400) {
          const j = JSON.parse(r.text) as { error?: string | { message?: string } };
          const msg = typeof j.error === 'string' ? j.error : j.error?.message;
          expect(msg, r.text).toMatch(/\S/);
        }
      }),
      { numRuns: 3000 },
    );
    const after = await counts();
    expect(after.workers).toBe(before.workers);
    // an initialize that went through opened a session; none is left without its own expiry, and none leaks listeners
    hub.http.closeIdleSessions(0);
    expect(hub.http.sessionCount).toBe(0);
    expect(after.messages).toBe(before.messages);
    expect((await fetch(new URL('/healthz', hub.url))).status).toBe(200);
  }, 180_000);
});
