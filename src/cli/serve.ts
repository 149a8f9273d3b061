import { existsSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Hub } from '../hub/hub.js';
import { newToken } from '../flows/worker-env.js';
import { caoHome } from '../util/paths.js';
import { logger } from '../util/log.js';

/** A kept token must be at least this strong: 32 characters of base64url (192 bits, as newToken() makes). */
const STRONG_TOKEN_RE = /^[A-Za-z0-9_-]{32,}$/;

/**
 * The client token of `serve`, kept across restarts so registered clients keep working. A kept token that
 * others could read (group or world bits set) or that is weak is replaced, with a line on stderr saying why:
 * clients registered with the old one must be given the new one.
 */
export function serveToken(file = join(caoHome(), 'serve-token')): string {
  if (existsSync(file)) {
    const t = readFileSync(file, 'utf8').trim();
    const mode = statSync(file).mode & 0o777;
    const why =
      mode & 0o077 ? `it was readable by others (mode ${mode.toString(8).padStart(4, '0')})` : !STRONG_TOKEN_RE.test(t) ? 'it was too weak' : '';
    if (!why) return t;
    process.stderr.write(`cao-mcp: replaced ${file}: ${why}; give your clients the new token\n`);
    logger('hub').warn({ file, why }, 'replaced the serve token');
    rmSync(file, { force: true });
  }
  const t = newToken();
  writeFileSync(file, `${t}\n`, { mode: 0o600, flag: 'wx' });
  return t;
}

export async function runServe(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      port: { type: 'string', default: process.env.CAO_PORT ?? '9889' },
      host: { type: 'string', default: '127.0.0.1' },
      // many machines (CAO_DATABASE_URL): this one's name, how many workers it takes, its labels
      'host-name': { type: 'string' },
      capacity: { type: 'string' },
      labels: { type: 'string' },
    },
    strict: true,
  });
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`--port must be 0–65535 (got "${values.port}")`);
  if (!['127.0.0.1', 'localhost', '::1'].includes(values.host!))
    throw new Error(`--host must be a loopback address (127.0.0.1, localhost or ::1); cao-mcp never listens on a network`);
  const hub = await (
    await Hub.open({
      mode: 'serve',
      port,
      host: values.host,
      clientToken: serveToken(),
      hostFlags: { name: values['host-name'], capacity: values.capacity, labels: values.labels },
    })
  ).start();
  process.stderr.write(
    [
      `cao-mcp hub listening on ${hub.url} (pid ${process.pid})${hub.hostName ? `, host ${hub.hostName} of the shared database` : ''}`,
      `MCP endpoint: ${hub.url}/mcp   token: ${hub.clientToken}`,
      `Register with Claude Code:`,
      `  claude mcp add --transport http cao ${hub.url}/mcp --header "Authorization: Bearer ${hub.clientToken}"`,
      '',
    ].join('\n'),
  );
  let ending = false;
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const)
    process.on(sig, () => {
      if (ending) return;
      ending = true;
      process.stderr.write(`cao-mcp: got ${sig}; stopping workers\n`);
      logger('hub').info({ signal: sig }, `got ${sig}; stopping workers`);
      void hub.stop().finally(() => process.exit(0));
    });
}
