import { Hub } from '../hub/hub.js';
import { runFront } from '../mcp/front.js';
import { serveStdio } from '../mcp/stdio.js';
import { ensureHubDaemon } from './hub-daemon.js';

/**
 * Hub mode over stdio: the user's own agent (Claude Code, Codex, Kiro…) started `cao-mcp`. This process
 * owns the workers; it ends them all when the client goes away.
 */
export async function runStdioHub(): Promise<void> {
  if (process.env.CAO_DURABLE === '1') return runStdioFront();
  const hub = await new Hub({ mode: 'stdio' }).start();
  const name = process.env.CAO_SUPERVISOR_ID || 'supervisor';
  hub.flows.registerSupervisor(name);
  await serveStdio(hub.flows, { id: name, kind: 'external' }, async (why) => {
    process.stderr.write(`cao-mcp: ${why}; stopping workers\n`);
    await hub.stop().catch((e) => process.stderr.write(`cao-mcp: stop: ${(e as Error).message}\n`));
    process.exit(0);
  });
}

/**
 * With CAO_DURABLE=1: this process is only a front; the hub (and its workers) run in a daemon of their own
 * (`cao-mcp hub`), started when absent, so the client restarting or this process dying costs no worker.
 */
async function runStdioFront(): Promise<void> {
  await runFront({
    hub: ensureHubDaemon,
    supervisor: process.env.CAO_SUPERVISOR_ID || 'supervisor',
    log: (line) => process.stderr.write(`cao-mcp: ${line}\n`),
  });
  process.exit(0);
}
