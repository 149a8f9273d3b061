import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { Hub } from '../hub/hub.js';
import { createMcpServer } from './tools.js';

/**
 * Hub mode over stdio: the user's own agent (Claude Code, Codex, Kiro…) started `cao-mcp`. This process
 * owns the workers; it ends them all when the client goes away.
 */
export async function runStdioHub(): Promise<void> {
  const hub = await new Hub({ mode: 'stdio' }).start();
  const name = process.env.CAO_SUPERVISOR_ID || 'supervisor';
  hub.store.ensureExternal(name);
  const { server, dispose } = createMcpServer(hub.orch, { id: name, kind: 'external' });
  const transport = new StdioServerTransport();
  let ending = false;
  const end = async (why: string) => {
    if (ending) return;
    ending = true;
    process.stderr.write(`cao-mcp: ${why}; stopping workers\n`);
    dispose();
    await hub.stop().catch((e) => process.stderr.write(`cao-mcp: stop: ${(e as Error).message}\n`));
    process.exit(0);
  };
  transport.onclose = () => void end('client closed the connection');
  process.stdin.on('end', () => void end('stdin closed'));
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(sig, () => void end(`got ${sig}`));
  await server.connect(transport);
}
