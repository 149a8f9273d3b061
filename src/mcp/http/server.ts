import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { isInitializeRequest } from '@modelcontextprotocol/sdk/types.js';
import type { Caller, Flows } from '../../flows/index.js';
import { readBody, sendJson } from '../../util/http.js';
import type { RequestId } from '@modelcontextprotocol/sdk/types.js';
import { createMcpServer, type CaoMcpServer, type InlineToolCall } from '../tools.js';
import { isLoopbackRequest, requestToken, type TokenRegistry } from './auth.js';
import { answerInline } from './inline.js';
import { samePeerUser } from './peer-uid.js';
import { logger } from '../../util/log.js';

/** The caps this front enforces (from the hub's limits). */
export interface HttpLimits {
  maxSessions: number;
  sessionIdleMs: number;
  maxBodyBytes: number;
}

/** Extra routes (the dashboard) mounted on the hub's server; return true when handled. */
export type RouteHandler = (req: IncomingMessage, res: ServerResponse, url: URL, caller: Caller | null) => boolean | Promise<boolean>;

interface Session {
  transport: StreamableHTTPServerTransport;
  caller: Caller;
  dispose: () => void;
  callInline: InlineToolCall;
  requestLost: CaoMcpServer['requestLost'];
  /** When its last request started or ended. */
  lastActive: number;
  /** Requests (POSTs, the GET stream) still open: a session with one is never idle. */
  open: number;
}

/**
 * The hub's loopback HTTP front: MCP over Streamable HTTP at /mcp for workers' forwarders and for
 * external clients (`cao-mcp serve`), each session bound to the caller its token stands for.
 * Sessions are capped (limits.maxSessions) and closed after limits.sessionIdleMs without a request; a request
 * that does not open a session (anything but an initialize without a session id) allocates nothing.
 */
export class HubHttpServer {
  private server: Server | null = null;
  private readonly sessions = new Map<string, Session>();
  private readonly routes: RouteHandler[] = [];
  private sweeper: NodeJS.Timeout | null = null;

  constructor(
    private readonly flows: Flows,
    private readonly tokens: TokenRegistry,
    private readonly limits: HttpLimits,
  ) {}

  addRoutes(h: RouteHandler): void {
    this.routes.push(h);
  }

