import path from 'node:path';
import type { LaunchSpec, SeedOptions } from './common.js';
import { FAKE_API_KEY, baseEnv, homeFor, writeJson } from './common.js';
import { binPath, realCliCache } from './versions.js';

/**
 * GitHub Copilot CLI in offline mode against a custom OpenAI-compatible provider (BYOK): `COPILOT_OFFLINE=true`
 * (no GitHub login, no telemetry, no lookups), `COPILOT_PROVIDER_BASE_URL`/`_API_KEY`, a model name; the workdir
 * trusted in `~/.copilot/config.json`, the banner off. MCP servers in `~/.copilot/mcp-config.json`.
 * Its first run unpacks ~235 MB under `~/.cache/copilot/pkg`: the cache is shared between runs (COPILOT_CACHE_HOME).
 */
export function seedCopilot(o: SeedOptions): LaunchSpec {
  const home = homeFor('copilot', o);
  const env0 = baseEnv(home);
  writeJson(path.join(home, '.copilot', 'config.json'), { trustedFolders: [o.cwd], banner: 'never' });
  writeJson(path.join(home, '.copilot', 'settings.json'), { banner: 'never' });
  const servers = o.mcpServers ?? {};
  if (Object.keys(servers).length) {
    writeJson(path.join(home, '.copilot', 'mcp-config.json'), {
      mcpServers: Object.fromEntries(
        Object.entries(servers).map(([name, s]) => [
          name,
          { type: 'local', command: s.command, args: s.args ?? [], env: s.env ?? {}, tools: ['*'], timeout: (o.toolTimeoutSec ?? 600) * 1000 },
        ]),
      ),
    });
  }
  const env = {
    ...env0,
    COPILOT_OFFLINE: 'true',
    COPILOT_PROVIDER_BASE_URL: `${o.modelUrl}/v1`,
    COPILOT_PROVIDER_API_KEY: FAKE_API_KEY,
    COPILOT_MODEL: 'fake-model',
    COPILOT_AUTO_UPDATE: 'false',
    COPILOT_CACHE_HOME: path.join(realCliCache(), 'copilot-cache'),
  };
  return { cli: 'copilot', command: binPath('copilot'), args: [], env, home, cwd: o.cwd };
}
