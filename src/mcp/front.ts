import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import {
  isInitializeRequest,
  isInitializedNotification,
  isJSONRPCErrorResponse,
  isJSONRPCRequest,
  isJSONRPCResultResponse,
  type JSONRPCMessage,
  type JSONRPCRequest,
} from '@modelcontextprotocol/sdk/types.js';

/** Where the hub listens and the client token that admits a supervisor. */
export interface HubAddress {
  url: string;
  token: string;
}

export interface FrontOptions {
  /** Finds the running hub, starting it when there is none. */
  hub: () => Promise<HubAddress>;
  /** The supervisor's name in the inbox (CAO_SUPERVISOR_ID). */
  supervisor: string;
  /** One line for the client's log (stderr). */
  log: (line: string) => void;
}

/** The id of the initialize this front replays to a new hub session (the client never sees its answer). */
const REPLAY_ID = 'cao-front-initialize';

/** JSON-RPC "server error" for a request the hub could not answer. */
const HUB_GONE = -32001;

interface Link {
  transport: StreamableHTTPClientTransport;
  url: string;
}

/**
 * The stdio front: `cao-mcp` as a client starts it, passing every MCP message between the client (stdio) and the
 * hub (Streamable HTTP) as it is, so that tools, progress, inbox notices and tasks work exactly as with the hub
 * itself. The workers belong to the hub: this process ending, however it ends, costs nothing but its connection.
 * When the hub goes away, the calls it was answering get an error that says so, and the next message connects to
 * a hub again (starting one), replaying the client's initialize, so the client keeps its own session.
 */
export async function runFront(opts: FrontOptions): Promise<void> {
  const stdio = new StdioServerTransport();
  let init: JSONRPCRequest | undefined;
  /** The client's initialize went to a hub once: a later hub session must get it replayed. */
  let initSent = false;
  let initialized = false;
  let link: Link | null = null;
  let connecting: Promise<Link> | null = null;
  /** Requests of the client the hub has not answered yet. */
  const inFlight = new Map<string | number, JSONRPCRequest>();
  let replayed: ((m: JSONRPCMessage) => void) | null = null;

  const toClient = (m: JSONRPCMessage) => void stdio.send(m).catch(() => undefined);

  const fromHub = (m: JSONRPCMessage) => {
    if ((isJSONRPCResultResponse(m) || isJSONRPCErrorResponse(m)) && m.id === REPLAY_ID) {
      replayed?.(m);
      return;
    }
    if ((isJSONRPCResultResponse(m) || isJSONRPCErrorResponse(m)) && m.id !== undefined) inFlight.delete(m.id);
    toClient(m);
  };

  /** The hub is gone: answer what it was answering, and connect again on the next message. */
  const lost = (l: Link, why: string) => {
    if (link !== l) return;
    link = null;
    void l.transport.close().catch(() => undefined);
    opts.log(`lost the hub at ${l.url} (${why}); the next call connects again`);
    for (const [id, req] of inFlight) {
      toClient({
        jsonrpc: '2.0',
        id,
        error: {
          code: HUB_GONE,
          message: `the cao-mcp hub went away during ${req.method} (${why}). Workers run on in the pty host; call list_agents, then read_output(terminal_id, wait_seconds) to pick up their answers.`,
        },
      });
    }
    inFlight.clear();
  };

  const open = async (): Promise<Link> => {
    const addr = await opts.hub();
    const transport = new StreamableHTTPClientTransport(new URL('/mcp', addr.url), {
      requestInit: {
        // the hub runs elsewhere: relative paths and project profiles are this client's, so its directory goes along
        headers: { Authorization: `Bearer ${addr.token}`, 'X-Cao-Supervisor': opts.supervisor, 'X-Cao-Cwd': encodeURIComponent(process.cwd()) },
      },
      // A broken stream is the hub going away: this front reconnects itself, with a new session.
      reconnectionOptions: { maxRetries: 0, initialReconnectionDelay: 100, maxReconnectionDelay: 100, reconnectionDelayGrowFactor: 1 },
    });
    const l: Link = { transport, url: addr.url };
    transport.onmessage = fromHub;
    transport.onerror = (e) => {
      if (/disconnected|reconnect|fetch failed|ECONNREFUSED|terminated|other side closed/i.test(e.message)) lost(l, e.message);
    };
    transport.onclose = () => lost(l, 'connection closed');
    await transport.start();
    if (init && initSent) await replayInitialize(transport);
    return l;
  };

  /** A new hub session for a client that has initialized already: the same initialize, answered here. */
  const replayInitialize = async (transport: StreamableHTTPClientTransport): Promise<void> => {
    const answered = new Promise<JSONRPCMessage>((resolve) => (replayed = resolve));
    await transport.send({ ...init!, id: REPLAY_ID });
    const answer = await answered;
    replayed = null;
    if (isJSONRPCErrorResponse(answer)) throw new Error(`the hub refused the replayed initialize: ${answer.error.message}`);
    const version = (answer as { result?: { protocolVersion?: string } }).result?.protocolVersion;
    if (version) transport.setProtocolVersion(version);
    if (initialized) await transport.send({ jsonrpc: '2.0', method: 'notifications/initialized' });
  };

  const connection = (): Promise<Link> => {
    if (link) return Promise.resolve(link);
    connecting ??= open()
      .then((l) => (link = l))
      .finally(() => (connecting = null));
    return connecting;
  };

  const send = async (m: JSONRPCMessage, retry = true): Promise<void> => {
    const l = await connection();
    try {
      await l.transport.send(m);
      if (m === init) initSent = true;
    } catch (e) {
      const msg = (e as Error).message;
      // 404: the hub restarted and forgot the session; a refused connection: it is gone. Either way, once more.
      lost(l, msg);
      if (!retry) throw e;
      if (isJSONRPCRequest(m)) inFlight.set(m.id, m);
      await send(m, false);
    }
  };

  stdio.onmessage = (m) => {
    if (isInitializeRequest(m)) init = m as JSONRPCRequest;
    if (isInitializedNotification(m)) initialized = true;
    if (isJSONRPCRequest(m)) inFlight.set(m.id, m);
    send(m).catch((e: Error) => {
      if (!isJSONRPCRequest(m)) return opts.log(`could not pass ${('method' in m && m.method) || 'a message'} to the hub: ${e.message}`);
      inFlight.delete(m.id);
      toClient({ jsonrpc: '2.0', id: m.id, error: { code: HUB_GONE, message: `cannot reach the cao-mcp hub: ${e.message}` } });
    });
  };
  const closed = new Promise<void>((resolve) => (stdio.onclose = resolve));
  process.stdin.on('end', () => void stdio.close());
  await stdio.start();
  await closed;
  // A clean end: the hub forgets this session; the workers are the hub's and stay (README, "Lifetimes").
  if (link) await (link as Link).transport.terminateSession().catch(() => undefined);
  await (link as Link | null)?.transport.close().catch(() => undefined);
}
