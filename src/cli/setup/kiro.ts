import { homedir } from 'node:os';
import { join } from 'node:path';
import { setJsonEntry } from './jsonc.js';
import type { ClientSetup } from './types.js';

/** Kiro CLI: `~/.kiro/settings/mcp.json` `mcpServers.<name>` with `timeout` in ms (the shape our Kiro provider uses). */
export const kiro: ClientSetup = {
  id: 'kiro',
  label: 'Kiro CLI',
  file: () => join(homedir(), '.kiro', 'settings', 'mcp.json'),
  merge: (current, file, s) =>
    setJsonEntry(current, file, { comments: true, trailingCommas: false, reader: 'Kiro CLI' }, ['mcpServers', s.name], {
      command: s.command,
      args: s.args,
      timeout: Math.round(s.timeoutSec * 1000),
    }),
  after: () => 'Start a new Kiro CLI session; /mcp shows it.',
};
