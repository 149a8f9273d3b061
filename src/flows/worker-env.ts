import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { distFile, runtimeDir, runtimeDirPath } from '../util/paths.js';
import { CaoError, messageOf } from '../util/errors.js';
import type { WorkerSpec } from './warm.js';
import { checkArgv } from './worker-args.js';
import type { LaunchSpec, McpServerSpec, Provider } from '../providers/types.js';
import { isDatabaseSecret } from '../util/db-env.js';

/** Environment variables through which a worker's own `cao-mcp` finds its hub and proves who it is. */
export const ENV_HUB_URL = 'CAO_HUB_URL';
export const ENV_TERMINAL_ID = 'CAO_TERMINAL_ID';
export const ENV_TOKEN = 'CAO_TOKEN';

export function newToken(): string {
  return randomBytes(24).toString('base64url');
}

/** Variables a worker CLI must not inherit from the hub's own environment (they belong to another agent; the database's credentials, db-env.ts, are the hub's alone). */
const STRIP_PREFIXES = ['CAO_HUB_URL', 'CAO_TERMINAL_ID', 'CAO_TOKEN', 'CLAUDECODE', 'CLAUDE_CODE_ENTRYPOINT', 'CODEX_SANDBOX', 'CODEX_THREAD_ID'];

export function workerEnv(base: NodeJS.ProcessEnv, hubUrl: string, terminalId: string, token: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(base)) {
    if (v === undefined || STRIP_PREFIXES.some((p) => k === p) || isDatabaseSecret(k, base)) continue;
    env[k] = v;
  }
  env.TERM = 'xterm-256color';
  env.COLORTERM = env.COLORTERM || 'truecolor';
  env[ENV_HUB_URL] = hubUrl;
  env[ENV_TERMINAL_ID] = terminalId;
  env[ENV_TOKEN] = token;
  return env;
}

/** The stdio MCP server a worker CLI runs to reach cao-mcp: this very package, in forwarding mode. */
export function workerMcpSpec(hubUrl: string, terminalId: string, token: string): McpServerSpec {
  const env: Record<string, string> = { [ENV_HUB_URL]: hubUrl, [ENV_TERMINAL_ID]: terminalId, [ENV_TOKEN]: token };
  if (process.env.CAO_HOME) env.CAO_HOME = process.env.CAO_HOME;
  return { name: 'cao', command: process.execPath, args: [distFile('cli/main.js')], env };
}

/** The files given to a worker CLI (its MCP config…): of no use once it has ended, or when it never started. */
export function removeRuntimeDir(id: string): void {
  try {
    rmSync(runtimeDirPath(id), { recursive: true, force: true });
  } catch {
    /* best effort */
  }
}

/**
 * A new token and the provider's command line for one worker (its config files written to its runtime dir),
 * checked to hold no secret and no control character; nothing is left behind when it fails.
 */
export async function prepareLaunch(
  provider: Provider,
  spec: WorkerSpec,
  id: string,
  hubUrl: string,
  toolTimeoutSec: number,
): Promise<{ token: string; launch: LaunchSpec }> {
  const token = newToken();
  const ctx = {
    terminalId: id,
    workingDirectory: spec.cwd,
    profileName: spec.profile.name,
    systemPrompt: spec.profile.systemPrompt,
    model: spec.model,
    mcp: workerMcpSpec(hubUrl, id, token),
    runtimeDir: runtimeDir(id),
    env: workerEnv(process.env, hubUrl, id, token),
    toolTimeoutSec,
  };
  try {
    const launch = await provider.launch(ctx);
    checkArgv(launch.command, launch.args, [token]);
    return { token, launch };
  } catch (e) {
    removeRuntimeDir(id);
    throw new CaoError('launch_failed', `could not prepare ${provider.label}: ${messageOf(e)}`);
  }
}
