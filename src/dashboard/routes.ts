import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Bus, BusEvents } from '../bus/bus.js';
import type { InboxStore } from '../inbox/store.js';
import type { RouteHandler } from '../hub/http-server.js';
import type { Caller, Orchestrator } from '../hub/orchestrator.js';
import { ToolError } from '../hub/errors.js';
import { OPERATOR } from '../hub/ownership.js';
import { asset } from './assets.js';
import { BodyError, readJsonBody, sendJson, sendText } from './http-util.js';
import { pageHtml } from './page/html.js';
import { streamScreen } from './screen-stream.js';
import { openSse } from './sse.js';
import { agentView, listAgentViews, messageView, type AgentView, type MessageView } from './views.js';

/** What the page and `cao-mcp ls` learn about the hub itself. */
export interface HubInfo {
  hubId: string;
  pid: number;
  mode: string;
  url: string;
  startedAt: number;
  cwd: string;
  /** Open MCP sessions over HTTP. */
  mcpSessions?: number;
}

export interface DashboardDeps {
  bus: Bus;
  store: InboxStore;
  orch: Orchestrator;
  hub: () => HubInfo;
}

/** Events the page's event stream is made of. */
export interface DashboardHello {
  hub: HubInfo;
  agents: AgentView[];
  messages: MessageView[];
}

const COALESCE_MS = 40;
const TIMELINE = 200;

/**
 * The dashboard's routes on the hub's loopback server. Loopback and Host/Origin are checked for every request
 * before it gets here; every path here also needs the hub's client token (`?token=` or a Bearer header) — a
 * worker's own token does not open it.
 *
 *   GET  /                              the page
 *   GET  /dashboard/{app.js,app.css,xterm.js,xterm.css}
 *   GET  /api/hub | /api/agents[?all=1] | /api/agents/:id | /api/messages[?limit&after&receiver&sender&state]
 *   GET  /api/events                    SSE: hello, agent, message
 *   GET  /api/agents/:id/screen         SSE: screen, output, status, end   (?scrollback=N)
 *   POST /api/agents/:id/answer         {answer}      → answer_question
 *   POST /api/agents/:id/input          {data}        → keys typed into the agent (dashboard toggle, attach --write)
 *   POST /api/agents/:id/resize         {cols, rows}  → resizes its pty and screen (attach --write)
 */
export function dashboardRoutes(deps: DashboardDeps): RouteHandler {
  return async (req, res, url, caller) => {
    const path = url.pathname;
    const ours = path === '/' || path === '/index.html' || path.startsWith('/dashboard/') || path.startsWith('/api/');
    if (!ours) return false;
    if (!caller || caller.kind !== 'external') {
      sendJson(res, 401, {
        error: 'missing or invalid token: open the dashboard with the URL the hub printed (…/?token=…), or run `cao-mcp dashboard`',
      });
      return true;
    }
    try {
      await route(deps, req, res, url, caller);
    } catch (e) {
      if (res.headersSent) {
        res.end();
        return true;
      }
      if (e instanceof BodyError) sendJson(res, e.status, { error: e.message });
      else if (e instanceof ToolError) sendJson(res, statusForTool(e.code), { error: e.message, code: e.code });
      else throw e;
    }
    return true;
  };
}

async function route(deps: DashboardDeps, req: IncomingMessage, res: ServerResponse, url: URL, _caller: Caller): Promise<void> {
  const { orch, store } = deps;
  const path = url.pathname;
  const method = req.method ?? 'GET';
  const get = method === 'GET' || method === 'HEAD';

  if ((path === '/' || path === '/index.html') && get) {
    const token = url.searchParams.get('token') ?? '';
    return sendText(res, 200, 'text/html; charset=utf-8', pageHtml(token), {
      'content-security-policy':
        "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; connect-src 'self'; img-src 'self' data:; font-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
    });
  }
  if (path.startsWith('/dashboard/') && get) {
    const a = asset(path);
    if (!a) return sendJson(res, 404, { error: `no asset ${path}` });
    return sendText(res, 200, a.type, a.body);
  }
  if (path === '/api/hub' && get) return sendJson(res, 200, deps.hub());
  if (path === '/api/agents' && get) {
    return sendJson(res, 200, { hub: deps.hub(), agents: listAgentViews(orch, store, { all: url.searchParams.get('all') === '1' }) });
  }
  if (path === '/api/messages' && get) return sendJson(res, 200, { messages: listMessageViews(store, url.searchParams) });
  if (path === '/api/events' && get) return eventStream(deps, req, res);

  const m = /^\/api\/agents\/([A-Za-z0-9._:@-]{1,64})(?:\/(screen|answer|input|resize))?$/.exec(path);
  if (!m) return sendJson(res, 404, { error: `no route ${method} ${path}` });
  const [, id, action] = m;
  if (!action && get) {
    const row = store.getTerminal(id);
    if (!row) return sendJson(res, 404, { error: `no agent with terminal id "${id}"` });
    return sendJson(res, 200, { hub: deps.hub(), agent: agentView(orch, store, row) });
  }
  if (action === 'screen' && get) {
    const t = liveTerminal(deps, id);
    const scrollback = clampInt(url.searchParams.get('scrollback'), 0, 5000, 1000);
    return streamScreen(openSse(req, res), deps.bus, t, { scrollback });
  }
  if (method !== 'POST') return sendJson(res, 405, { error: `${method} ${path} is not allowed` });
  const body = await readJsonBody(req);
  if (action === 'answer') {
    if (typeof body.answer !== 'string') throw new ToolError('answer must be a string');
    return sendJson(res, 200, await orch.answerQuestion(OPERATOR, { terminal_id: id, answer: body.answer }));
  }
  if (action === 'input') {
    const t = liveTerminal(deps, id);
    if (typeof body.data !== 'string' || !body.data) throw new ToolError('data must be a non-empty string');
    // Keys from a person watching (dashboard with typing switched on, `attach --write`), as they are.
    t.write(body.data, 'user');
    return sendJson(res, 200, { ok: true, status: t.status });
  }
  if (action === 'resize') {
    const t = liveTerminal(deps, id);
    const cols = Number(body.cols);
    const rows = Number(body.rows);
    if (!Number.isInteger(cols) || !Number.isInteger(rows) || cols < 20 || cols > 500 || rows < 5 || rows > 300)
      throw new ToolError(`cols must be 20–500 and rows 5–300 (got ${String(body.cols)}×${String(body.rows)})`);
    t.resize(cols, rows);
    return sendJson(res, 200, { ok: true, cols, rows });
  }
  sendJson(res, 404, { error: `no route ${method} ${path}` });
}

