import { join } from 'node:path';
import type { ScreenSnapshot } from '../screen/snapshot.js';
import type { DetectedStatus } from '../status/types.js';
import type { LaunchContext, LaunchSpec, Provider, StartupDialog } from './types.js';
import {
  BRAILLE_SPINNER,
  cleanAnswer,
  findLastIndex,
  findRuledComposer,
  joinCollapsingBlanks,
  mcpServersJson,
  mcpTimeoutMs,
  pickOption,
  resolveBinary,
  trimBlankEdges,
  withDelegationNote,
  writePrivateJson,
} from './common/index.js';

/*
 * Qwen Code 0.24 (a Gemini CLI fork) draws inline, like Gemini CLI, but its composer is framed by two
 * full-width thin rules instead of ▄/▀ blocks. Bottom up, a ready screen is (tests/fixtures/real/qwen-*.txt):
 *
 *     > say ping                               ← the user's message: `  > ` at column 2
 *     ✓ send_message (cao MCP Server) {…}      ← tool rows: a glyph at column 2, output indented 4
 *       RECORDED: HELLO-REC
 *     ◆︎ PONG-42                                ← answer: `  ◆︎ ` (U+25C6 U+FE0E), continuation indented 4
 *       second line of it
 *     ⠦ Our hamsters are working… (1s · esc to cancel)   ← status row, only while busy
 *   ────────────────────────────────────       ← composer top rule
 *   *   Type your message or @path/to/file     ← input row (`>`, `*` in YOLO mode, `!` in shell mode)
 *   ────────────────────────────────────       ← composer bottom rule
 *     ➜ prj · fake-model                       ← footer
 *     Enter to steer · Ctrl+Q to queue · YOLO mode (shift + tab to cycle)   ← "Enter to steer…" only while busy
 *
 * A question from the agent (its ask_user_question tool) replaces the composer: `  ? AskUserQuestion …`, the
 * question, a numbered list with `❯` on the selected row, the hint `↑/↓: Navigate | Enter: Select | Esc: Cancel`
 * and a spinner row "Waiting for user confirmation...". Tool approvals (not shown in YOLO mode, the mode we
 * launch in) use the same kind of list.
 */

const RULE = '─';
/** Non-blank rows that may follow the composer's bottom rule (footer). */
const MAX_FOOTER_ROWS = 4;
const BUSY_RE = /\besc to cancel\b/i;
const BUSY_FOOTER_RE = /\bEnter to steer\b|\bCtrl\+Q to queue\b/;
const USER_ROW_RE = /^ {2}> /;
const ANSWER_RE = /^ {2}◆\uFE0E? ?/u;
const ERROR_RE = /^ {2}✕ /u;
/** A block of history starts at column 2 (continuation rows are indented 4). */
const BLOCK_START_RE = /^ {2}\S/;
const DIALOG_HINT_RE = /↑\/↓:?\s*Navigate\b.*\bEnter:?\s*Select\b|\bWaiting for user confirmation\b/u;
const DIALOG_TOP_RE = /^ {2}\? \S/;
const OPTION_RE = /^\s*(❯\s*)?(\d{1,2})\.\s+(.*?)\s*$/u;
const EMPTY_INPUT_RE = /^[>*!]?\s*(?:Type your message or @path\/to\/file)?\s*$/u;

interface Regions {
  lines: string[];
  /** Composer top rule (index in lines), -1 when there is no composer. */
  top: number;
  bottom: number;
  /** Last row of history (everything above the status rows or the dialog). */
  historyEnd: number;
  dialog: { from: number; to: number } | null;
}

function regions(s: ScreenSnapshot): Regions {
  const lines = s.lines;
  const { last, top, bottom } = findRuledComposer(s, RULE, MAX_FOOTER_ROWS, 30);
  if (top < 0) {
    const dialog = findDialog(lines, last, s.viewportTop);
    return { lines, top: -1, bottom: -1, historyEnd: dialog ? dialog.from - 1 : last, dialog };
  }
  // Status rows (spinner, "esc to cancel") sit right above the top rule: history ends above them.
  let historyEnd = top - 1;
  while (historyEnd >= 0 && (lines[historyEnd].trim() === '' || isStatusRow(lines[historyEnd]))) historyEnd--;
  return { lines, top, bottom, historyEnd, dialog: null };
}

