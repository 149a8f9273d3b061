import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ScreenSnapshot } from '../screen/snapshot.js';
import type { DetectedStatus } from '../status/types.js';
import type { LaunchContext, LaunchSpec, Provider } from './types.js';
import { BRAILLE_SPINNER, cleanAnswer, findRuledComposer, mcpTimeoutMs, resolveBinary, writePrivateFile, writePrivateJson } from './common/index.js';

/*
 * pi 0.73 (@mariozechner/pi-coding-agent) draws inline, with no marker glyphs: every block of history is indented
 * one column, and blocks are set apart by blank rows. A user message is drawn on a coloured band with a blank
 * padding row above and below it (two blank rows then separate it from the next block); paragraphs of an answer
 * are one blank row apart. Bottom up (tests/fixtures/real/pi-*.txt):
 *
 *    say ping                                  ← the user's message (on its band)
 *
 *
 *    PONG-42                                   ← the answer
 *    second line of it
 *    ⠧ Working...                              ← status row, only while busy
 *   ────────────────────────────────────        ← input top rule
 *                                               ← input row(s)
 *   ────────────────────────────────────        ← input bottom rule
 *   /home/dev/prj                               ← footer: working directory,
 *   ↑640 ↓7 0.5%/128k (auto)                    ←   tokens used (↑/↓ only once a turn has run) and context
 *
 * pi has no dialogs of its own (no permission prompts, no question tool) and no MCP client: cao-mcp's tools reach
 * it through an extension (./pi-extension.ts).
 */

const MAX_FOOTER_ROWS = 4;
const WORKING_RE = /\bWorking\.\.\./;
/** The usage row once the session has spent tokens: `↑640 ↓7 0.5%/128k`. */
const USED_RE = /↑\s*[\d.]+[kM]?\s+↓\s*[\d.]+[kM]?/u;

interface Regions {
  lines: string[];
  top: number;
  bottom: number;
  /** Last row of history (above the status rows). */
  historyEnd: number;
  busy: boolean;
  used: boolean;
}

function regions(s: ScreenSnapshot): Regions {
  const lines = s.lines;
  const { last, top, bottom } = findRuledComposer(s, '─', MAX_FOOTER_ROWS, 30);
  if (top < 0) return { lines, top: -1, bottom: -1, historyEnd: last, busy: lines.slice(-6).some(isStatusRow), used: false };
  let historyEnd = top - 1;
  let busy = false;
  while (historyEnd >= 0 && (lines[historyEnd].trim() === '' || isStatusRow(lines[historyEnd]))) {
    if (isStatusRow(lines[historyEnd])) busy = true;
    historyEnd--;
  }
  const used = lines.slice(bottom + 1).some((r) => USED_RE.test(r));
  return { lines, top, bottom, historyEnd, busy, used };
}

function isStatusRow(r: string): boolean {
  const t = r.trimStart();
  return WORKING_RE.test(r) && BRAILLE_SPINNER.test(t.charAt(0));
}

/**
 * The last answer: the last run of history blocks that are one blank row apart (paragraphs), ending at the end of
 * history. Two or more blank rows end it (a user message's band, or a tool block).
 */
function lastAnswer(g: Regions): { from: number; to: number } | null {
  const { lines, historyEnd: to } = g;
  if (to < 0 || !/^ \S/.test(lines[to])) return null;
  let from = to;
  for (let i = to - 1; i >= 0; i--) {
    if (lines[i].trim() !== '') {
      if (!/^ /.test(lines[i])) break; // start-up notes at column 0
      from = i;
      continue;
    }
    if (i > 0 && lines[i - 1].trim() === '') break;
  }
  return { from, to };
}

function detect(s: ScreenSnapshot): DetectedStatus {
  const g = regions(s);
  if (g.top < 0) return g.busy ? 'processing' : 'unknown';
  if (g.busy) return 'processing';
  // Tokens spent and a block of text above the input: a turn is over (a new message shows "Working..." at once).
  return g.used && lastAnswer(g) ? 'completed' : 'idle';
}

function extractLastAnswer(s: ScreenSnapshot): string | null {
  const g = regions(s);
  if (g.top < 0 || g.busy || !g.used) return null;
  const r = lastAnswer(g);
  return r ? cleanAnswer(g.lines.slice(r.from, r.to + 1).map((l) => l.replace(/^ /, ''))) : null;
}

function inputPending(s: ScreenSnapshot): boolean {
  const g = regions(s);
  return g.top >= 0 && g.lines.slice(g.top + 1, g.bottom).some((l) => l.trim() !== '');
}

/** dist/providers/pi-extension.js next to this file (src/… when run from source by the tests). */
function extensionPath(): string {
  const js = fileURLToPath(new URL('./pi-extension.js', import.meta.url));
  return existsSync(js) ? js : fileURLToPath(new URL('./pi-extension.ts', import.meta.url));
}

export const piProvider: Provider = {
  id: 'pi',
  label: 'pi',
  cols: 200,
  rows: 50,
  launch(ctx: LaunchContext): LaunchSpec {
    const bridge = join(ctx.runtimeDir, 'pi-mcp.json');
    writePrivateJson(bridge, {
      name: ctx.mcp.name,
      command: ctx.mcp.command,
      args: ctx.mcp.args,
      env: ctx.mcp.env,
      timeoutMs: mcpTimeoutMs(ctx.toolTimeoutSec),
    });
    // pi has no sub-agents of its own; the profile is appended to its system prompt (text or a file's contents).
    const args = ['-e', extensionPath()];
    const prompt = ctx.systemPrompt.trim();
    if (prompt) {
      const file = join(ctx.runtimeDir, 'pi-profile.md');
      writePrivateFile(file, prompt + '\n');
      args.push('--append-system-prompt', file);
    }
    if (ctx.model) args.push('--model', ctx.model);
    return {
      command: resolveBinary('pi', 'CAO_PI_BIN', ctx.env),
      args,
      env: { ...ctx.env, CAO_PI_MCP_CONFIG: bridge },
      cwd: ctx.workingDirectory,
    };
  },
  startupDialogs: [],
  detect,
  pendingQuestion: () => null,
  extractLastAnswer,
  inputPending,
  input: { enterDelayMs: 300, submitKey: '\r' },
  // Ctrl-C clears the editor, a second one quits; the process group is killed after graceMs anyway.
  exit: { keys: ['\x03', '\x03'], graceMs: 3000 },
  startupTimeoutMs: 60_000,
  // The last answer stays on screen until "Working..." shows for the next message.
  readyWithoutBusyMs: 3000,
};

export const __test = { regions, lastAnswer };
