import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import type { Caller, Flows } from '../flows/index.js';
import { createMcpServer } from './tools.js';

/**
 * MCP over this process's stdin/stdout for one caller (the user's own agent that started `cao-mcp`).
 * `onEnd` runs once when the client goes away (closed transport, end of stdin, or a signal), with why.
 */
export async function serveStdio(flows: Flows, caller: Caller, onEnd: (why: string) => Promise<void>): Promise<void> {
  const { server, dispose } = createMcpServer(flows, caller);
  const transport = new StdioServerTransport();
  let ending = false;
  const end = async (why: string) => {
    if (ending) return;
    ending = true;
    dispose();
    await onEnd(why);
  };
  transport.onclose = () => void end('client closed the connection');
  process.stdin.on('end', () => void end('stdin closed'));
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(sig, () => void end(`got ${sig}`));
  await server.connect(transport);
}
