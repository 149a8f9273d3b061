import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { ScreenSnapshot } from '../screen/snapshot.js';
import type { DetectedStatus } from '../status/types.js';
import type { LaunchContext, LaunchSpec, Provider, StartupDialog } from './types.js';
import {
  cleanAnswer,
  findIndex,
  findLastIndex,
  lastNonBlankIndex,
  pickOption,
  resolveBinary,
  trimBlankEdges,
  writePrivateFile,
} from './common/index.js';

/*
 * Kimi CLI ("Kimi Code CLI", the Python kimi-cli with the redesigned prompt_toolkit TUI), drawn inline.
 * Verified on captures only (tests/fixtures/cao/kimi_code_tui_*_raw.txt); Kimi is not installable here.
 *
 *   ✨ Create a Python function …               ← the user's message, echoed with ✨
 *   ⠧ Thinking... 2s · 114 tokens               ← live spinner row while a turn runs (erased after)
 *   • The user wants …                          ← thinking, then the answer: `• ` bullets, continuation
 *   • def greet(name):                             rows indented 2 (thinking is grey, which plain text
 *         return f'Hello, {name}!'                 cannot tell apart: the answer is the last bullet)
 *   ── input ─────────────────────────────────  ← input area between this rule …
 *                                              ← (typed text)
 *   ──────────────────────────────────────────  ← … and this one
 *   yolo  agent (Kimi-k2.6 ●)  /tmp/dir  …     ← status bar
 *                         context: 4.6% (12.1k/262.1k)
 *
 * Approval and question requests are rich panels (`╭─ approval ─…`, `→ [1] Approve once`, `  [2] …`).
 */

const INPUT_RULE_RE = /^── input ─{3,}/u;
const USER_RE = /^(?:\w+@[\w.-]+)?[✨💫] \S/u;
const BULLET_RE = /^[•●] /u;
const SPINNER_RE = /^\s*(?:[\u2801-\u28ff]|[🌑🌒🌓🌔🌕🌖🌗🌘])\s*\S/u;
/** Spinners that only mean "starting up", not "a turn is running". */
const BOOT_RE =
  /MCP Servers|\(connecting\)|Resolving dependencies|connecting to mcp servers|Loading configuration|Loading agent|Restoring conversation/i;
const ERROR_RE = /^(?:Error:|ERROR:|Traceback \(most recent call last\):|ConnectionError:|APIError:)/;
const PANEL_TOP_RE = /^\s*╭─+\s*(approval|question)\b/iu;
const PANEL_OPTION_RE = /^[\s│]*(→\s*)?\[(\d+)\]\s+(.*?)[\s│]*$/u;
const UPGRADE_RE = /Skip reminders for version|\[Enter\]\s+Upgrade now/;

interface Regions {
  lines: string[];
  /** `── input ──` rule (index in lines), -1 if none. */
  input: number;
  /** Last row of the transcript (above the input area, or above a panel). */
  end: number;
  /** Panel rows [from, to] when an approval/question panel is open. */
  panel: { from: number; to: number } | null;
}

function regions(s: ScreenSnapshot): Regions {
  const lines = s.lines.map((l) => l.trimEnd());
  const last = lastNonBlankIndex(lines);
  const floor = Math.max(0, Math.min(s.viewportTop, last - 60));
  const input = findLastIndex(lines, (l) => INPUT_RULE_RE.test(l), last, floor);
  const panel = findPanel(lines, last, floor);
  let end = input >= 0 ? input - 1 : last;
  if (panel && panel.from <= end) end = panel.from - 1;
  return { lines, input, end, panel };
}

/** An open approval/question panel: below the last bullet and the last user row. */
function findPanel(lines: string[], last: number, floor: number): { from: number; to: number } | null {
  const top = findLastIndex(lines, (l) => PANEL_TOP_RE.test(l), last, floor);
  if (top < 0) return null;
  const bottom = findIndex(lines, (l) => /^\s*╰─/u.test(l), top + 1, last);
  const to = bottom >= 0 ? bottom : last;
  if (findIndex(lines, (l) => /→\s*\[\d+\]/u.test(l), top, to) < 0) return null;
  // Conversation printed after the panel means it was answered long ago.
  if (findIndex(lines, (l) => BULLET_RE.test(l) || USER_RE.test(l), to + 1, last) >= 0) return null;
  return { from: top, to };
}

/** The last user row above `end`, or -1. */
function lastUser(r: Regions): number {
  return findLastIndex(r.lines, (l) => USER_RE.test(l), r.end, 0);
}

function isTurnSpinner(l: string): boolean {
  return SPINNER_RE.test(l) && !BOOT_RE.test(l);
}

function detect(s: ScreenSnapshot): DetectedStatus {
  const r = regions(s);
  if (r.panel) return 'waiting_user_answer';
  if (r.input < 0) {
    if (r.lines.slice(-15).some((l) => UPGRADE_RE.test(l))) return 'waiting_user_answer';
    return 'unknown';
  }
  const user = lastUser(r);
  const bullet = findLastIndex(r.lines, (l) => BULLET_RE.test(l), r.end, user + 1);
  // A live spinner close above the input area, or anywhere after the last bullet of this turn.
  const from = Math.max(0, user + 1, Math.min(r.end - 15, bullet >= 0 ? bullet + 1 : Infinity));
  if (findIndex(r.lines, isTurnSpinner, from, r.end) >= 0) return 'processing';
  if (bullet >= 0) return 'completed';
  const lastContent = findLastIndex(r.lines, (l) => /^\S/.test(l), r.end, user + 1);
  if (lastContent >= 0 && ERROR_RE.test(r.lines[lastContent])) return 'error';
  if (user >= 0) {
    // The message (and its wrapped rows) with nothing of the turn after it yet: taken, not answered.
    let i = user + 1;
    while (i <= r.end && r.lines[i].trim() !== '') i++;
    if (findIndex(r.lines, (l) => l.trim() !== '', i, r.end) < 0) return 'processing';
  }
  return 'idle';
}

