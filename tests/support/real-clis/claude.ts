import path from 'node:path';
import type { LaunchSpec, SeedOptions } from './common.js';
import { FAKE_API_KEY, baseEnv, homeFor, writeJson } from './common.js';
import { binPath } from './versions.js';

/**
 * Claude Code: onboarding done, our API key pre-approved (last 20 chars), the cwd trusted; MCP servers via
 * `--mcp-config <file> --strict-mcp-config`, their tools pre-allowed in settings (`mcp__<server>`).
 * `hasCompletedProjectOnboarding` gives the compact 3-line banner of the captured screens instead of the
 * boxed "Welcome back!" + "Tips for getting started" panel.
 */
export function seedClaude(o: SeedOptions): LaunchSpec {
  const home = homeFor('claude', o);
  const servers = o.mcpServers ?? {};
  writeJson(path.join(home, '.claude.json'), {
    hasCompletedOnboarding: true,
    customApiKeyResponses: { approved: [FAKE_API_KEY.slice(-20)], rejected: [] },
    projects: { [o.cwd]: { hasTrustDialogAccepted: true, hasCompletedProjectOnboarding: true, allowedTools: [] } },
  });
  writeJson(path.join(home, '.claude', 'settings.json'), {
    skipDangerousModePermissionPrompt: true,
    permissions: { allow: o.approveMcpTools === false ? [] : Object.keys(servers).map((name) => `mcp__${name}`) },
  });
  const args: string[] = [];
  if (Object.keys(servers).length) {
    const file = path.join(home, 'mcp.json');
    writeJson(file, {
      mcpServers: Object.fromEntries(
        Object.entries(servers).map(([name, s]) => [name, { type: 'stdio', command: s.command, args: s.args ?? [], env: s.env ?? {} }]),
      ),
    });
    args.push('--mcp-config', file, '--strict-mcp-config');
  }
  const env = {
    ...baseEnv(home),
    ANTHROPIC_BASE_URL: o.modelUrl,
    ANTHROPIC_API_KEY: FAKE_API_KEY,
    CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
    DISABLE_AUTOUPDATER: '1',
    DISABLE_TELEMETRY: '1',
    DISABLE_ERROR_REPORTING: '1',
    // --dangerously-skip-permissions is refused for root without it
    IS_SANDBOX: '1',
    // MCP tool-call timeout, in ms
    MCP_TOOL_TIMEOUT: String((o.toolTimeoutSec ?? 600) * 1000),
  };
  return { cli: 'claude', command: binPath('claude'), args, env, home, cwd: o.cwd };
}
