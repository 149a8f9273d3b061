import path from 'node:path';
import type { LaunchSpec, SeedOptions } from './common.js';
import { FAKE_API_KEY, baseEnv, homeFor, writeJson } from './common.js';
import { binPath } from './versions.js';

/**
 * Factory Droid with a custom (BYOK) Chat Completions model and no Factory login: `FACTORY_AIRGAP_ENABLED=true`
 * (undocumented; without it the TUI demands a login), `~/.factory/settings.json` with `customModels`
 * (`provider: "generic-chat-completion-api"`), that model as the session default (`custom:<displayName with
 * dashes>-<index>`) and the workdir trusted. MCP servers in `~/.factory/mcp.json`.
 */
export function seedDroid(o: SeedOptions): LaunchSpec {
  const home = homeFor('droid', o);
  writeJson(path.join(home, '.factory', 'settings.json'), {
    customModels: [
      {
        model: 'fake-model',
        displayName: 'Fake Model',
        baseUrl: `${o.modelUrl}/v1`,
        apiKey: FAKE_API_KEY,
        provider: 'generic-chat-completion-api',
        maxOutputTokens: 8192,
      },
    ],
    sessionDefaultSettings: { model: 'custom:Fake-Model-0' },
    trustedFolders: [o.cwd],
  });
  const servers = o.mcpServers ?? {};
  if (Object.keys(servers).length) {
    writeJson(path.join(home, '.factory', 'mcp.json'), {
      mcpServers: Object.fromEntries(
        Object.entries(servers).map(([name, s]) => [name, { type: 'stdio', command: s.command, args: s.args ?? [], env: s.env ?? {} }]),
      ),
    });
  }
  const env = { ...baseEnv(home), FACTORY_AIRGAP_ENABLED: 'true' };
  return { cli: 'droid', command: binPath('droid'), args: [], env, home, cwd: o.cwd };
}
