import path from 'node:path';
import type { LaunchSpec, SeedOptions } from './common.js';
import { FAKE_API_KEY, baseEnv, homeFor, writeJson } from './common.js';
import { binPath } from './versions.js';

/**
 * pi: a custom `fake` provider in `~/.pi/agent/models.json` (`api: "openai-completions"`, no developer role, no
 * reasoning effort), made the default in `~/.pi/agent/settings.json`; offline (no version check, no telemetry).
 * pi has no MCP client: cao-mcp's provider gives it one through an extension (src/providers/pi-extension.ts).
 */
export function seedPi(o: SeedOptions): LaunchSpec {
  const home = homeFor('pi', o);
  writeJson(path.join(home, '.pi', 'agent', 'models.json'), {
    providers: {
      fake: {
        baseUrl: `${o.modelUrl}/v1`,
        api: 'openai-completions',
        apiKey: FAKE_API_KEY,
        compat: { supportsDeveloperRole: false, supportsReasoningEffort: false },
        models: [{ id: 'fake-model', name: 'Fake Model' }],
      },
    },
  });
  writeJson(path.join(home, '.pi', 'agent', 'settings.json'), { defaultProvider: 'fake', defaultModel: 'fake-model', quietStartup: true });
  const env = { ...baseEnv(home), PI_OFFLINE: '1', PI_SKIP_VERSION_CHECK: '1', PI_TELEMETRY: '0' };
  return { cli: 'pi', command: binPath('pi'), args: [], env, home, cwd: o.cwd };
}
