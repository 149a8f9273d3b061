import { homedir } from 'node:os';
import { join } from 'node:path';
import { setJsonEntry } from './jsonc.js';
import type { ClientSetup } from './types.js';

/**
 * Gemini CLI: `~/.gemini/settings.json` `mcpServers.<name>`, the shape `gemini mcp add -s user --timeout` writes.
 * It strips comments but refuses trailing commas. No `trust`: it would skip the confirmation of every cao tool call,
 * which is the user's choice to make.
 */
export const gemini: ClientSetup = {
  id: 'gemini',
  label: 'Gemini CLI',
  file: () => join(homedir(), '.gemini', 'settings.json'),
  merge: (current, file, s) =>
    setJsonEntry(current, file, { comments: true, trailingCommas: false, reader: 'Gemini CLI' }, ['mcpServers', s.name], {
      command: s.command,
      args: s.args,
      timeout: Math.round(s.timeoutSec * 1000),
    }),
  after: (s) =>
    `Start a new Gemini CLI session; \`gemini mcp list\` checks it (add "trust": true to mcpServers.${s.name} to skip the confirmations).`,
};