function liveTerminal(deps: DashboardDeps, id: string) {
  const t = deps.orch.terminal(id);
  if (t) return t;
  const row = deps.store.getTerminal(id);
  if (!row) throw new ToolError(`no agent with terminal id "${id}"`, 'not_found');
  if (row.endedAt !== null) throw new ToolError(`agent ${id} has ended (${row.status})`, 'ended');
  throw new ToolError(`agent ${id} runs in another hub (${row.hubId ?? 'unknown'}); open that hub's dashboard`, 'not_here');
}

function listMessageViews(store: InboxStore, q: URLSearchParams): MessageView[] {
  const limit = clampInt(q.get('limit'), 1, 1000, TIMELINE);
  const after = q.get('after');
  const state = q.get('state');
  const states = ['pending', 'delivering', 'delivered', 'failed'] as const;
  if (state && !states.includes(state as (typeof states)[number])) throw new ToolError(`state must be one of ${states.join(', ')}`);
  // Newest `limit`, shown oldest first (a timeline reads downwards).
  return store
    .listMessages({
      receiverId: q.get('receiver') || undefined,
      senderId: q.get('sender') || undefined,
      status: (state || undefined) as (typeof states)[number] | undefined,
      afterId: after ? clampInt(after, 0, Number.MAX_SAFE_INTEGER, 0) : undefined,
      order: 'desc',
      limit,
    })
    .reverse()
    .map(messageView);
}

/** The page's live feed: a full picture first, then changed agents and messages (coalesced briefly). */
function eventStream(deps: DashboardDeps, req: IncomingMessage, res: ServerResponse): void {
  const { bus, orch, store } = deps;
  const sse = openSse(req, res);
  const agents = new Set<string>();
  const msgs = new Set<number>();
  let timer: NodeJS.Timeout | null = null;
  const flush = () => {
    timer = null;
    for (const id of agents) {
      const row = store.getTerminal(id);
      if (row) sse.send('agent', agentView(orch, store, row));
    }
    for (const id of [...msgs].sort((a, b) => a - b)) {
      const row = store.getMessage(id);
      if (row) sse.send('message', messageView(row));
    }
    agents.clear();
    msgs.clear();
  };
  const later = () => {
    timer ??= setTimeout(flush, COALESCE_MS);
  };
  const onAgent = (e: { terminalId: string }) => {
    agents.add(e.terminalId);
    later();
  };
  const onQueued = (e: BusEvents['message:queued']) => {
    msgs.add(e.messageId);
    agents.add(e.receiverId);
    later();
  };
  const onState = (e: BusEvents['message:state']) => {
    msgs.add(e.messageId);
    agents.add(e.receiverId);
    later();
  };
  bus.on('status', onAgent);
  bus.on('terminal:created', onAgent);
  bus.on('terminal:removed', onAgent);
  bus.on('message:queued', onQueued);
  bus.on('message:state', onState);
  sse.onClose(() => {
    if (timer) clearTimeout(timer);
    bus.off('status', onAgent);
    bus.off('terminal:created', onAgent);
    bus.off('terminal:removed', onAgent);
    bus.off('message:queued', onQueued);
    bus.off('message:state', onState);
  });
  const hello: DashboardHello = {
    hub: deps.hub(),
    agents: listAgentViews(orch, store),
    messages: listMessageViews(store, new URLSearchParams()),
  };
  sse.send('hello', hello);
}

function statusForTool(code: string): number {
  if (code === 'not_found') return 404;
  if (code === 'ended') return 410;
  if (code === 'not_waiting' || code === 'not_here') return 409;
  if (code === 'forbidden') return 403;
  return 400;
}

function clampInt(v: string | null, min: number, max: number, dflt: number): number {
  if (v === null || v === '') return dflt;
  const n = Number(v);
  if (!Number.isFinite(n)) return dflt;
  return Math.min(max, Math.max(min, Math.floor(n)));
}