function isStatusRow(r: string): boolean {
  const t = r.trimStart();
  return BUSY_RE.test(r) || (BRAILLE_SPINNER.test(t.charAt(0)) && t.charAt(1) === ' ');
}

/** The question list that replaced the composer: from its `? Tool` row down to the last row. */
function findDialog(lines: string[], last: number, viewportTop: number): { from: number; to: number } | null {
  if (last < 0) return null;
  const hint = findLastIndex(lines, (r) => DIALOG_HINT_RE.test(r), last, Math.max(viewportTop, last - 6));
  if (hint < 0) return null;
  const from = findLastIndex(lines, (r) => DIALOG_TOP_RE.test(r), hint, Math.max(viewportTop, hint - 40));
  return { from: from >= 0 ? from : Math.max(viewportTop, hint - 12), to: last };
}

/** The last turn: its answer rows (the last `◆︎` block after the last user message), an error, or nothing yet. */
function lastTurn(s: ScreenSnapshot, g = regions(s)): { answer: { from: number; to: number } | null; error: boolean; empty: boolean } {
  const lines = g.lines;
  const end = g.historyEnd;
  const user = findLastIndex(lines, (l) => USER_ROW_RE.test(l), end);
  const lastBlock = findLastIndex(lines, (l) => BLOCK_START_RE.test(l), end, user + 1);
  const empty = user >= 0 && lastBlock <= user;
  const error = lastBlock > user && ERROR_RE.test(lines[lastBlock]);
  const start = findLastIndex(lines, (l) => ANSWER_RE.test(l), end, user + 1);
  if (start < 0 || error) return { answer: null, error, empty };
  let to = start;
  for (let i = start + 1; i <= end; i++) {
    const x = lines[i];
    if (x.trim() === '') continue;
    if (!/^ {4}/.test(x)) break; // the next block (tool row, info row, next answer) starts at column 2
    to = i;
  }
  return { answer: { from: start, to }, error: false, empty: false };
}

function detect(s: ScreenSnapshot): DetectedStatus {
  const g = regions(s);
  if (g.dialog) return 'waiting_user_answer';
  if (g.top < 0) {
    // No composer yet ("⠸ Initializing...") or a screen we do not know: only a spinner says anything.
    return s.lines.slice(-8).some(isStatusRow) ? 'processing' : 'unknown';
  }
  const status = g.lines.slice(g.historyEnd + 1, g.top);
  const footer = g.lines.slice(g.bottom + 1);
  if (status.some(isStatusRow) || footer.some((r) => BUSY_FOOTER_RE.test(r))) return 'processing';
  const turn = lastTurn(s, g);
  if (turn.answer) return 'completed';
  if (turn.error) return 'error';
  // The message is in history but nothing of its turn is drawn yet: not ready.
  if (turn.empty) return 'processing';
  return 'idle';
}

function extractLastAnswer(s: ScreenSnapshot): string | null {
  const r = lastTurn(s).answer;
  if (!r) return null;
  const out: string[] = [];
  for (let i = r.from; i <= r.to; i++) {
    const x = s.lines[i];
    out.push(i === r.from ? x.replace(ANSWER_RE, '') : x.replace(/^ {4}/, ''));
  }
  return cleanAnswer(out);
}

function inputPending(s: ScreenSnapshot): boolean {
  const g = regions(s);
  if (g.top < 0) return false;
  return g.lines.slice(g.top + 1, g.bottom).some((l) => !EMPTY_INPUT_RE.test(l));
}

function dialogRows(s: ScreenSnapshot): string[] | null {
  const g = regions(s);
  if (!g.dialog) return null;
  return trimBlankEdges(
    g.lines
      .slice(g.dialog.from, g.dialog.to + 1)
      .filter((r) => !DIALOG_HINT_RE.test(r) && !isStatusRow(r))
      .map((r) => r.trimEnd()),
  );
}

