import path from 'node:path';
import type { LaunchSpec, SeedOptions } from './common.js';
import { FAKE_API_KEY, baseEnv, homeFor, writeJson } from './common.js';
import { binPath } from './versions.js';

/**
 * Kilo Code CLI (an OpenCode fork): `~/.config/kilo/kilo.json` in OpenCode's format with a `fake`
 * openai-compatible provider (the only one enabled), permissions allowed; MCP under `mcp`. The env turns off its
 * daemon, updates, model list fetches, default plugins, sharing, LSP downloads, Claude Code imports and telemetry.
 */
export function seedKilo(o: SeedOptions): LaunchSpec {
  const home = homeFor('kilo', o);
  const env0 = baseEnv(home);
  const mcp = Object.fromEntries(
    Object.entries(o.mcpServers ?? {}).map(([name, s]) => [
      name,
      { type: 'local', command: [s.command, ...(s.args ?? [])], environment: s.env ?? {}, enabled: true, timeout: (o.toolTimeoutSec ?? 600) * 1000 },
    ]),
  );
  writeJson(path.join(env0.XDG_CONFIG_HOME, 'kilo', 'kilo.json'), {
    autoupdate: false,
    share: 'disabled',
    model: 'fake/fake-model',
    small_model: 'fake/fake-model',
    enabled_providers: ['fake'],
    provider: {
      fake: {
        npm: '@ai-sdk/openai-compatible',
        name: 'Fake',
        options: { baseURL: `${o.modelUrl}/v1`, apiKey: FAKE_API_KEY },
        models: { 'fake-model': { name: 'Fake Model' } },
      },
    },
    mcp,
  });
  const env = {
    ...env0,
    KILO_NO_DAEMON: '1',
    KILO_DISABLE_AUTOUPDATE: '1',
    KILO_DISABLE_MODELS_FETCH: '1',
    KILO_DISABLE_DEFAULT_PLUGINS: '1',
    KILO_DISABLE_SHARE: '1',
    KILO_DISABLE_LSP_DOWNLOAD: '1',
    KILO_DISABLE_CLAUDE_CODE: '1',
    KILO_TELEMETRY_LEVEL: 'off',
  };
  return { cli: 'kilo', command: binPath('kilo'), args: [], env, home, cwd: o.cwd };
}
