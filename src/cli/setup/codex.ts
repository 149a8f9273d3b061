import { homedir } from 'node:os';
import { join } from 'node:path';
import { tomlFloat, tomlString, tomlStringArray } from '../../providers/common/toml.js';
import { setTomlTable } from './toml-edit.js';
import type { ClientSetup } from './types.js';

/** Seconds Codex waits for the server to start (default 10): a first `npx -y` may download the package. */
const STARTUP_SEC = 60;

/**
 * Codex: `[mcp_servers.<name>]` in `$CODEX_HOME/config.toml` (default ~/.codex). `tool_timeout_sec` must be a float:
 * Codex silently ignores an integer and keeps its ~60 s default.
 */
export const codex: ClientSetup = {
  id: 'codex',
  label: 'Codex',
  file: (env) => join(env.CODEX_HOME || join(homedir(), '.codex'), 'config.toml'),
  merge: (current, file, s) => {
    const block = [
      `[mcp_servers.${s.name}]`,
      `command = ${tomlString(s.command)}`,
      `args = ${tomlStringArray(s.args)}`,
      `tool_timeout_sec = ${tomlFloat(s.timeoutSec)}`,
      `startup_timeout_sec = ${tomlFloat(STARTUP_SEC)}`,
    ].join('\n');
    const value = { command: s.command, args: s.args, tool_timeout_sec: s.timeoutSec, startup_timeout_sec: STARTUP_SEC };
    return setTomlTable(current, file, 'Codex', ['mcp_servers', s.name], block, value);
  },
  after: (s) => `Start a new Codex session; \`codex mcp get ${s.name}\` checks it.`,
};
