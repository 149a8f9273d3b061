import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { setJsonEntry } from './jsonc.js';
import type { ClientSetup } from './types.js';

/**
 * OpenCode: the global config in `$XDG_CONFIG_HOME/opencode/` (default ~/.config/opencode). It loads config.json,
 * opencode.json, then opencode.jsonc (each overriding the last): edit opencode.jsonc when it exists, else
 * opencode.json. `mcp.<name>` is a local server; `timeout` (ms) bounds every MCP request and defaults to 5 s,
 * far too short for handoff. It reads JSONC with trailing commas.
 */
export const opencode: ClientSetup = {
  id: 'opencode',
  label: 'OpenCode',
  file: (env) => {
    const dir = join(env.XDG_CONFIG_HOME || join(homedir(), '.config'), 'opencode');
    const jsonc = join(dir, 'opencode.jsonc');
    return existsSync(jsonc) ? jsonc : join(dir, 'opencode.json');
  },
  merge: (current, file, s) =>
    setJsonEntry(current, file, { comments: true, trailingCommas: true, reader: 'OpenCode' }, ['mcp', s.name], {
      type: 'local',
      command: [s.command, ...s.args],
      enabled: true,
      timeout: Math.round(s.timeoutSec * 1000),
    }),
  after: () => 'Start a new OpenCode session; `opencode mcp list` checks it.',
};
