import { chmodSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { LaunchContext } from '../../src/providers/types.js';

/**
 * A LaunchContext for provider tests: a stand-in CLI (`<dir>/bin/cli`, answering a `--help` probe) first on PATH,
 * the worker's token in the environment and in its MCP spec. `env` adds or overrides variables.
 */
export function testLaunchContext(opts: { dir: string; workingDirectory: string; token: string; env?: Record<string, string> }): LaunchContext {
  const { dir, token } = opts;
  const bin = path.join(dir, 'bin', 'cli');
  writeFileSync(bin, "#!/bin/sh\necho '      --no-alt-screen  Disable alternate screen mode'\n");
  chmodSync(bin, 0o755);
  return {
    terminalId: 'abcdef12',
    workingDirectory: opts.workingDirectory,
    profileName: 'developer',
    systemPrompt: 'Be brief.',
    model: 'some-model',
    mcp: {
      name: 'cao',
      command: process.execPath,
      args: ['/opt/cao/dist/cli/main.js'],
      env: { CAO_HUB_URL: 'http://127.0.0.1:1', CAO_TERMINAL_ID: 'abcdef12', CAO_TOKEN: token },
    },
    runtimeDir: path.join(dir, 'run'),
    env: { PATH: `${path.join(dir, 'bin')}:/usr/bin:/bin`, KIMI_SHARE_DIR: path.join(dir, 'kimi'), CAO_TOKEN: token, ...opts.env },
    toolTimeoutSec: 600,
  };
}
