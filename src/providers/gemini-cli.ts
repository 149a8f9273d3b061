import type { ScreenSnapshot } from '../screen/snapshot.js';
import type { DetectedStatus } from '../status/types.js';
import type { LaunchContext, LaunchSpec, Provider, StartupDialog } from './types.js';
import { buildGeminiHome } from './gemini-cli-home.js';
import {
  BRAILLE_SPINNER,
  cleanAnswer,
  findIndex,
  findLastIndex,
  isRuleOf,
  joinCollapsingBlanks,
  lastNonBlankIndex,
  pickOption,
  resolveBinary,
  trimBlankEdges,
} from './common/index.js';

/*
 * Gemini CLI 0.61 draws inline (no alternate screen; history scrolls into the scrollback). Bottom up, a ready
 * screen is (see tests/fixtures/real/gemini-*.txt):
 *
 *   ✦ PONG-123                                  ← answer: `✦ ` then text, continuation rows indented 2
 *                                               ← "Queued (press ↑ to edit):" block when prompts wait
 *    ⠙ Thinking... (esc to cancel, 1s)   ? for shortcuts   ← status row (spinner + "esc to cancel" when busy)
 *   ──────────────────────────────────         ← thin rule
 *    Shift+Tab to accept edits   1 MCP server  ← approval-mode row ("YOLO Ctrl+Y" in yolo mode)
 *   ▄▄▄▄▄▄▄▄▄▄▄▄▄▄▄▄▄▄▄▄▄▄▄▄▄▄▄▄▄▄▄▄▄▄▄▄       ← input box top
 *    >   Type your message or @path/to/file    ← input row (`*` instead of `>` in yolo mode)
 *   ▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀       ← input box bottom
 *    workspace (/directory)   sandbox   /model ← footer (two rows)
 *
 * The user's messages are echoed in history inside the same ▄/▀ box (` > say ping`), so the input box is the
 * last box with nothing but footer rows under it. A dialog (tool confirmation, folder trust, quota…) hides
 * the whole composer: the screen then ends with a round box holding a numbered list, `● 1. Allow once`.
 */

const TOP = '▄';
const BOTTOM = '▀';
/** Non-blank rows that may follow the input box (footer header + values, hints). */
const MAX_FOOTER_ROWS = 4;

