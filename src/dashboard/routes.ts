import type { IncomingMessage, ServerResponse } from 'node:http';
import { MESSAGE_STATES, OPERATOR, type Caller, type Change, type Flows, type HostView } from '../flows/index.js';
import { CaoError, httpStatusOf, isCaoError } from '../util/errors.js';
import { snakeCaseKeys } from '../util/case.js';
import { readJsonBody, sendJson, sendText } from '../util/http.js';
import { logger } from '../util/log.js';
import { asset } from './assets.js';
import { pageHtml } from './page/html.js';
import { openSse } from './sse.js';
import { messageView, shownAgent, type AgentView, type MessageView } from './views.js';

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
  /** The query port (plus a person's answers and keys): everything the dashboard knows comes through it. */
  flows: Flows;
  hub: () => HubInfo;
}

/** A route on the hub's server; true when handled (the hub mounts these next to /mcp). */
export type RouteHandler = (req: IncomingMessage, res: ServerResponse, url: URL, caller: Caller | null) => boolean | Promise<boolean>;

/** How long an ended agent stays in the dashboard's list (the CLI's `ls --all` shows every one). */
const ENDED_KEEP_MS = 15 * 60_000;

/** Events the page's event stream is made of. */
export interface DashboardHello {
  hub: HubInfo;
  agents: AgentView[];
  messages: MessageView[];
  /** Many hosts: every host sharing the database; null on one machine. */
  hosts: HostView[] | null;
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
 *   GET  /api/hub | /api/agents[?all=1] | /api/agents/:id | /api/messages[?limit&after&receiver&sender&state] | /api/hosts
 *   GET  /api/runs[?limit=N]            the journal's recent runs, newest first (`cao-mcp runs --json`)
 *   GET  /api/runs/:id                  one run's trace, by run id, terminal id or supervisor (`cao-mcp trace --json`)
 *   GET  /api/events                    SSE: hello, agent, message, runs (a run changed: read /api/runs again)
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
      if (isCaoError(e)) sendJson(res, httpStatusOf(e.code), { error: e.message, code: e.code });
      else throw e;
    }
    return true;
  };
}

async function route(deps: DashboardDeps, req: IncomingMessage, res: ServerResponse, url: URL, _caller: Caller): Promise<void> {
  const { flows } = deps;
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
    return sendJson(res, 200, { hub: deps.hub(), agents: await agentList(flows, url.searchParams.get('all') === '1'), hosts: await flows.hosts() });
  }
  if (path === '/api/hosts' && get) return sendJson(res, 200, { hosts: await flows.hosts() });
  if (path === '/api/messages' && get) return sendJson(res, 200, { messages: await listMessageViews(flows, url.searchParams) });
  if (path === '/api/events' && get) return eventStream(deps, req, res);
  // The runs of the journal, in the shape `cao-mcp runs --json` and `cao-mcp trace --json` print (snake_case).
  if (path === '/api/runs' && get) {
    return sendJson(res, 200, { runs: snakeCaseKeys(await flows.runs({ limit: clampInt(url.searchParams.get('limit'), 1, 1000, 20) })) });
  }
  const run = /^\/api\/runs\/([A-Za-z0-9._:@-]{1,64})$/.exec(path);
  if (run && get) return sendJson(res, 200, snakeCaseKeys(await flows.readTrace(OPERATOR, run[1])));

  const m = /^\/api\/agents\/([A-Za-z0-9._:@-]{1,64})(?:\/(screen|answer|input|resize))?$/.exec(path);
  if (!m) return sendJson(res, 404, { error: `no route ${method} ${path}` });
  const [, id, action] = m;
  if (!action && get) {
    const agent = await flows.agent(id);
    if (!agent) return sendJson(res, 404, { error: `no agent with terminal id "${id}"` });
    return sendJson(res, 200, { hub: deps.hub(), agent: shownAgent(agent) });
  }
  if (action === 'screen' && get) {
    const scrollback = clampInt(url.searchParams.get('scrollback'), 0, 5000, 1000);
    // Refused (not found, ended, another hub's) before the stream opens, so the refusal is a plain JSON answer.
    return flows.watchScreen(id, () => openSse(req, res), { scrollback });
  }
  if (method !== 'POST') return sendJson(res, 405, { error: `${method} ${path} is not allowed` });
  const body = await readJsonBody(req);
  if (action === 'answer') {
    if (typeof body.answer !== 'string') throw new CaoError('bad_request', 'answer must be a string');
    const r = await flows.answerQuestion(OPERATOR, id, body.answer);
    return sendJson(res, 200, { terminal_id: r.terminalId, status: r.status });
  }
  if (action === 'input') {
    // Keys from a person watching (dashboard with typing switched on, `attach --write`), as they are.
    if (typeof body.data !== 'string') throw new CaoError('bad_request', 'data must be a non-empty string');
    const r = await flows.typeKeys(OPERATOR, id, body.data);
    return sendJson(res, 200, { ok: true, status: r.status });
  }
  if (action === 'resize') {
    const r = await flows.resize(OPERATOR, id, Number(body.cols), Number(body.rows));
    return sendJson(res, 200, { ok: true, ...r });
  }
  sendJson(res, 404, { error: `no route ${method} ${path}` });
}

