import { configureLog, flushLog, logger } from '../util/log.js';
import { caoHome } from '../util/paths.js';
import { VERSION } from '../util/version.js';
import { PtyHostServer } from './server.js';

const DEFAULT_IDLE_SECONDS = 60;
const DEFAULT_KEEP_EXITED_SECONDS = 600;

function seconds(name: string, fallback: number): number {
  const v = Number(process.env[name]);
  return Number.isFinite(v) && v > 0 ? v : fallback;
}

/** A line of `$CAO_HOME/logs/ptyhost.log` (component `ptyhost`; the host's stdio goes to `ptyhost.stderr.log`). */
function log(line: string, level: 'info' | 'warn' = 'info'): void {
  logger('ptyhost')[level](line);
}

/**
 * `cao-mcp pty-host`: the one pty host of this CAO_HOME. Exits 0 at once when another host answers on the
 * socket; otherwise serves until `shutdown`, SIGTERM/SIGINT (ending every process group first) or idleness.
 */
export async function runPtyHost(): Promise<void> {
  const home = caoHome();
  configureLog({ file: 'ptyhost.log' });
  const server = new PtyHostServer({
    home,
    version: VERSION,
    idleMs: seconds('CAO_PTYHOST_IDLE_SECONDS', DEFAULT_IDLE_SECONDS) * 1000,
    keepExitedMs: seconds('CAO_PTYHOST_KEEP_EXITED_SECONDS', DEFAULT_KEEP_EXITED_SECONDS) * 1000,
    log,
  });
  if ((await server.listen()) === 'other-host') {
    log('another pty host answers on this CAO_HOME: exiting');
    await flushLog();
    process.exit(0);
  }
  for (const sig of ['SIGTERM', 'SIGINT'] as const) process.on(sig, () => void server.stop(sig));
  // Started detached there is no terminal to hang up; a host started by hand keeps running without one.
  process.on('SIGHUP', () => log('SIGHUP ignored'));
  process.on('uncaughtException', () => {
    // the stack is logged by the logger's own monitor (component `process`)
    log('uncaught exception: stopping', 'warn');
    void server.stop('uncaught exception').then(() => process.exit(1));
  });
  await server.ended;
  await flushLog();
  process.exit(0);
}