const BUSY_RE = /\besc to cancel\b/i;
const QUEUED_RE = /^\s*Queued \(press\b/;
/** Printed when a prompt is submitted before Gemini is ready; the prompt runs once it is. */
const QUEUED_INFO_RE = /^ℹ (?:Initializing\.\.\. Prompts will be queued|Waiting for MCP servers to initialize)/u;
const ANSWER_RE = /^✦ ?/u;
const ERROR_RE = /^✕ /u;
/** The selected row of a radio list: `● 1. Allow once` (inside the dialog's `│` border). */
const SELECTED_OPTION_RE = /^[\s│]*●\s*\d+\.\s+\S/u;
const OPTION_RE = /^[\s│]*(●\s*)?(\d+)\.\s+(.*?)[\s│]*$/u;
const USER_ROW_RE = /^\s*>\s/;

interface Regions {
  /** Visible rows (the bottom of the screen is all that matters for a full-width composer). */
  rows: string[];
  /** Offset of rows[0] in `s.lines`. */
  base: number;
  /** Input box top rule (in rows), -1 when there is no input box. */
  boxTop: number;
  /** The status row above the thin rule, -1 when unknown. */
  statusRow: number;
  /** Start of a "Queued" block above the status row, -1 when none. */
  queued: number;
  /** Dialog rows [from, to] when a dialog replaces the composer. */
  dialog: { from: number; to: number } | null;
  /** Last row (in rows) that belongs to history: everything from here up is conversation. */
  historyEnd: number;
}

function regions(s: ScreenSnapshot): Regions {
  const rows = s.lines.slice(s.viewportTop);
  const base = s.viewportTop;
  const last = lastNonBlankIndex(rows);
  let boxBottom = -1;
  for (let i = last, below = 0; i >= 0 && below <= MAX_FOOTER_ROWS; i--) {
    if (isRuleOf(rows[i], BOTTOM)) {
      boxBottom = i;
      break;
    }
    if (rows[i].trim() !== '') below++;
  }
  const boxTop = boxBottom < 0 ? -1 : findLastIndex(rows, (l) => isRuleOf(l, TOP), boxBottom - 1, Math.max(0, boxBottom - 40));
  if (boxTop < 0) {
    const dialog = findDialog(rows, last);
    return { rows, base, boxTop: -1, statusRow: -1, queued: -1, dialog, historyEnd: dialog ? dialog.from - 1 : last };
  }
  const rule = findLastIndex(rows, (l) => isRuleOf(l, '─', 20), boxTop - 1, boxTop - 4);
  const statusRow = rule >= 0 ? rule - 1 : boxTop - 1;
  const queued = findLastIndex(rows, (l) => QUEUED_RE.test(l), statusRow - 1, statusRow - 12);
  const historyEnd = (queued >= 0 ? queued : statusRow) - 1;
  return { rows, base, boxTop, statusRow, queued, dialog: null, historyEnd };
}

/** A dialog: the round box around the last selected radio option, at the bottom of the screen. */
function findDialog(rows: string[], last: number): { from: number; to: number } | null {
  if (last < 0) return null;
  const sel = findLastIndex(rows, (r) => SELECTED_OPTION_RE.test(r), last, Math.max(0, last - 40));
  if (sel < 0) return null;
  const top = findLastIndex(rows, (r) => /^╭/.test(r), sel - 1, Math.max(0, sel - 60));
  const bottom = findIndex(rows, (r) => /^╰/.test(r), sel + 1, last);
  if (top >= 0 && bottom >= 0) return { from: top, to: bottom };
  // Unboxed list: the block of non-blank rows around the options, plus the question above it.
  let from = sel;
  while (from > 0 && rows[from - 1].trim() !== '') from--;
  if (from > 1 && rows[from - 2].trim() !== '') {
    from--;
    while (from > 0 && rows[from - 1].trim() !== '') from--;
  }
  return { from, to: last };
}

/** The empty input row: the prompt glyph (`>`, `*` in yolo mode, `!` in shell mode) and maybe the placeholder. */
const EMPTY_INPUT_RE = /^\s*[>*!]?\s*(?:Type your message or @path\/to\/file)?\s*$/u;

/**
 * Text sits unsent in the input box: an Enter that Gemini took as a newline, or lost while still busy starting up
 * (seen live with two CLIs starting at once: the task stayed in the box, the status idle, for good).
 */
function inputPending(s: ScreenSnapshot): boolean {
  const g = regions(s);
  if (g.boxTop < 0) return false;
  const bottom = findIndex(g.rows, (l) => isRuleOf(l, BOTTOM), g.boxTop + 1);
  if (bottom < 0) return false;
  return g.rows.slice(g.boxTop + 1, bottom).some((l) => !EMPTY_INPUT_RE.test(l));
}

function isBusyRow(r: string): boolean {
  return BUSY_RE.test(r) || BRAILLE_SPINNER.test(r.trimStart().charAt(0));
}

function detect(s: ScreenSnapshot): DetectedStatus {
  const g = regions(s);
  if (g.dialog) return 'waiting_user_answer';
  if (g.boxTop < 0) {
    // No composer yet (starting) or a screen we do not know: only a spinner says anything.
    return g.rows.slice(-12).some(isBusyRow) ? 'processing' : 'unknown';
  }
  const status = g.rows.slice(Math.max(0, g.statusRow), g.boxTop);
  if (g.queued >= 0 || status.some(isBusyRow)) return 'processing';
  const turn = lastTurn(s, g);
  if (turn.answer) return 'completed';
  if (turn.error) return 'error';
  // The message was taken but nothing of its turn is drawn yet (seen for a frame when a prompt queued during
  // start-up leaves the queue, before its box and the spinner appear): not ready.
  if (turn.empty) return 'processing';
  return 'idle';
}

/**
 * The last turn in history: its answer rows (the last `✦` block after the last user-message box) and whether
 * it ended with an error line (`✕ …`) instead.
 */
function lastTurn(s: ScreenSnapshot, g = regions(s)): { answer: { from: number; to: number } | null; error: boolean; empty: boolean } {
  const lines = s.lines;
  const end = g.base + g.historyEnd;
  let user = -1;
  for (let i = end; i > 0; i--) {
    if (!isRuleOf(lines[i], BOTTOM)) continue;
    const top = findLastIndex(lines, (x) => isRuleOf(x, TOP), i - 1, Math.max(0, i - 60));
    if (top >= 0 && USER_ROW_RE.test(lines[top + 1] ?? '')) {
      user = i;
      break;
    }
  }
  const lastBlock = findLastIndex(lines, (x) => /^\S/.test(x) && !isRuleOf(x, TOP + BOTTOM + '─'), end, user + 1);
  const empty =
    (user >= 0 && findIndex(lines, (x) => x.trim() !== '', user + 1, end) < 0) || (lastBlock >= 0 && QUEUED_INFO_RE.test(lines[lastBlock]));
  const error = lastBlock >= 0 && ERROR_RE.test(lines[lastBlock]);
  const start = findLastIndex(lines, (x) => ANSWER_RE.test(x), end, user + 1);
  if (start < 0 || error) return { answer: null, error, empty };
  let to = start;
  for (let i = start + 1; i <= end; i++) {
    const x = lines[i];
    if (x.trim() === '') continue;
    if (!/^ {2}/.test(x)) break; // the next block (tool box, info line, next answer) starts at column 0
    to = i;
  }
  return { answer: { from: start, to }, error: false, empty: false };
}

function extractLastAnswer(s: ScreenSnapshot): string | null {
  const r = lastTurn(s).answer;
  if (!r) return null;
  const out: string[] = [];
  for (let i = r.from; i <= r.to; i++) {
    const x = s.lines[i];
    out.push(i === r.from ? x.replace(ANSWER_RE, '') : x.replace(/^ {2}/, ''));
  }
  return cleanAnswer(out);
}

function dialogText(s: ScreenSnapshot): string[] | null {
  const g = regions(s);
  if (!g.dialog) return null;
  const rows = g.rows.slice(g.dialog.from, g.dialog.to + 1);
  return trimBlankEdges(
    rows
      .filter((r) => !/^[\s│]*[╭╰]/u.test(r))
      .map((r) => r.replace(/^│ ?/u, '').replace(/\s*│$/u, '').replace(/^│ ?/u, '').replace(/\s*│$/u, '').trimEnd()),
  );
}

function pendingQuestion(s: ScreenSnapshot): string | null {
  const rows = dialogText(s);
  return rows ? joinCollapsingBlanks(rows.map((r) => r.trim())) : null;
}

/**
 * Gemini's dialogs are radio lists. A digit would select, but the keystroke also reaches the input box once
 * it comes back (seen: the next prompt started with "1"); so move with arrows from the selected row, then Enter.
 * An answer that is none of the options types nothing ([]).
 */
function answerKeys(answer: string, s: ScreenSnapshot): string[] {
  const options: { label: string; selected: boolean }[] = [];
  for (const r of dialogText(s) ?? []) {
    const m = OPTION_RE.exec(r);
    if (m) options.push({ label: m[3].trim(), selected: Boolean(m[1]) });
  }
  const want = pickOption(
    answer,
    options.map((o) => o.label),
  );
  const current = options.findIndex((o) => o.selected);
  if (want < 0 || current < 0) return [];
  const delta = want - current;
  return [...Array<string>(Math.abs(delta)).fill(delta > 0 ? '\x1b[B' : '\x1b[A'), '\r'];
}

const dialogHas = (re: RegExp) => (s: ScreenSnapshot) => (dialogText(s) ?? []).some((r) => re.test(r));

const startupDialogs: StartupDialog[] = [
  // Folder trust is also bypassed by GEMINI_CLI_TRUST_WORKSPACE; first option = "Trust folder".
  { id: 'gemini-folder-trust', match: dialogHas(/Do you trust the files in this folder\?/), keys: ['\r'] },
  // Inside an IDE's terminal Gemini offers to connect to it: decline.
  { id: 'gemini-ide-nudge', match: dialogHas(/Do you want to connect .* to Gemini CLI\?/), keys: ['\x1b'] },
];

export const geminiCliProvider: Provider = {
  id: 'gemini_cli',
  label: 'Gemini CLI',
  cols: 200,
  rows: 50,
  launch(ctx: LaunchContext): LaunchSpec {
    const home = buildGeminiHome(ctx);
    // yolo: a worker runs unattended; our own MCP server is trusted in its settings anyway.
    const args = ['--approval-mode', 'yolo'];
    if (ctx.model) args.push('--model', ctx.model);
    return {
      command: resolveBinary('gemini', 'CAO_GEMINI_BIN', ctx.env),
      args,
      env: {
        ...ctx.env,
        GEMINI_CLI_HOME: home,
        // Trust the working directory for this session only (stdio MCP servers need a trusted folder).
        GEMINI_CLI_TRUST_WORKSPACE: 'true',
      },
      cwd: ctx.workingDirectory,
    };
  },
  startupDialogs,
  detect,
  pendingQuestion,
  extractLastAnswer,
  answerKeys,
  inputPending,
  // An Enter that Gemini sees within ~40 ms of a paste (later when its event loop is busy starting up)
  // becomes a newline in the input instead of a submit: leave it room.
  // After a bracketed paste Gemini ignores a submit for 40 ms (its guard against pasted newlines submitting); at 50 ms
  // from our write, 5 of 24 Enters landed inside it on 2 cores (bench/real-handoff: re-sent after 1.5 s). 120 ms: none.
  input: { enterDelayMs: 500, pasteEnterDelayMs: 120, submitKey: '\r' },
  // Gemini ignores SIGHUP. Ctrl-U clears any typed text, then /quit; the group is killed after graceMs anyway.
  exit: { keys: ['\x15', '/quit', '\r'], graceMs: 3000 },
  startupTimeoutMs: 60_000,
};
