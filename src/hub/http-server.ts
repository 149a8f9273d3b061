import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { createMcpServer, type InlineToolCall } from '../mcp/tools.js';
import { answerInline } from './inline-mcp.js';
import { isLoopbackRequest, requestToken, type TokenRegistry } from './http-auth.js';
import type { Caller, Orchestrator } from './orchestrator.js';

/** Extra routes (the dashboard) mounted on the hub's server; return true when handled. */
export type RouteHandler = (req: IncomingMessage, res: ServerResponse, url: URL, caller: Caller | null) => boolean | Promise<boolean>;

interface Session {
  transport: StreamableHTTPServerTransport;
  caller: Caller;
  dispose: () => void;
  callInline: InlineToolCall;
}

/**
 * The hub's loopback HTTP front: MCP over Streamable HTTP at /mcp for workers' forwarders and for
 * external clients (`cao-mcp serve`), each session bound to the caller its token stands for.
 */
export class HubHttpServer {
  private server: Server | null = null;
  private readonly sessions = new Map<string, Session>();
  private readonly routes: RouteHandler[] = [];

  constructor(
    private readonly orch: Orchestrator,
    private readonly tokens: TokenRegistry,
  ) {}

  addRoutes(h: RouteHandler): void {
    this.routes.push(h);
  }

  async listen(port = 0, host = '127.0.0.1'): Promise<string> {
    this.server = createServer((req, res) => {
      this.handle(req, res).catch((e) => {
        process.stderr.write(`cao-mcp http: ${(e as Error).stack}\n`);
        if (!res.headersSent) sendJson(res, 500, { error: (e as Error).message });
      });
    });
    await new Promise<void>((resolve, reject) => {
      this.server!.once('error', reject);
      this.server!.listen(port, host, () => resolve());
    });
    return this.url();
  }

  url(): string {
    const a = this.server?.address() as AddressInfo | null;
    if (!a) throw new Error('hub HTTP server is not listening');
    return `http://${a.family === 'IPv6' ? `[${a.address}]` : a.address}:${a.port}`;
  }

  get port(): number {
    return (this.server?.address() as AddressInfo).port;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const check = isLoopbackRequest(req);
    if (!check.ok) return sendJson(res, 403, { error: check.why });
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const who = this.tokens.callerFor(requestToken(req, url), req, url);
    if (who && 'error' in who) return sendJson(res, 400, { error: who.error });
    const caller = who as Caller | null;

    if (url.pathname === '/mcp') {
      if (!caller) return sendJson(res, 401, { error: 'missing or invalid token (send "Authorization: Bearer <token>")' });
      return this.handleMcp(req, res, caller);
    }
    if (url.pathname === '/healthz') return sendJson(res, 200, { ok: true });
    for (const r of this.routes) if (await r(req, res, url, caller)) return;
    sendJson(res, 404, { error: `no route ${url.pathname}` });
  }

  private async handleMcp(req: IncomingMessage, res: ServerResponse, caller: Caller): Promise<void> {
    const sid = req.headers['mcp-session-id'];
    const body = req.method === 'POST' ? await readJson(req) : undefined;
    if (body instanceof Error) return sendJson(res, 400, { error: `request body is not JSON: ${body.message}` });
    if (caller.kind === 'worker' && asksForTools(body)) this.orch.bus.emit('mcp:tools-listed', { terminalId: caller.id });
    if (typeof sid === 'string') {
      const s = this.sessions.get(sid);
      if (!s) return sendJson(res, 404, { error: `unknown MCP session ${sid}` });
      // A session belongs to the caller that opened it: another token cannot ride on it.
      if (s.caller.id !== caller.id) return sendJson(res, 403, { error: 'this MCP session belongs to another caller' });
      if (await answerInline(req, res, body, sid, s.callInline)) return;
      return s.transport.handleRequest(req, res, body);
    }
    if (req.method !== 'POST') return sendJson(res, 400, { error: 'start an MCP session with an initialize POST' });
    if (caller.kind === 'external') this.orch.store.ensureExternal(caller.id);
    const { server, dispose, callInline } = createMcpServer(this.orch, caller);
    const transport: StreamableHTTPServerTransport = new StreamableHTTPServerTransport({
      sessionIdGenerator: () => randomUUID(),
      onsessioninitialized: (id) => {
        this.sessions.set(id, { transport, caller, dispose, callInline });
      },
      onsessionclosed: (id) => this.closeSession(id),
    });
    transport.onclose = () => {
      if (transport.sessionId) this.closeSession(transport.sessionId);
      else dispose();
    };
    await server.connect(transport);
    await transport.handleRequest(req, res, body);
  }

  private closeSession(id: string): void {
    const s = this.sessions.get(id);
    if (!s) return;
    this.sessions.delete(id);
    s.dispose();
  }

  async close(): Promise<void> {
    for (const [id, s] of this.sessions) {
      await s.transport.close().catch(() => undefined);
      this.closeSession(id);
    }
    await new Promise<void>((r) => (this.server ? this.server.close(() => r()) : r()));
    this.server?.closeAllConnections?.();
  }
}

export function sendJson(res: ServerResponse, status: number, data: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(data));
}

/** A JSON-RPC message (or batch) holding a `tools/list` request. */
function asksForTools(body: unknown): boolean {
  const msgs = Array.isArray(body) ? body : [body];
  return msgs.some((m) => typeof m === 'object' && m !== null && (m as { method?: unknown }).method === 'tools/list');
}

const MAX_BODY = 4 * 1024 * 1024;

function readJson(req: IncomingMessage): Promise<unknown> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) {
        resolve(new Error(`body larger than ${MAX_BODY} bytes`));
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => {
      try {
        resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')));
      } catch (e) {
        resolve(e as Error);
      }
    });
    req.on('error', (e) => resolve(e));
  });
}
