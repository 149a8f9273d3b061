import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { LaunchContext } from './types.js';
import { deepMerge, isPlainObject, mcpServersJson, mcpTimeoutMs, parseJsonc, writePrivateFile } from './common/index.js';

/**
 * A per-terminal Gemini CLI home (`GEMINI_CLI_HOME`), layered over the user's real one.
 *
 * Why not the cheaper mechanisms (checked in Gemini CLI 0.61 source):
 * - `GEMINI_CLI_SYSTEM_SETTINGS_PATH` is honoured only when the file and every parent directory are owned by
 *   root and not group/other-writable, so it silently does nothing for a normal user.
 * - `GEMINI_SYSTEM_MD` *replaces* the whole built-in system prompt (tool rules included); we want to append.
 * - `<cwd>/.gemini/settings.json` would write into the user's project and clash between workers.
 *
 * So: `<runtimeDir>/gemini-home/.gemini/` holds symlinks to every entry of the real `~/.gemini` (auth tokens,
 * installation id, history…) except two files we write ourselves:
 * - `settings.json` = the user's settings with our MCP server merged under `mcpServers` (trusted, long timeout);
 * - the global context file (`GEMINI.md` or the first `context.fileName`) = the user's own global context plus
 *   the profile text. Gemini appends global context to its system prompt, so the profile is appended, not
 *   substituted.
 */
export function buildGeminiHome(ctx: LaunchContext): string {
  const realHome = ctx.env.GEMINI_CLI_HOME || ctx.env.HOME || homedir();
  const realDir = join(realHome, '.gemini');
  const root = join(ctx.runtimeDir, 'gemini-home');
  const dir = join(root, '.gemini');
  rmSync(root, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true, mode: 0o700 });

  const userSettings = readUserSettings(join(realDir, 'settings.json'));
  const contextFile = globalContextFileName(userSettings);

  if (existsSync(realDir)) {
    for (const entry of readdirSync(realDir)) {
      if (entry === 'settings.json' || entry === contextFile) continue;
      symlinkSync(join(realDir, entry), join(dir, entry));
    }
  }
  // Other things Gemini looks for under its home: the `.agents` skills dir and `~/.env`.
  for (const entry of ['.agents', '.env']) {
    if (existsSync(join(realHome, entry))) symlinkSync(join(realHome, entry), join(root, entry));
  }

  const ours = mcpServersJson(ctx.mcp, {
    timeout: mcpTimeoutMs(ctx.toolTimeoutSec),
    // no confirmation before each call of our tools
    trust: true,
  });
  writePrivateFile(join(dir, 'settings.json'), JSON.stringify(deepMerge(userSettings, ours), null, 2) + '\n');

  const ownContext = readIfExists(join(realDir, contextFile));
  const profile = ctx.systemPrompt.trim();
  const context = [ownContext?.trim(), profile].filter(Boolean).join('\n\n');
  if (context) writePrivateFile(join(dir, contextFile), context + '\n');
  else if (ownContext !== null) symlinkSync(join(realDir, contextFile), join(dir, contextFile));
  return root;
}

function readIfExists(file: string): string | null {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return null;
  }
}

/** The user's settings (JSON with comments); a file we cannot parse is an error, not something to overwrite. */
function readUserSettings(file: string): Record<string, unknown> {
  const text = readIfExists(file);
  if (text === null || text.trim() === '') return {};
  let parsed: unknown;
  try {
    parsed = parseJsonc(text);
  } catch (e) {
    throw new Error(`cannot read Gemini CLI settings ${file}: ${(e as Error).message}`, { cause: e });
  }
  return isPlainObject(parsed) ? parsed : {};
}

/** Gemini reads global context from `~/.gemini/<name>` for every configured context file name (default GEMINI.md). */
function globalContextFileName(settings: Record<string, unknown>): string {
  const ctx = settings.context;
  const names = isPlainObject(ctx) ? ctx.fileName : undefined;
  const first = Array.isArray(names) ? names[0] : names;
  return typeof first === 'string' && first.trim() && !first.includes('/') ? first.trim() : 'GEMINI.md';
}
