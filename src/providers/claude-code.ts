import { join } from 'node:path';
import type { DetectedStatus } from '../status/types.js';
import type { ScreenSnapshot } from '../screen/snapshot.js';
import type { LaunchContext, LaunchSpec, Provider, StartupDialog } from './types.js';
import {
  BUSY_FOOTER_RE,
  EFFORT_TAIL_RE,
  cleanAnswer,
  isBlank,
  isRule,
  menuFrom,
  lastNonBlankIndex,
  mcpServersJson,
  menuDigitFor,
  resolveBinary,
  runningAsRoot,
  tailStart,
  withoutKeys,
  writePrivateJson,
  answerFromBlocks,
  splitRowBlocks,
  startsAtColumnZero,
  type MenuDialog,
  type RowBlock,
} from './common/index.js';

/*
 * Claude Code (checked on 2.1.197 and the 2.1.168 capture). Its screen, bottom up:
 *
 *   ❯ say ping                      ← the user's message, echoed at column 0
 *   ● PONG-123                      ← answer / tool-call blocks start with ● (⏺ on macOS) at column 0
 *   ✻ Worked for 3s                 ← turn summary; while busy: `✢ Brewing…` (glyph cycles, verb ends in …)
 *   ──────────────                  ← input box: rule, `❯ ` prompt row(s), rule
 *   ❯
 *   ──────────────
 *     ? for shortcuts · ← for agents            ● high · /effort   ← footer; busy: `esc to interrupt`
 *
 * Every check is anchored to the input box: the footer rows below it, the block above it back to the last
 * echoed user message. Dialogs replace the box, so a menu is live only when no input box follows it.
 */

const PROMPT_RE = /^[ \u00a0]*[❯>](?:[ \u00a0]|$)/u;
const USER_ECHO_RE = /^[❯>][ \u00a0]+(?!\d{1,2}\.[ \u00a0])\S/u;
const MARKER_RE = /^[●⏺][ \u00a0]/u;
const SPINNER_RE = /^[·✢✳✶✻✽*][ \u00a0]+\S[^…]*…/u;
/**
 * Tool-call heads: `● Bash(ls)`, `● cao - send_message (MCP)(…)`, collapsed `● Read 1 file (ctrl+o to expand)`, and
 * user-facing names of several capitalised words with the call closed on the row:
 * `● MCP Wait For Servers(Wait for pending MCP servers to connect)`.
 */
