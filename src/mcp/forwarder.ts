import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { CallToolRequestSchema, ListToolsRequestSchema, type CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { VERSION } from '../util/version.js';
import { isWorkerId } from '../flows/ids.js';

/** Longest a forwarded tool call may take (handoff allows 3600 s, plus startup). */
const FORWARD_TIMEOUT_MS = 3_900_000;
/** How long a worker's forwarder waits for a hub that went away to be back. */
const HUB_RESTART_WAIT_MS = 30_000;

/**
 * Worker mode: this `cao-mcp` was started by a worker CLI that the hub spawned. It serves MCP on
 * stdio and forwards every call to the hub, which knows the caller by its token.
 */
export async function runForwarder(hubUrl: string, terminalId: string, token: string): Promise<void> {
  if (!isWorkerId(terminalId)) throw new Error(`CAO_TERMINAL_ID "${terminalId}" is not a cao-mcp terminal id (8 hex characters)`);
  let endpoint: URL;
  try {
    endpoint = new URL('/mcp', hubUrl);
  } catch {
    throw new Error(`CAO_HUB_URL "${hubUrl}" is not a URL`);
  }
  const connect = async (): Promise<Client> => {
    const c = new Client({ name: `cao-mcp-forwarder-${terminalId}`, version: VERSION });
    const transport = new StreamableHTTPClientTransport(endpoint, {
      requestInit: { headers: { Authorization: `Bearer ${token}` } },
    });
    try {
      await c.connect(transport);
    } catch (e) {
      const msg = (e as Error).message;
      if (/401|invalid token/i.test(msg))
        throw new Error(`the cao-mcp hub at ${hubUrl} rejected the token of terminal ${terminalId} (has the terminal ended?)`, { cause: e });
      throw new Error(`cannot reach the cao-mcp hub at ${hubUrl}: ${msg}`, { cause: e });
    }
    return c;
  };
  let client = await connect();
  /** The hub closes MCP sessions that stay idle (CAO_SESSION_IDLE_SECONDS): open a new one and try once more. */
  const withSession = async <T>(fn: (c: Client) => Promise<T>): Promise<T> => {
    try {
      return await fn(client);
    } catch (e) {
      const msg = (e as Error).message;
      const gone = /fetch failed|ECONNREFUSED|ECONNRESET|socket hang up|other side closed/i.test(msg);
      if (!gone && !/\b404\b|unknown MCP session/i.test(msg)) throw e;
      await client.close().catch(() => undefined);
      // A hub that went away may be restarting (a durable hub comes back on the same port): wait for it a while.
      client = gone ? await reconnectWithin(HUB_RESTART_WAIT_MS) : await connect();
      return fn(client);
    }
  };
  const reconnectWithin = async (ms: number): Promise<Client> => {
    const deadline = Date.now() + ms;
    for (;;) {
      try {
        return await connect();
      } catch (e) {
        if (Date.now() >= deadline) throw e;
        await new Promise((r) => setTimeout(r, 250));
      }
    }
  };

  const server = new Server({ name: 'cao-mcp', version: VERSION }, { capabilities: { tools: {}, logging: {} } });
  // This relay takes no task-augmented calls (it declares no tasks capability): the tools are listed without
  // `execution`, so a worker's CLI calls handoff the blocking way.
  server.setRequestHandler(ListToolsRequestSchema, async () =>
    withSession(async (c) => {
      const r = await c.listTools();
      return { ...r, tools: r.tools.map(({ execution: _execution, ...t }) => t) };
    }),
  );
  server.setRequestHandler(CallToolRequestSchema, async (req, extra) => {
    const progressToken = req.params._meta?.progressToken;
    try {
      return (await withSession((c) =>
        c.callTool({ name: req.params.name, arguments: req.params.arguments }, undefined, {
          timeout: FORWARD_TIMEOUT_MS,
          resetTimeoutOnProgress: true,
          signal: extra.signal,
          onprogress:
            progressToken === undefined
              ? undefined
              : (p) => void extra.sendNotification({ method: 'notifications/progress', params: { ...p, progressToken } }).catch(() => undefined),
        }),
      )) as CallToolResult;
    } catch (e) {
      return { content: [{ type: 'text', text: `Error: cao-mcp hub call failed: ${(e as Error).message}` }], isError: true };
    }
  });
  const stdio = new StdioServerTransport();
  const closed = new Promise<void>((r) => (stdio.onclose = r));
  await server.connect(stdio);
  process.stdin.on('end', () => void server.close());
  await closed;
  await client.close().catch(() => undefined);
}