function extractLastAnswer(s: ScreenSnapshot): string | null {
  const r = regions(s);
  const user = lastUser(r);
  const start = findLastIndex(r.lines, (l) => BULLET_RE.test(l), r.end, user + 1);
  if (start < 0) return null;
  const out: string[] = [r.lines[start].replace(BULLET_RE, '')];
  for (let i = start + 1; i <= r.end; i++) {
    const l = r.lines[i];
    if (l.trim() !== '' && !/^ {2}/.test(l)) break; // next block at column 0 (spinner, status, error…)
    out.push(l.replace(/^ {2}/, ''));
  }
  return cleanAnswer(out);
}

function panelRows(s: ScreenSnapshot): string[] | null {
  const r = regions(s);
  if (!r.panel) return null;
  return trimBlankEdges(
    r.lines.slice(r.panel.from + 1, r.panel.to).map((l) =>
      l
        .replace(/^\s*│ ?/u, '')
        .replace(/\s*│\s*$/u, '')
        .trimEnd(),
    ),
  );
}

function pendingQuestion(s: ScreenSnapshot): string | null {
  const rows = panelRows(s);
  if (rows) return rows.join('\n');
  const r = regions(s);
  if (r.input < 0) {
    const tail = r.lines.slice(-15);
    if (tail.some((l) => UPGRADE_RE.test(l))) return cleanAnswer(tail);
  }
  return null;
}

/** Kimi's panels pick and submit on a digit (`[1]`…); an answer that is none of the options types nothing. */
function answerKeys(answer: string, s: ScreenSnapshot): string[] {
  const options = (panelRows(s) ?? []).map((l) => PANEL_OPTION_RE.exec(l)).filter((m): m is RegExpExecArray => m !== null);
  const idx = pickOption(
    answer,
    options.map((m) => m[3]),
  );
  return idx >= 0 ? [options[idx][2]] : [];
}

const startupDialogs: StartupDialog[] = [
  {
    // "kimi-cli update available … [s] Skip reminders for version X": blocks before the REPL.
    id: 'kimi-upgrade-reminder',
    match: (s) => regions(s).input < 0 && s.lines.slice(-15).some((l) => UPGRADE_RE.test(l)),
    keys: ['s'],
  },
];

/** Builds the agent file (default agent + the profile appended through its ROLE_ADDITIONAL slot) and the MCP config. */
function writeFiles(ctx: LaunchContext): { agentFile: string | null; mcpFile: string } {
  const mcpFile = join(ctx.runtimeDir, 'kimi-mcp.json');
  const mcp = { mcpServers: { [ctx.mcp.name]: { command: ctx.mcp.command, args: ctx.mcp.args, env: ctx.mcp.env } } };
  writePrivateFile(mcpFile, JSON.stringify(mcp, null, 2) + '\n');
  const prompt = ctx.systemPrompt.trim();
  if (!prompt) return { agentFile: null, mcpFile };
  const agentFile = join(ctx.runtimeDir, 'kimi-agent.yaml');
  // JSON strings are valid YAML scalars; the value is inserted verbatim (Kimi templates only the prompt file).
  const yaml = ['version: 1', 'agent:', '  extend: default', '  system_prompt_args:', `    ROLE_ADDITIONAL: ${JSON.stringify(prompt)}`, ''].join(
    '\n',
  );
  writePrivateFile(agentFile, yaml);
  return { agentFile, mcpFile };
}

export const kimiCliProvider: Provider = {
  id: 'kimi_cli',
  label: 'Kimi CLI',
  cols: 200,
  rows: 50,
  launch(ctx: LaunchContext): LaunchSpec {
    const { agentFile, mcpFile } = writeFiles(ctx);
    const args = ['--yolo'];
    if (agentFile) args.push('--agent-file', agentFile);
    // Any --mcp-config-file replaces Kimi's global mcp.json: pass the user's one too, so their servers stay.
    const share = ctx.env.KIMI_SHARE_DIR || join(ctx.env.HOME || homedir(), '.kimi');
    const globalMcp = join(share, 'mcp.json');
    if (existsSync(globalMcp)) args.push('--mcp-config-file', globalMcp);
    args.push('--mcp-config-file', mcpFile);
    if (ctx.model) args.push('--model', ctx.model);
    return {
      command: resolveBinary('kimi', 'CAO_KIMI_BIN', ctx.env),
      args,
      // Kimi exits silently under TERM=tmux-256color (reference notes); our emulator is an xterm.
      env: { ...ctx.env, TERM: 'xterm-256color' },
      cwd: ctx.workingDirectory,
    };
  },
  startupDialogs,
  detect,
  pendingQuestion,
  extractLastAnswer,
  answerKeys,
  input: { enterDelayMs: 300, submitKey: '\r' },
  // Ctrl-U clears a typed draft (prompt_toolkit), then /exit.
  exit: { keys: ['\x15', '/exit', '\r'], graceMs: 3000 },
  startupTimeoutMs: 120_000,
};