const TOOL_HEAD_RE =
  /^[●⏺][ \u00a0]+(?:[A-Za-z][\w.-]*(?: - [\w.-]+(?: \(MCP\))?)?\(|[A-Z][\w.-]*(?: [A-Z][\w.-]*)+\(.*\)\s*$|.*\((?:ctrl\+[a-z]) to expand\)\s*$)/u;
/** Rows under a tool head: its result (`⎿ …`), or the collapsed summary of the calls grouped with it. */
const TOOL_RESULT_RE = /^[ \u00a0]+(?:⎿|.*\(ctrl\+[a-z] to expand\)\s*$)/u;
const ERROR_RE = /^[ \u00a0]*⎿?[ \u00a0]*(?:API Error\b|Invalid API key|Credit balance is too low|Please run \/login)/u;

/** Variables a parent Claude Code session sets that make a nested `claude` refuse to start or misbehave. */
const NESTED_SESSION_VARS = [
  'CLAUDECODE',
  'CLAUDE_CODE_ENTRYPOINT',
  'CLAUDE_CODE_SSE_PORT',
  'CLAUDE_PROJECT_DIR',
  'CLAUDE_ENV_FILE',
  'CLAUDE_CODE_SESSION_ID',
];

interface InputBox {
  top: number;
  prompt: number;
  bottom: number;
}

/** The last input box (rule / prompt / rule) in the visible rows, scanning up from the bottom. */
export function claudeInputBox(screen: ScreenSnapshot): InputBox | null {
  const { lines } = screen;
  const start = Math.max(0, Math.min(screen.viewportTop, lines.length - screen.rows));
  for (let i = lines.length - 1; i >= start; i--) {
    if (!isRule(lines[i], 8)) continue;
    let p = i + 1;
    while (p < lines.length && p <= i + 2 && isBlank(lines[p])) p++;
    if (p >= lines.length || !PROMPT_RE.test(lines[p])) continue;
    for (let j = p + 1; j < Math.min(lines.length, p + 25); j++) {
      if (isRule(lines[j], 8)) return { top: i, prompt: p, bottom: j };
    }
  }
  return null;
}

/** Text typed into the input box and not sent yet ('' when empty, null when there is no box). */
export function claudeDraft(screen: ScreenSnapshot): string | null {
  const box = claudeInputBox(screen);
  if (!box) return null;
  const rows = screen.lines.slice(box.prompt, box.bottom);
  rows[0] = rows[0].replace(PROMPT_RE, '');
  return rows
    .map((r) => r.trim())
    .filter(Boolean)
    .join('\n');
}

/** A dialog drawn where the input box would be: a numbered menu (or a "Press Enter" notice) with no box below it. */
function activeDialog(screen: ScreenSnapshot): MenuDialog | null {
  const { lines } = screen;
  const box = claudeInputBox(screen);
  const from = box ? box.bottom + 1 : tailStart(lines, 30);
  const end = lastNonBlankIndex(lines);
  if (end < from) return null;
  const { options: menu, rowsAfter } = menuFrom(lines, from, end, '❯>');
  if (menu.length) {
    // the menu must sit at the bottom: after it only descriptions / its key hints (a few rows)
    if (rowsAfter > 6) return null;
    return { start: dialogTop(lines, menu[0].line, from), end, options: menu };
  }
  const hint = lastNonBlankIndex(lines);
  if (hint >= from && /Press Enter to continue/u.test(lines[hint])) return { start: dialogTop(lines, hint, from), end, options: [] };
  return null;
}

/** Start of the dialog holding row `row`: just below the nearest rule / frame top, at most 25 rows up. */
function dialogTop(lines: string[], row: number, floor: number): number {
  for (let i = row - 1; i >= Math.max(floor, row - 25); i--) {
    if (isRule(lines[i], 8) || /^[ \u00a0]*╭/u.test(lines[i])) return i + 1;
  }
  return Math.max(floor, row - 25);
}

/** Index of the last user message echoed above `end` (exclusive), or -1. */
function lastUserEcho(lines: string[], end: number): number {
  for (let i = end - 1; i >= 0; i--) if (USER_ECHO_RE.test(lines[i])) return i;
  return -1;
}

type Block = RowBlock<'text' | 'tool' | 'other'>;

/** The turn's rows as blocks, each starting at a non-blank column-0 row; a `⎿` result makes a text block a tool block. */
function blocks(screen: ScreenSnapshot, start: number, end: number): Block[] {
  return splitRowBlocks<Block['kind']>(
    screen,
    start,
    end,
    (l) => (startsAtColumnZero(l) ? (MARKER_RE.test(l) && !EFFORT_TAIL_RE.test(l) ? (TOOL_HEAD_RE.test(l) ? 'tool' : 'text') : 'other') : null),
    (block, l) => {
      if (block.kind === 'text' && TOOL_RESULT_RE.test(l)) block.kind = 'tool';
    },
  );
}

/** Rows of the last turn: after the last echoed user message, up to the input box (or the screen end). */
function lastTurn(screen: ScreenSnapshot): { start: number; end: number; echo: number } {
  const { lines } = screen;
  const box = claudeInputBox(screen);
  const end = box ? box.top : lines.length;
  const echo = lastUserEcho(lines, end);
  let start = echo + 1;
  // the echo's own continuation rows (a multi-line message) are indented under it
  while (echo >= 0 && start < end && /^[ \u00a0]{2}[^\s⎿]/u.test(lines[start])) start++;
  return { start, end, echo };
}

function detect(screen: ScreenSnapshot): DetectedStatus {
  const { lines } = screen;
  const box = claudeInputBox(screen);
  if (activeDialog(screen)) return 'waiting_user_answer';
  if (!box) {
    const tail = lines.slice(tailStart(lines, 4));
    return tail.some((l) => BUSY_FOOTER_RE.test(l)) ? 'processing' : 'unknown';
  }
  const footer = lines.slice(box.bottom + 1);
  if (footer.some((l) => BUSY_FOOTER_RE.test(l))) return 'processing';
  const above = lastNonBlankIndex(lines, box.top - 1);
  if (above >= 0 && SPINNER_RE.test(lines[above])) return 'processing';
  const turn = lastTurn(screen);
  const bs = blocks(screen, turn.start, turn.end);
  if (bs.some((b) => b.kind === 'text' || b.kind === 'tool')) return 'completed';
  // an error only counts inside a turn the user started (never banner or startup text)
  if (turn.echo >= 0 && lines.slice(turn.start, turn.end).some((l) => ERROR_RE.test(l))) return 'error';
  return 'idle';
}

function extractLastAnswer(screen: ScreenSnapshot): string | null {
  const turn = lastTurn(screen);
  return answerFromBlocks(blocks(screen, turn.start, turn.end), MARKER_RE);
}

function pendingQuestion(screen: ScreenSnapshot): string | null {
  const d = activeDialog(screen);
  if (!d) return null;
  const rows = screen.lines.slice(d.start, d.end + 1).map((l) => l.replace(/^[ \u00a0]*│/u, '').replace(/│[ \u00a0]*$/u, ''));
  return cleanAnswer(rows);
}

function answerKeys(answer: string, screen: ScreenSnapshot): string[] {
  const d = activeDialog(screen);
  if (!d || !d.options.length) return [answer, '\r'];
  // Claude Code's menus take the option's digit as select-and-confirm
  const digit = menuDigitFor(answer, d.options);
  return digit ? [digit] : [];
}

function dialogText(screen: ScreenSnapshot): string {
  const d = activeDialog(screen);
  return d ? screen.lines.slice(d.start, d.end + 1).join('\n') : '';
}

function selectedLabel(screen: ScreenSnapshot): string {
  return activeDialog(screen)?.options.find((o) => o.selected)?.label ?? '';
}

const DOWN = '\x1b[B';
const UP = '\x1b[A';

export const claudeStartupDialogs: StartupDialog[] = [
  {
    // "Do you trust the files in this folder?" / "Is this a project you created or one you trust?"
    id: 'claude.trust-folder',
    match: (s) => /Do you trust the files in this folder|a project you created or one you trust|Yes, I trust this folder/u.test(dialogText(s)),
    keys: ['\r'],
  },
  {
    // --dangerously-skip-permissions warning: "1. No, exit" (default) / "2. Yes, I accept"
    id: 'claude.bypass-permissions',
    match: (s) => /Yes, I accept/u.test(dialogText(s)) && /No, exit/u.test(selectedLabel(s)),
    keys: [DOWN, '\r'],
  },
  {
    id: 'claude.bypass-permissions-selected',
    match: (s) => /Yes, I accept/u.test(selectedLabel(s)),
    keys: ['\r'],
  },
  {
    // "Detected a custom API key in your environment … Do you want to use this API key?" (default: No)
    id: 'claude.api-key',
    match: (s) => /use this API key\?/u.test(dialogText(s)) && /^No\b/u.test(selectedLabel(s)),
    keys: [UP, '\r'],
  },
  {
    id: 'claude.api-key-selected',
    match: (s) => /use this API key\?/u.test(dialogText(s)) && /^Yes\b/u.test(selectedLabel(s)),
    keys: ['\r'],
  },
  {
    id: 'claude.theme',
    match: (s) => /Choose the text style|Dark mode|Let's get started/u.test(dialogText(s)),
    keys: ['\r'],
  },
  {
    // security notes / terminal notices that wait for Enter
    id: 'claude.press-enter',
    match: (s) => /Press Enter to continue/u.test(dialogText(s)),
    keys: ['\r'],
  },
];

async function launch(ctx: LaunchContext): Promise<LaunchSpec> {
  const bin = resolveBinary('claude', 'CAO_CLAUDE_BIN', ctx.env);
  // alwaysLoad: Claude Code (2.1.x) never defers this server's tools behind tool search (ENABLE_TOOL_SEARCH, many
  // tools), so `mcp__cao__*` are always in the model's tool list once the server is connected.
  const mcpFile = writePrivateJson(join(ctx.runtimeDir, 'claude-mcp.json'), mcpServersJson(ctx.mcp, { type: 'stdio', alwaysLoad: true }));
  const args = ['--dangerously-skip-permissions', '--mcp-config', mcpFile, '--strict-mcp-config'];
  // `--opt=value`: a value that starts with "-" must not be read as another option
  if (ctx.systemPrompt.trim()) args.push(`--append-system-prompt=${ctx.systemPrompt}`);
  if (ctx.model) args.push(`--model=${ctx.model}`);
  const env = withoutKeys(ctx.env, NESTED_SESSION_VARS);
  env.MCP_TOOL_TIMEOUT = String(Math.round(ctx.toolTimeoutSec * 1000));
  if (!env.MCP_TIMEOUT) env.MCP_TIMEOUT = '60000';
  if (!env.TERM) env.TERM = 'xterm-256color';
  // --dangerously-skip-permissions is refused as root unless the process says it runs in a sandbox
  if (runningAsRoot()) env.IS_SANDBOX = '1';
  return { command: bin, args, env, cwd: ctx.workingDirectory };
}

export const claudeCodeProvider: Provider = {
  id: 'claude_code',
  label: 'Claude Code',
  cols: 200,
  rows: 50,
  launch,
  startupDialogs: claudeStartupDialogs,
  detect,
  pendingQuestion,
  extractLastAnswer,
  answerKeys,
  // after a bracketed paste, 50 ms: measured with bench/real-handoff (issue 14), every answer exact
  input: { enterDelayMs: 250, pasteEnterDelayMs: 50, submitKey: '\r' },
  exit: { keys: ['/exit', '\r'], graceMs: 3000 },
  startupTimeoutMs: 90_000,
  // It connects MCP servers in the background after the prompt shows: wait for it to list our tools.
  waitForMcpTools: true,
  // Text left in the box after Enter means the Enter did not submit (it is sent again).
  inputPending: (screen) => Boolean(claudeDraft(screen)),
};
