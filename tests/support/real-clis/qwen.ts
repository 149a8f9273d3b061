import path from 'node:path';
import type { LaunchSpec, SeedOptions } from './common.js';
import { FAKE_API_KEY, baseEnv, homeFor, writeJson } from './common.js';
import { binPath } from './versions.js';

/**
 * Qwen Code (a Gemini CLI fork): `~/.qwen/settings.json` in Gemini CLI's schema, OpenAI-compatible auth from the
 * environment (`OPENAI_BASE_URL`, `OPENAI_API_KEY`, `OPENAI_MODEL`); MCP under `mcpServers`, trusted.
 */
export function seedQwen(o: SeedOptions): LaunchSpec {
  const home = homeFor('qwen', o);
  const mcpServers = Object.fromEntries(
    Object.entries(o.mcpServers ?? {}).map(([name, s]) => [
      name,
      {
        command: s.command,
        args: s.args ?? [],
        env: s.env ?? {},
        cwd: o.cwd,
        timeout: (o.toolTimeoutSec ?? 600) * 1000,
        trust: o.approveMcpTools !== false,
        alwaysLoadTools: true,
      },
    ]),
  );
  writeJson(path.join(home, '.qwen', 'settings.json'), {
    security: { auth: { selectedType: 'openai' }, folderTrust: { enabled: false } },
    general: { enableAutoUpdate: false, enableAutoUpdateNotification: false },
    privacy: { usageStatisticsEnabled: false },
    telemetry: { enabled: false },
    ide: { enabled: false },
    // else a suggestion call after every turn
    ui: { hideTips: true, enableFollowupSuggestions: false },
    // else a second model call per turn (memory extraction)
    memory: { enableManagedAutoMemory: false },
    tools: { useRipgrep: false },
    mcpServers,
  });
  const env = {
    ...baseEnv(home),
    OPENAI_API_KEY: FAKE_API_KEY,
    OPENAI_BASE_URL: `${o.modelUrl}/v1`,
    OPENAI_MODEL: 'fake-model',
    COLORTERM: 'truecolor',
  };
  return { cli: 'qwen', command: binPath('qwen'), args: [], env, home, cwd: o.cwd };
}
