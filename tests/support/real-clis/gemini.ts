import path from 'node:path';
import type { LaunchSpec, SeedOptions } from './common.js';
import { FAKE_API_KEY, baseEnv, homeFor, writeJson } from './common.js';
import { binPath } from './versions.js';

/** Gemini CLI: `~/.gemini/settings.json` (API-key auth, no trust prompt, no updates); MCP under `mcpServers`, trusted. */
export function seedGemini(o: SeedOptions): LaunchSpec {
  const home = homeFor('gemini', o);
  const mcpServers = Object.fromEntries(
    Object.entries(o.mcpServers ?? {}).map(([name, s]) => [
      name,
      // trust: no confirmation before each call; timeout in ms
      {
        command: s.command,
        args: s.args ?? [],
        env: s.env ?? {},
        cwd: o.cwd,
        timeout: (o.toolTimeoutSec ?? 600) * 1000,
        trust: o.approveMcpTools !== false,
      },
    ]),
  );
  writeJson(path.join(home, '.gemini', 'settings.json'), {
    security: { auth: { selectedType: 'gemini-api-key' }, folderTrust: { enabled: false } },
    general: { enableAutoUpdate: false, enableAutoUpdateNotification: false },
    privacy: { usageStatisticsEnabled: false },
    telemetry: { enabled: false },
    ide: { enabled: false },
    ui: { hideTips: true },
    mcpServers,
  });
  const env = {
    ...baseEnv(home),
    GEMINI_API_KEY: FAKE_API_KEY,
    GOOGLE_GEMINI_BASE_URL: o.modelUrl,
    COLORTERM: 'truecolor',
  };
  return { cli: 'gemini', command: binPath('gemini'), args: [], env, home, cwd: o.cwd };
}
