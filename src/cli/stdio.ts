import { dashboardBanner } from '../dashboard/banner.js';
import { Hub } from '../hub/hub.js';
import { runFront } from '../mcp/front.js';
import { serveStdio } from '../mcp/stdio.js';
import { ensureHubDaemon } from './hub-daemon.js';
import { flushLog, logger } from '../util/log.js';

/**
 * `cao-mcp` over stdio: the user's own agent (Claude Code, Codex, Kiro…) started it. By default a front over
 * the daemon hub; with CAO_DURABLE=0 the hub itself, which owns the workers and ends them when the client goes.
 */
export async function runStdioHub(): Promise<void> {
  if (process.env.CAO_DURABLE !== '0') return runStdioFront();
  const hub = await (await Hub.open({ mode: 'stdio' })).start();
  const name = process.env.CAO_SUPERVISOR_ID || 'supervisor';
  await hub.flows.registerSupervisor(name);
  await serveStdio(hub.flows, { id: name, kind: 'external' }, async (why) => {
    process.stderr.write(`cao-mcp: ${why}; stopping workers\n`);
    logger('hub').info({ why }, 'the client went away; stopping workers');
    await hub.stop().catch((e: Error) => {
      process.stderr.write(`cao-mcp: stop: ${e.message}\n`);
      logger('hub').error({ err: e }, 'stop failed');
    });
    process.exit(0);
  });
}

/**
 * The default: this process is only a front; the hub (and its workers) run in a daemon of their own
 * (`cao-mcp hub`, their ptys in the pty host), started when absent, so the client restarting or this process
 * dying costs no worker. CAO_DURABLE=0: this process is the hub, as before, and its workers end with it.
 */
async function runStdioFront(): Promise<void> {
  let told = false;
  await runFront({
    hub: async () => {
      const addr = await ensureHubDaemon();
      // the client's log gets the address, not the token (as a stdio hub's banner)
      if (!told) process.stderr.write(dashboardBanner('stdio', addr.url, addr.token));
      told = true;
      return addr;
    },
    supervisor: process.env.CAO_SUPERVISOR_ID || 'supervisor',
    // the client's log (stderr) and ours: a front that lost its hub is what a person debugging a client looks for
    log: (line) => {
      process.stderr.write(`cao-mcp: ${line}\n`);
      logger('front').warn(line);
    },
  });
  logger('front').info('the client went away');
  await flushLog();
  process.exit(0);
}