async function agentList(flows: Flows, all: boolean): Promise<AgentView[]> {
  return (await (all ? flows.agents({ includeEnded: true }) : flows.agents({ endedSince: Date.now() - ENDED_KEEP_MS }))).map(shownAgent);
}

async function listMessageViews(flows: Flows, q: URLSearchParams): Promise<MessageView[]> {
  const limit = clampInt(q.get('limit'), 1, 1000, TIMELINE);
  const after = q.get('after');
  const state = q.get('state');
  const states = MESSAGE_STATES;
  if (state && !states.includes(state as (typeof states)[number])) throw new CaoError('bad_request', `state must be one of ${states.join(', ')}`);
  // Newest `limit`, shown oldest first (a timeline reads downwards).
  const rows = await flows.messages({
    receiverId: q.get('receiver') || undefined,
    senderId: q.get('sender') || undefined,
    status: (state || undefined) as (typeof states)[number] | undefined,
    afterId: after ? clampInt(after, 0, Number.MAX_SAFE_INTEGER, 0) : undefined,
    order: 'desc',
    limit,
  });
  return rows.reverse().map(messageView);
}

/** The page's live feed: a full picture first, then changed agents and messages (coalesced briefly). */
function eventStream(deps: DashboardDeps, req: IncomingMessage, res: ServerResponse): void {
  const { flows } = deps;
  const sse = openSse(req, res);
  const agents = new Set<string>();
  const msgs = new Set<number>();
  const runs = new Set<string>();
  let timer: NodeJS.Timeout | null = null;
  let closed = false;
  // What the stream sends, in order: the hello first, then each batch of changes once the one before it was sent.
  let sending: Promise<void> = Promise.resolve();
  const send = (work: () => Promise<void>) => {
    sending = sending.then(work).catch((err: Error) => logger('dashboard').debug({ error: err.message }, 'a dashboard update could not be read'));
  };
  const flush = () => {
    timer = null;
    const changed = { agents: [...agents], msgs: [...msgs].sort((a, b) => a - b), runs: [...runs] };
    agents.clear();
    msgs.clear();
    runs.clear();
    send(async () => {
      const views = await Promise.all(changed.agents.map((id) => flows.agent(id)));
      const messages = await Promise.all(changed.msgs.map((id) => flows.message(id)));
      if (closed) return;
      for (const a of views) if (a) sse.send('agent', shownAgent(a));
      for (const m of messages) if (m) sse.send('message', messageView(m));
      // After the agents, so the page knows their state when it reads the runs again.
      if (changed.runs.length) sse.send('runs', { terminals: changed.runs });
    });
  };
  const off = flows.onChange((c: Change) => {
    if ('agent' in c) agents.add(c.agent);
    else if ('run' in c) runs.add(c.run);
    else {
      msgs.add(c.message);
      agents.add(c.receiver);
    }
    timer ??= setTimeout(flush, COALESCE_MS);
  });
  sse.onClose(() => {
    closed = true;
    if (timer) clearTimeout(timer);
    off();
  });
  send(async () => {
    const hello: DashboardHello = {
      hub: deps.hub(),
      agents: await agentList(flows, false),
      messages: await listMessageViews(flows, new URLSearchParams()),
      hosts: await flows.hosts(),
    };
    if (!closed) sse.send('hello', hello);
  });
}

function clampInt(v: string | null, min: number, max: number, dflt: number): number {
  if (v === null || v === '') return dflt;
  const n = Number(v);
  if (!Number.isFinite(n)) return dflt;
  return Math.min(max, Math.max(min, Math.floor(n)));
}
