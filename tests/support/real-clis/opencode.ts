import path from 'node:path';
import type { LaunchSpec, SeedOptions } from './common.js';
import { FAKE_API_KEY, baseEnv, homeFor, writeJson } from './common.js';
import { binPath } from './versions.js';

/** OpenCode: `~/.config/opencode/opencode.json` with a `fake` openai-compatible provider; MCP under `mcp`. */
export function seedOpencode(o: SeedOptions): LaunchSpec {
  const home = homeFor('opencode', o);
  const env0 = baseEnv(home);
  const mcp = Object.fromEntries(
    Object.entries(o.mcpServers ?? {}).map(([name, s]) => [
      name,
      // timeout (ms) bounds every MCP request, tool calls included
      { type: 'local', command: [s.command, ...(s.args ?? [])], environment: s.env ?? {}, enabled: true, timeout: (o.toolTimeoutSec ?? 600) * 1000 },
    ]),
  );
  writeJson(path.join(env0.XDG_CONFIG_HOME, 'opencode', 'opencode.json'), {
    $schema: 'https://opencode.ai/config.json',
    autoupdate: false,
    share: 'disabled',
    model: 'fake/fake-model',
    small_model: 'fake/fake-model',
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
    OPENCODE_DISABLE_AUTOUPDATE: '1',
    OPENCODE_DISABLE_MODELS_FETCH: '1',
    OPENCODE_DISABLE_LSP_DOWNLOAD: '1',
    OPENCODE_DISABLE_DEFAULT_PLUGINS: '1',
    OPENCODE_DISABLE_SHARE: '1',
  };
  return { cli: 'opencode', command: binPath('opencode'), args: [], env, home, cwd: o.cwd };
}
