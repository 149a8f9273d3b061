import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { LaunchSpec, SeedOptions } from './common.js';
import { makeHome } from './common.js';
import type { AnyCli } from './versions.js';
import { seedClaude } from './claude.js';
import { seedCodex } from './codex.js';
import { seedGemini } from './gemini.js';
import { seedOpencode } from './opencode.js';
import { seedQwen } from './qwen.js';
import { seedKilo } from './kilo.js';
import { seedCopilot } from './copilot.js';
import { seedPi } from './pi.js';
import { seedDroid } from './droid.js';

export { ALL_REAL_CLIS, REAL_CLI_VERSIONS, REAL_CLIS, binPath, isInstalled, realCliCache } from './versions.js';
export type { AnyCli, MoreCli, RealCli } from './versions.js';
export type { LaunchSpec, McpStdioServer, SeedOptions } from './common.js';
export { FAKE_API_KEY } from './common.js';
export { assertLoopbackOnlyNetwork, inLoopbackNamespace, loopbackShellLine, networkInterfaces } from './namespace.js';
export { startRealTui } from './pty-run.js';
export type { RunningTui, SubmitOptions } from './pty-run.js';
export { pidsWithEnv, waitNoProcessesWithEnv } from './processes.js';
export { seedClaude, seedCodex, seedGemini, seedOpencode, seedQwen, seedKilo, seedCopilot, seedPi, seedDroid };

/** Path of the tiny stdio MCP server used by real-CLI tests (tool `send_message` appends to $RECORD_FILE). */
export const RECORD_MCP_SERVER = path.join(path.dirname(fileURLToPath(import.meta.url)), 'record-mcp-server.mjs');

/** Creates a throwaway HOME for `cli`, seeds its config for the fake model at `o.modelUrl`, and says how to launch it. */
export function seedRealCli(cli: AnyCli, o: SeedOptions): LaunchSpec {
  switch (cli) {
    case 'claude':
      return seedClaude(o);
    case 'codex':
      return seedCodex(o);
    case 'gemini':
      return seedGemini(o);
    case 'opencode':
      return seedOpencode(o);
    case 'qwen':
      return seedQwen(o);
    case 'kilo':
      return seedKilo(o);
    case 'copilot':
      return seedCopilot(o);
    case 'pi':
      return seedPi(o);
    case 'droid':
      return seedDroid(o);
  }
}

/** Several CLIs seeded into one throwaway HOME: `env` merges theirs (a hub whose workers are of several kinds). */
export interface MultiSeed {
  home: string;
  env: Record<string, string>;
  specs: Record<string, LaunchSpec>;
}

export function seedRealClis(clis: AnyCli[], o: SeedOptions): MultiSeed {
  const home = o.home ?? makeHome(clis.join('-'), o.tmpRoot);
  const specs: Record<string, LaunchSpec> = {};
  let env: Record<string, string> = {};
  for (const cli of clis) {
    specs[cli] = seedRealCli(cli, { ...o, home });
    env = { ...env, ...specs[cli].env };
  }
  return { home, env, specs };
}
