import { parseArgs } from 'node:util';
import { distFile } from '../../util/paths.js';
import { readConfig, writeConfigAtomic } from './atomic-write.js';
import { claude } from './claude.js';
import { codex } from './codex.js';
import { gemini } from './gemini.js';
import { kiro } from './kiro.js';
import { opencode } from './opencode.js';
import { SetupError, type ClientSetup, type ServerSpec } from './types.js';

const CLIENTS: ClientSetup[] = [claude, codex, gemini, opencode, kiro];
/** A minute beyond handoff's longest wait (3600 s), so cao-mcp's own timeout answer arrives before the client gives up. */
const DEFAULT_TIMEOUT_SEC = 3660;

export const SETUP_HELP = `Usage: cao-mcp setup <client> [--print] [--local | --command "<cmd> <args...>"] [--name cao] [--timeout <s>]

Registers cao-mcp as a stdio MCP server of your agent CLI, merged into its user config: other servers,
settings, comments and layout are kept; running it again changes nothing.

Clients and the file each one gets:
  claude     ~/.claude.json  mcpServers.<name> (user scope; $CLAUDE_CONFIG_DIR), per-server timeout in ms
  codex      ~/.codex/config.toml  [mcp_servers.<name>] ($CODEX_HOME), tool_timeout_sec as a float
  gemini     ~/.gemini/settings.json  mcpServers.<name>, timeout in ms
  opencode   ~/.config/opencode/opencode.json (or opencode.jsonc; $XDG_CONFIG_HOME)  mcp.<name>, local, timeout in ms
  kiro       ~/.kiro/settings/mcp.json  mcpServers.<name>, timeout in ms

Options:
  --print      write nothing; print the whole file as it would be written
  --command    how the client starts cao-mcp (default "npx -y cao-mcp"); quote arguments with ' or "
  --local      start this installation: node and the absolute path of its dist/cli/main.js (a clone, tests)
  --name       the server's name in the client (default cao; letters, digits, - and _)
  --timeout    seconds one tool call may take (default ${DEFAULT_TIMEOUT_SEC}: a blocking handoff waits up to 3600)

A file the client could not read either is an error naming the file and line; it is left as it was.
Files are replaced atomically and keep their mode; a new file is 0600 (these files hold other servers' secrets).`;

/** Splits a command line into words: whitespace separates, '…' and "…" quote, \\ escapes (no shell is involved). */
export function splitCommand(line: string): string[] {
  const words: string[] = [];
  let word: string | undefined;
  let quote: string | undefined;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quote) {
      if (c === quote) quote = undefined;
      else if (c === '\\' && quote === '"' && i + 1 < line.length) word += line[++i];
      else word += c;
    } else if (c === "'" || c === '"') {
      quote = c;
      word ??= '';
    } else if (c === '\\' && i + 1 < line.length) word = (word ?? '') + line[++i];
    else if (/\s/.test(c)) {
      if (word !== undefined) words.push(word);
      word = undefined;
    } else word = (word ?? '') + c;
  }
  if (quote) throw new SetupError(`--command: unterminated ${quote} quote`);
  if (word !== undefined) words.push(word);
  return words;
}

const clientList = () => CLIENTS.map((c) => c.id).join(', ');

export async function runSetup(argv: string[]): Promise<void> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: {
        print: { type: 'boolean' },
        local: { type: 'boolean' },
        command: { type: 'string' },
        name: { type: 'string' },
        timeout: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (e) {
    throw new SetupError(`${(e as Error).message}\n\n${SETUP_HELP}`);
  }
  const { values, positionals } = parsed;
  if (values.help) return void process.stdout.write(`${SETUP_HELP}\n`);
  if (positionals.length !== 1) throw new SetupError(`setup needs one client: ${clientList()}\n\n${SETUP_HELP}`);
  const client = CLIENTS.find((c) => c.id === positionals[0]);
  if (!client) throw new SetupError(`unknown client "${positionals[0]}"; choose one of: ${clientList()}`);

  if (values.local && values.command !== undefined) throw new SetupError('--local and --command are exclusive: --local starts this installation');
  const words = values.local ? [process.execPath, distFile('cli/main.js')] : splitCommand(values.command ?? 'npx -y cao-mcp');
  if (!words.length || !words[0]) throw new SetupError('--command is empty');
  const name = values.name ?? 'cao';
  if (!/^[A-Za-z0-9][A-Za-z0-9_-]*$/.test(name))
    throw new SetupError(`--name "${name}": use letters, digits, - and _ (it becomes part of tool names)`);
  const timeoutSec = values.timeout === undefined ? DEFAULT_TIMEOUT_SEC : Number(values.timeout);
  if (!Number.isFinite(timeoutSec) || timeoutSec < 1 || timeoutSec > 86_400)
    throw new SetupError(`--timeout "${values.timeout}": seconds between 1 and 86400`);
  const spec: ServerSpec = { name, command: words[0], args: words.slice(1), timeoutSec };

  // npx runs from a cache it may clear: registering that path would break later
  if (values.local && /[\\/]_npx[\\/]/.test(words[1]))
    process.stderr.write(`cao-mcp: warning: --local points into npx's cache (${words[1]}); prefer the default "npx -y cao-mcp"\n`);
  const file = client.file(process.env);
  const current = readConfig(file);
  const next = client.merge(current, file, spec);
  if (values.print) {
    process.stderr.write(`cao-mcp: ${current === next ? 'unchanged' : current === undefined ? 'would create' : 'would write'} ${file}:\n`);
    return void process.stdout.write(next);
  }
  if (next === current) {
    process.stdout.write(`${client.label}: "${name}" is already registered in ${file}; nothing changed.\n`);
    return;
  }
  writeConfigAtomic(file, next, current);
  process.stdout.write(`${client.label}: registered "${name}" (${[spec.command, ...spec.args].join(' ')}) in ${file}.\n`);
  if (client.after) process.stdout.write(`${client.after(spec)}\n`);
}
