import { Hub } from '../hub/hub.js';
import { serveStdio } from '../mcp/stdio.js';

/**
 * Hub mode over stdio: the user's own agent (Claude Code, Codex, Kiro…) started `cao-mcp`. This process
 * owns the workers; it ends them all when the client goes away.
 */
export async function runStdioHub(): Promise<void> {
  const hub = await new Hub({ mode: 'stdio' }).start();
  const name = process.env.CAO_SUPERVISOR_ID || 'supervisor';
  hub.flows.registerSupervisor(name);
  await serveStdio(hub.flows, { id: name, kind: 'external' }, async (why) => {
    process.stderr.write(`cao-mcp: ${why}; stopping workers\n`);
    await hub.stop().catch((e) => process.stderr.write(`cao-mcp: stop: ${(e as Error).message}\n`));
    process.exit(0);
  });
}