  async listen(port = 0, host = '127.0.0.1'): Promise<string> {
    this.server = createServer((req, res) => {
      this.handle(req, res).catch((e) => {
        logger('http').error({ err: e, method: req.method, path: req.url?.split('?')[0] }, 'a request failed');
        if (!res.headersSent) sendJson(res, 500, { error: (e as Error).message });
      });
    });
    await new Promise<void>((resolve, reject) => {
      this.server!.once('error', reject);
      this.server!.listen(port, host, () => resolve());
    });
    this.sweeper = setInterval(() => this.closeIdleSessions(), Math.min(30_000, Math.max(250, this.limits.sessionIdleMs / 4)));
    this.sweeper.unref();
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

  /** Open MCP sessions (for tests and the memory benchmark). */
  get sessionCount(): number {
    return this.sessions.size;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const check = isLoopbackRequest(req);
    if (!check.ok) return refuse(req, res, 403, check.why);
    const peer = samePeerUser(req.socket);
    if (!peer.ok) return refuse(req, res, 403, peer.why);
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const who = this.tokens.callerFor(requestToken(req, url), req, url);
    if (who && 'error' in who) return refuse(req, res, 400, who.error);
    const caller = who as Caller | null;

    if (url.pathname === '/mcp') {
      if (!caller) return refuse(req, res, 401, 'missing or invalid token (send "Authorization: Bearer <token>")');
      return this.handleMcp(req, res, caller);
    }
    if (url.pathname === '/healthz') return sendJson(res, 200, { ok: true });
    for (const r of this.routes) if (await r(req, res, url, caller)) return;
    refuse(req, res, 404, `no route ${url.pathname}`);
  }

  private async handleMcp(req: IncomingMessage, res: ServerResponse, caller: Caller): Promise<void> {
    const sid = req.headers['mcp-session-id'];
    let body: unknown;
    if (req.method === 'POST') {
      const read = await readBody(req, this.limits.maxBodyBytes);
      if (!read.ok) return refuse(req, res, read.status, read.error);
      try {
        body = JSON.parse(read.text);
      } catch (e) {
        return rpcError(res, 400, -32700, `request body is not JSON: ${(e as Error).message}`);
      }
    }
    if (caller.kind === 'worker' && asksForTools(body)) this.flows.toolsListed(caller.id);
    if (typeof sid === 'string') {
      const s = this.sessions.get(sid);
      if (!s) return rpcError(res, 404, -32001, `unknown MCP session ${sid} (it ended or expired): start a new one with an initialize request`);
      // A session belongs to the caller that opened it: another token cannot ride on it.
      if (s.caller.id !== caller.id) return rpcError(res, 403, -32000, 'this MCP session belongs to another caller');
      // A POST whose response stream ends before it finished: the client went away from those calls (the SDK
      // just drops the stream; a handoff on it then leaves its worker running, see mcp/handoff-tool.ts).
      const calls = toolCallIds(body);
      if (calls.length) res.once('close', () => !res.writableFinished && calls.forEach((id) => s.requestLost(id)));
      return this.inSession(s, res, async () => {
        if (await answerInline(req, res, body, sid, s.callInline)) return;
        await s.transport.handleRequest(req, res, body);
      });
    }
    // Without a session id only an initialize POST is taken; anything else is refused before anything is built.
    if (req.method !== 'POST' || !isInitializeRequest(body))
      return rpcError(res, 400, -32000, 'no MCP session: start one with an initialize POST (then send its mcp-session-id header)');
    // read before the count of sessions: from the count to the new session nothing is awaited
    if (caller.kind === 'external') await this.flows.registerSupervisor(caller.id);
    if (this.sessions.size >= this.limits.maxSessions) this.closeIdleSessions();
    if (this.sessions.size >= this.limits.maxSessions)
      return rpcError(res, 503, -32000, `too many open MCP sessions (${this.limits.maxSessions}, CAO_MAX_SESSIONS); close one or try again later`);
    const { server, dispose, callInline, requestLost } = createMcpServer(this.flows, caller);
    const session: Session = {
      transport: null as unknown as StreamableHTTPServerTransport,
      caller,
      dispose,
      callInline,
      requestLost,
      lastActive: Date.now(),
      open: 0,
    };
    const transport: StreamableHTTPServerTransport = new StreamableHTTPServerTransport({
      sessionIdGenerator: () => randomUUID(),
      onsessioninitialized: (id) => {
        this.sessions.set(id, session);
      },
      onsessionclosed: (id) => this.closeSession(id),
    });
    session.transport = transport;
    transport.onclose = () => {
      if (transport.sessionId) this.closeSession(transport.sessionId);
      else dispose();
    };
    await server.connect(transport);
    await this.inSession(session, res, () => transport.handleRequest(req, res, body));
    // The SDK refused the initialize (bad version, bad headers): nothing of it may outlive the request.
    if (!transport.sessionId || !this.sessions.has(transport.sessionId)) {
      dispose();
      await server.close().catch(() => undefined);
    }
  }

  /** Runs one request of a session, keeping its idle clock: a session is idle only with no request open. */
  private async inSession(s: Session, res: ServerResponse, fn: () => Promise<void>): Promise<void> {
    s.open++;
    s.lastActive = Date.now();
    let done = false;
    const end = () => {
      if (done) return;
      done = true;
      s.open--;
      s.lastActive = Date.now();
    };
    res.once('close', end);
    await fn();
  }

  /** Closes sessions without an open request for longer than `idleMs` (default: the configured expiry). */
  closeIdleSessions(idleMs = this.limits.sessionIdleMs): number {
    const now = Date.now();
    let n = 0;
    for (const [id, s] of this.sessions) {
      if (s.open > 0 || now - s.lastActive < idleMs) continue;
      void s.transport.close().catch(() => undefined);
      this.closeSession(id);
      n++;
    }
    return n;
  }

  /** Closes every session of a caller (a worker whose token was revoked). */
  closeSessionsOf(callerId: string): void {
    for (const [id, s] of this.sessions) {
      if (s.caller.id !== callerId) continue;
      void s.transport.close().catch(() => undefined);
      this.closeSession(id);
    }
  }

  private closeSession(id: string): void {
    const s = this.sessions.get(id);
    if (!s) return;
    this.sessions.delete(id);
    s.dispose();
  }

  async close(): Promise<void> {
    if (this.sweeper) clearInterval(this.sweeper);
    for (const [id, s] of this.sessions) {
      await s.transport.close().catch(() => undefined);
      this.closeSession(id);
    }
    await new Promise<void>((r) => (this.server ? this.server.close(() => r()) : r()));
    this.server?.closeAllConnections?.();
  }
}

/**
 * A refusal. The body is left to drain (read and dropped): a client still sending a body that is too large gets
 * its 413 and can finish writing, where closing the connection on it would be a reset (EPIPE).
 */
function refuse(req: IncomingMessage, res: ServerResponse, status: number, error: string): void {
  req.resume();
  sendJson(res, status, { error });
}

/** A refusal on /mcp, as a JSON-RPC error (what MCP clients read), with the HTTP status that goes with it. */
function rpcError(res: ServerResponse, status: number, code: number, message: string): void {
  sendJson(res, status, { jsonrpc: '2.0', error: { code, message }, id: null });
}

/** The ids of the `tools/call` requests in a JSON-RPC message (or batch). */
function toolCallIds(body: unknown): RequestId[] {
  const msgs = Array.isArray(body) ? body : [body];
  return msgs.flatMap((m) => {
    const r = m as { method?: unknown; id?: unknown } | null;
    return typeof r === 'object' && r !== null && r.method === 'tools/call' && (typeof r.id === 'string' || typeof r.id === 'number') ? [r.id] : [];
  });
}

/** A JSON-RPC message (or batch) holding a `tools/list` request. */
function asksForTools(body: unknown): boolean {
  const msgs = Array.isArray(body) ? body : [body];
  return msgs.some((m) => typeof m === 'object' && m !== null && (m as { method?: unknown }).method === 'tools/list');
}
