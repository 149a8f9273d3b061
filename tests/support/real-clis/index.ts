import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { LaunchSpec, SeedOptions } from './common.js';
import { makeHome } from './common.js';
import type { RealCli } from './versions.js';
import { seedClaude } from './claude.js';
import { seedCodex } from './codex.js';
import { seedGemini } from './gemini.js';
import { seedOpencode } from './opencode.js';

export { REAL_CLI_VERSIONS, REAL_CLIS, binPath, isInstalled, realCliCache } from './versions.js';
export type { RealCli } from './versions.js';
export type { LaunchSpec, McpStdioServer, SeedOptions } from './common.js';
export { FAKE_API_KEY } from './common.js';
export { assertLoopbackOnlyNetwork, inLoopbackNamespace, loopbackShellLine, networkInterfaces } from './namespace.js';
export { startRealTui } from './pty-run.js';
export type { RunningTui, SubmitOptions } from './pty-run.js';
export { pidsWithEnv, waitNoProcessesWithEnv } from './processes.js';
export { seedClaude, seedCodex, seedGemini, seedOpencode };

/** Path of the tiny stdio MCP server used by real-CLI tests (tool `send_message` appends to $RECORD_FILE). */
export const RECORD_MCP_SERVER = path.join(path.dirname(fileURLToPath(import.meta.url)), 'record-mcp-server.mjs');

/** Creates a throwaway HOME for `cli`, seeds its config for the fake model at `o.modelUrl`, and says how to launch it. */
export function seedRealCli(cli: RealCli, o: SeedOptions): LaunchSpec {
  switch (cli) {
    case 'claude': return seedClaude(o);
    case 'codex': return seedCodex(o);
    case 'gemini': return seedGemini(o);
    case 'opencode': return seedOpencode(o);
  }
}

/** Several CLIs seeded into one throwaway HOME: `env` merges theirs (a hub whose workers are of several kinds). */
export interface MultiSeed {
  home: string;
  env: Record<string, string>;
  specs: Record<string, LaunchSpec>;
}

export function seedRealClis(clis: RealCli[], o: SeedOptions): MultiSeed {
  const home = o.home ?? makeHome(clis.join('-'), o.tmpRoot);
  const specs: Record<string, LaunchSpec> = {};
  let env: Record<string, string> = {};
  for (const cli of clis) {
    specs[cli] = seedRealCli(cli, { ...o, home });
    env = { ...env, ...specs[cli].env };
  }
  return { home, env, specs };
}