function pendingQuestion(s: ScreenSnapshot): string | null {
  const rows = dialogRows(s);
  if (!rows) return null;
  return joinCollapsingBlanks(rows.map((r) => r.trim()));
}

/**
 * The list moves with ↑/↓ from the selected row (`❯`) and Enter picks (checked live: ↓ then Enter answered
 * "Blue"). An answer that is none of the options goes into the "Type something..." row when there is one
 * (move there, type, Enter); otherwise nothing is typed ([]).
 */
function answerKeys(answer: string, s: ScreenSnapshot): string[] {
  const options: { label: string; selected: boolean }[] = [];
  for (const r of dialogRows(s) ?? []) {
    const m = OPTION_RE.exec(r);
    if (m) options.push({ label: m[3], selected: Boolean(m[1]) });
  }
  const current = options.findIndex((o) => o.selected);
  if (current < 0) return [];
  const own = options.findIndex((o) => /^Type something/i.test(o.label));
  let want = pickOption(
    answer,
    options.map((o) => o.label),
  );
  const text = answer.replace(/[\x00-\x1f\x7f]/g, ' ').trim();
  const typed = want < 0 || want === own;
  if (typed) want = own;
  if (want < 0 || (typed && !text)) return [];
  const delta = want - current;
  const moves = Array<string>(Math.abs(delta)).fill(delta > 0 ? '\x1b[B' : '\x1b[A');
  return typed ? [...moves, text, '\r'] : [...moves, '\r'];
}

const startupDialogs: StartupDialog[] = [
  // Folder trust (on when the user enabled security.folderTrust): the first option trusts the folder.
  {
    id: 'qwen-folder-trust',
    match: (s) =>
      findLastIndex(s.lines, (r) => /Do you trust this folder\?/.test(r), s.lines.length - 1, Math.max(0, s.lines.length - 30)) >= 0 &&
      regions(s).top < 0,
    keys: ['\r'],
  },
];

/** `--mcp-config` file: our server, trusted, with its tools always loaded (not deferred behind tool_search). */
function writeMcpConfig(ctx: LaunchContext): string {
  const file = join(ctx.runtimeDir, 'qwen-mcp.json');
  writePrivateJson(
    file,
    mcpServersJson(ctx.mcp, {
      timeout: mcpTimeoutMs(ctx.toolTimeoutSec),
      trust: true,
      // Qwen defers MCP tools behind its tool_search/tool_call tools unless told to load them up front
      alwaysLoadTools: true,
    }),
  );
  return file;
}

export const qwenCodeProvider: Provider = {
  id: 'qwen_code',
  label: 'Qwen Code',
  cols: 200,
  rows: 50,
  launch(ctx: LaunchContext): LaunchSpec {
    // --yolo: a worker runs unattended (the default, "auto", asks a model classifier before each tool call).
    const args = ['--yolo', '--mcp-config', writeMcpConfig(ctx)];
    // Appended, not replacing Qwen's own system prompt; Qwen has its own sub-agent tool (`agent`).
    args.push('--append-system-prompt', withDelegationNote(ctx.systemPrompt, ctx.mcp.name, 'your built-in `agent` tool'));
    if (ctx.model) args.push('--model', ctx.model);
    return {
      command: resolveBinary('qwen', 'CAO_QWEN_BIN', ctx.env),
      args,
      env: { ...ctx.env },
      cwd: ctx.workingDirectory,
    };
  },
  startupDialogs,
  detect,
  pendingQuestion,
  extractLastAnswer,
  answerKeys,
  inputPending,
  // Same input box as Gemini CLI: an Enter too close to the paste becomes a newline.
  input: { enterDelayMs: 500, submitKey: '\r' },
  // Ctrl-U clears a draft, then /quit; the process group is killed after graceMs anyway.
  exit: { keys: ['\x15', '/quit', '\r'], graceMs: 3000 },
  startupTimeoutMs: 90_000,
  // MCP servers connect in the background: wait for ours before the first task.
  waitForMcpTools: true,
};

export const __test = { regions, lastTurn };
