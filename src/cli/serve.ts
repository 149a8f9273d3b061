import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Hub } from '../hub/hub.js';
import { newToken } from '../hub/worker-env.js';
import { caoHome } from '../util/paths.js';

/** The client token of `serve`, kept across restarts so registered clients keep working. */
export function serveToken(): string {
  const file = join(caoHome(), 'serve-token');
  if (existsSync(file)) {
    const t = readFileSync(file, 'utf8').trim();
    if (t) return t;
  }
  const t = newToken();
  writeFileSync(file, `${t}\n`, { mode: 0o600 });
  return t;
}

export async function runServe(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: { port: { type: 'string', default: process.env.CAO_PORT ?? '9889' }, host: { type: 'string', default: '127.0.0.1' } },
    strict: true,
  });
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`--port must be 0–65535 (got "${values.port}")`);
  if (!['127.0.0.1', 'localhost', '::1'].includes(values.host!))
    throw new Error(`--host must be a loopback address (127.0.0.1, localhost or ::1); cao-mcp never listens on a network`);
  const hub = await new Hub({ mode: 'serve', port, host: values.host, clientToken: serveToken() }).start();
  process.stderr.write(
    [
      `cao-mcp hub listening on ${hub.url} (pid ${process.pid})`,
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
      void hub.stop().finally(() => process.exit(0));
    });
}
