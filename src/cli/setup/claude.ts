import { homedir } from 'node:os';
import { join } from 'node:path';
import { setJsonEntry } from './jsonc.js';
import type { ClientSetup } from './types.js';

/**
 * Claude Code: a user-scope server in `~/.claude.json` (`$CLAUDE_CONFIG_DIR/.claude.json` when set), the shape
 * `claude mcp add --scope user` writes, plus the per-server `timeout` (ms) that Claude Code 2.1 reads there
 * (`claude mcp add-json` keeps it, `claude mcp get` shows it). MCP_TOOL_TIMEOUT in the env block of settings.json
 * works too, but for every server: it would cut the others' default (1e8 ms in 2.1.197) to ours. Claude Code reads this file as strict JSON: a comment makes it
 * set the file aside as corrupted.
 */
export const claude: ClientSetup = {
  id: 'claude',
  label: 'Claude Code',
  file: (env) => join(env.CLAUDE_CONFIG_DIR || homedir(), '.claude.json'),
  merge: (current, file, s) =>
    setJsonEntry(current, file, { comments: false, trailingCommas: false, reader: 'Claude Code' }, ['mcpServers', s.name], {
      type: 'stdio',
      command: s.command,
      args: s.args,
      env: {},
      timeout: Math.round(s.timeoutSec * 1000),
    }),
  after: (s) =>
    `Start a new Claude Code session; \`claude mcp get ${s.name}\` checks it. Claude Code asks before each cao tool call ` +
    `unless you allow them (/permissions, or "mcp__${s.name}" in permissions.allow of ~/.claude/settings.json).`,
};
