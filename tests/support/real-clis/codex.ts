import path from 'node:path';
import type { LaunchSpec, SeedOptions } from './common.js';
import { FAKE_API_KEY, baseEnv, homeFor, tomlString, writeFile } from './common.js';
import { binPath } from './versions.js';

/** Codex: `~/.codex/config.toml` with a `fake` Responses provider; MCP servers as `[mcp_servers.<name>]`. */
export function seedCodex(o: SeedOptions): LaunchSpec {
  const home = homeFor('codex', o);
  const timeout = (o.toolTimeoutSec ?? 600).toFixed(1); // must be a float: an integer is silently ignored
  const lines = [
    'model = "gpt-6-sol"',
    'model_provider = "fake"',
    'approval_policy = "never"',
    'sandbox_mode = "danger-full-access"',
    'check_for_update_on_startup = false',
    '',
    '[model_providers.fake]',
    'name = "fake"',
    `base_url = ${tomlString(`${o.modelUrl}/v1`)}`,
    'env_key = "FAKE_API_KEY"',
    'wire_api = "responses"',
    'request_max_retries = 0',
    'stream_max_retries = 0',
    '',
    `[projects.${tomlString(o.cwd)}]`,
    'trust_level = "trusted"',
    '',
    '[analytics]',
    'enabled = false',
    '',
    '[otel]',
    'exporter = "none"',
    '',
    '[tui]',
    'show_tooltips = false',
    '',
    '[features]',
    // else the first launch copies ~400 MB into ~/.codex and leaves a daemon behind
    'daemon_auto_start = false',
  ];
  for (const [name, s] of Object.entries(o.mcpServers ?? {})) {
    lines.push('', `[mcp_servers.${name}]`, `command = ${tomlString(s.command)}`, `args = [${(s.args ?? []).map(tomlString).join(', ')}]`);
    lines.push(`tool_timeout_sec = ${timeout}`, 'startup_timeout_sec = 30.0');
    const env = Object.entries(s.env ?? {});
    if (env.length) lines.push(`env = { ${env.map(([k, v]) => `${tomlString(k)} = ${tomlString(v)}`).join(', ')} }`);
  }
  writeFile(path.join(home, '.codex', 'config.toml'), lines.join('\n') + '\n');
  const env = { ...baseEnv(home), CODEX_HOME: path.join(home, '.codex'), FAKE_API_KEY };
  return { cli: 'codex', command: binPath('codex'), args: [], env, home, cwd: o.cwd };
}
