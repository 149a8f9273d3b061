import { join } from 'node:path';
import type { ScreenSnapshot } from '../screen/snapshot.js';
import type { DetectedStatus } from '../status/types.js';
import type { LaunchContext, LaunchSpec, Provider } from './types.js';
import {
  cleanAnswer,
  dedent,
  deepMerge,
  findIndex,
  findLastIndex,
  joinCollapsingBlanks,
  lastNonBlankIndex,
  mcpTimeoutMs,
  pickOption,
  readJsoncObject,
  resolveBinary,
  trimBlankEdges,
  writePrivateFile,
} from './common/index.js';

/*
 * OpenCode 1.18 (and 1.14) draws a full-screen TUI on the alternate screen. A session view, 200 columns wide
 * (see tests/fixtures/real/opencode-*.txt and tests/fixtures/cao/opencode_cli_*.txt):
 *
 *   ┃                                             Fake title      ← user message: a left bar at column 2
 *   ┃  say ping                                   Context         ← (the right column is the sidebar)
 *   ┃                                             2,469 tokens
 *        PONG-1                                                   ← answer text, indented 5
 *        ▣  Build · Fake Model · 3.2s                             ← turn footer; the duration only once done
 *   ┃  $ echo hi      (bash output, thinking blocks: bars too)
 *        → Read /etc/hostname                                     ← inline tool rows: an icon at column 5
 *   ┃                                                             ← input box (bars) …
 *   ┃  Build · Fake Model Fake                     /home/dev/prj
 *   ╹▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀                           ← … and its bottom
 *     ⬝⬝⬝⬝⬝⬝⬝⬝  esc interrupt       tab agents  ctrl+p commands    ← footer ("esc interrupt" only while busy)
 *
 * The answer streams in while the footer still says "esc interrupt": a turn is done only when its `▣` row
 * carries a duration and the footer has stopped saying so. A permission request or a question from the
 * agent replaces the input box with a barred panel whose hint row reads "⇆ select  enter confirm" or
 * "↑↓ select  enter submit  esc dismiss". The home screen (no session yet) centres the input box.
 * Only the visible rows exist (alternate screen): an answer taller than the screen is cut at its top.
 */

const BOX_BOTTOM_RE = /^(\s*)╹▀{10,}/u;
const BAR_RE = /^\s{0,4}┃/u;
const BUSY_RE = /\besc (?:again to )?interrupt\b/i;
const MARKER_RE = /^\s{2,}▣\s+\S/u;
/** `4.4s`, `966ms`, `1m 3s`, `1h 2m 3s` */
const DURATION_RE = /·\s*(?:\d+h\s*)?(?:\d+m\s*)?\d+(?:\.\d+)?m?s\s*$/u;
const DIALOG_HINT_RE = /(?:⇆|↑↓)\s*select\s+enter\s+(?:confirm|submit)\b/u;
const DIALOG_TITLE_RE = /△\s+(?:Permission required|Always allow|Reject permission)\b/u;
/** Inline tool rows: → read, ✱ glob/grep, % webfetch, ⚙ other/MCP, ← edit/write, ◈ task, ✗ failed, spinner while running. */
const TOOL_ROW_RE = /^\s{3,}(?:[→←✱%⚙◈✗~]|[\u2801-\u28ff])\s+\S/u;

interface View {
  /** Visible rows, right-trimmed, sidebar cut off. */
  rows: string[];
  /** Input box bottom row, -1 when none (dialog, blank frame). */
  boxBottom: number;
  /** First row of the input box (its bars), or of the dialog panel. */
  composerTop: number;
  /** The home screen: the input box is centred and no session is shown. */
  home: boolean;
  dialog: boolean;
  footer: string[];
}

/** The column where the sidebar starts: the input box's right end, or the sidebar's "Context" heading. */
function mainWidth(rows: string[], boxBottom: number): number {
  let width = Infinity;
  if (boxBottom >= 0) width = rows[boxBottom].trimEnd().length + 1;
  for (const r of rows) {
    const at = r.length - 'Context'.length;
    if (at >= 60 && r.endsWith('Context') && /\s{3}$/.test(r.slice(0, at))) width = Math.min(width, at);
  }
  return width;
}

function view(s: ScreenSnapshot): View {
  const raw = s.lines.slice(s.viewportTop).map((r) => r.trimEnd());
  const last = lastNonBlankIndex(raw);
  const boxBottom = findLastIndex(raw, (r) => BOX_BOTTOM_RE.test(r), last);
  const width = mainWidth(raw, boxBottom);
  const rows = raw.map((r) => (r.length > width ? r.slice(0, width).trimEnd() : r));
  const boxCol = boxBottom >= 0 ? (BOX_BOTTOM_RE.exec(rows[boxBottom])?.[1].length ?? 0) : -1;
  if (boxBottom >= 0) {
    let top = boxBottom;
    while (top > 0 && /^\s*┃/.test(rows[top - 1]) && rows[top - 1].indexOf('┃') === boxCol) top--;
    return { rows, boxBottom, composerTop: top, home: boxCol > 4, dialog: false, footer: rows.slice(boxBottom + 1) };
  }
  // No input box: a permission/question panel (bars down to the last row) or a transitional frame.
  const hint = findLastIndex(rows, (r) => DIALOG_HINT_RE.test(r) || DIALOG_TITLE_RE.test(r), last, Math.max(0, last - 40));
  if (hint >= 0) {
    // The panel is the run of barred rows ending at the bottom (a blank row separates it from the transcript).
    let top = hint;
    while (top > 0 && BAR_RE.test(rows[top - 1])) top--;
    return { rows, boxBottom: -1, composerTop: top, home: false, dialog: true, footer: [] };
  }
  return { rows, boxBottom: -1, composerTop: last + 1, home: false, dialog: false, footer: rows.slice(Math.max(0, last - 1), last + 1) };
}

/** The footer's progress blocks (`■■■⬝⬝⬝⬝⬝`), drawn only while busy and sometimes before "esc interrupt" is. */
const PROGRESS_RE = /^\s*[■⬝]{3,}/u;

function isBusy(v: View): boolean {
  // seen live mid-turn: a frame whose footer was half redrawn (`■⬝⬝⬝⬝⬝` over the directory row, no "esc
  // interrupt" yet) above a `▣` without duration read as idle, and read_output returned an empty answer
  return v.footer.some((r) => BUSY_RE.test(r) || PROGRESS_RE.test(r));
}

/** The last `▣` row of the transcript and whether its turn is over (it shows a duration). */
function lastMarker(v: View): { row: number; done: boolean } | null {
  const row = findLastIndex(v.rows, (r) => MARKER_RE.test(r), v.composerTop - 1);
  if (row < 0) return null;
  // Anything but blank rows between the marker and the composer means a newer turn has begun.
  const newer = findIndex(v.rows, (r) => r.trim() !== '', row + 1, v.composerTop - 1) >= 0;
  return { row, done: !newer && DURATION_RE.test(v.rows[row]) };
}

/** Nothing is drawn between the turn footer at `row` and the user's message above it (one bar block, then an older `▣` or the top). */
function turnBodyMissing(v: View, row: number): boolean {
  let i = row - 1;
  while (i >= 0 && v.rows[i].trim() === '') i--;
  if (i < 0 || !BAR_RE.test(v.rows[i])) return false;
  while (i >= 0 && BAR_RE.test(v.rows[i])) i--;
  while (i >= 0 && v.rows[i].trim() === '') i--;
  return i < 0 || MARKER_RE.test(v.rows[i]);
}

function detect(s: ScreenSnapshot): DetectedStatus {
  const v = view(s);
  if (v.dialog) return 'waiting_user_answer';
  if (v.boxBottom < 0) return isBusy(v) ? 'processing' : 'unknown';
  if (isBusy(v)) return 'processing';
  if (v.home) return 'idle';
  const m = lastMarker(v);
  // Seen live under load: a frame with the finished `▣` already redrawn but the answer above it not yet, read as
  // completed with an empty answer. Nothing of the turn but the user's message: say nothing until the next frame.
  if (m?.done) return turnBodyMissing(v, m.row) ? 'unknown' : 'completed';
  // A message below the last turn footer (or a first message with no footer yet) while the footer is
  // still quiet: OpenCode took it and has not started drawing the turn. Seen live for ~1 s; not ready.
  if (findIndex(v.rows, (r) => BAR_RE.test(r) && r.trim() !== '┃', m ? m.row + 1 : 0, v.composerTop - 1) >= 0) return 'processing';
  return 'idle';
}

function extractLastAnswer(s: ScreenSnapshot): string | null {
  const v = view(s);
  const m = lastMarker(v);
  if (!m || !m.done) return null;
  // The last text part of the turn: rows right above its `▣`, up to a bar block, a tool row or an older `▣`.
  const out: string[] = [];
  for (let i = m.row - 1; i >= 0; i--) {
    const r = v.rows[i];
    if (r.trim() !== '' && (BAR_RE.test(r) || MARKER_RE.test(r) || TOOL_ROW_RE.test(r))) break;
    out.unshift(r);
  }
  return cleanAnswer(out);
}

function dialogRows(s: ScreenSnapshot): string[] | null {
  const v = view(s);
  if (!v.dialog) return null;
  const rows = v.rows.slice(v.composerTop).map((r) => r.replace(/^\s{0,4}┃ ?/u, ''));
  // The last row holds only the footer (version), the one above may hold the working directory.
  return trimBlankEdges(rows.filter((r) => !/^\s*•\s*OpenCode\s+\d/.test(r.trim())).map((r) => r.trimEnd()));
}

function pendingQuestion(s: ScreenSnapshot): string | null {
  const rows = dialogRows(s);
  if (!rows) return null;
  return joinCollapsingBlanks(dedent(rows).map((r) => r.replace(/\s{4,}/g, '   ')));
}

/**
 * Question panel: numbered options, the digit picks and submits; an answer that is none of them goes into
 * the panel's "Type your own answer" row (its digit, the text, Enter).
 * Permission panel: options on one row (`Allow once   Allow always   Reject`), moved with ←/→ (wrapping),
 * Enter picks, Esc rejects. A fresh panel has the first option selected (the highlight is only a colour,
 * invisible in text), so we count from there.
 * An answer that fits nothing types nothing ([]).
 */
function answerKeys(answer: string, s: ScreenSnapshot): string[] {
  const rows = dialogRows(s) ?? [];
  const numbered = rows.map((r) => /^\s*(\d+)\.\s+(.+)$/.exec(r)).filter((m): m is RegExpExecArray => m !== null);
  if (numbered.length) {
    const labels = numbered.map((m) => m[2].trim());
    const own = labels.findIndex((l) => /^Type your own answer$/i.test(l));
    const idx = pickOption(answer, labels);
    if (idx >= 0 && idx !== own) return [numbered[idx][1]];
    const text = answer.replace(/[\x00-\x1f\x7f]/g, ' ').trim();
    return own >= 0 && text ? [numbered[own][1], text, '\r'] : [];
  }
  const optionRow = rows.find((r) => /Allow once|Confirm\s{2,}Cancel|Reject/.test(r) && /\S\s{3,}\S/.test(r.trim()));
  if (!optionRow) return [];
  const labels = optionRow
    .trim()
    .split(/\s{3,}/)
    .filter((x) => !DIALOG_HINT_RE.test(x) && !/fullscreen/.test(x));
  const idx = pickOption(answer, labels);
  if (idx < 0) return [];
  if (/^reject$/i.test(labels[idx])) return ['\x1b'];
  return [...Array<string>(idx).fill('\x1b[C'), '\r'];
}

/** Our server as an entry of OpenCode's `mcp` config key (Kilo Code, a fork, reads the same). */
export function opencodeMcp(ctx: LaunchContext): Record<string, unknown> {
  return {
    [ctx.mcp.name]: {
      type: 'local',
      command: [ctx.mcp.command, ...ctx.mcp.args],
      environment: ctx.mcp.env,
      enabled: true,
      // milliseconds, for every MCP request (tool calls included)
      timeout: mcpTimeoutMs(ctx.toolTimeoutSec),
    },
  };
}

/** Writes the per-terminal config OpenCode loads through OPENCODE_CONFIG (merged over the global one); returns its path. */
function writeConfig(ctx: LaunchContext): string {
  const file = join(ctx.runtimeDir, 'opencode.json');
  // A config the user already points OPENCODE_CONFIG at stays in force: ours is layered on top of it.
  let base: Record<string, unknown> = {};
  const prior = ctx.env.OPENCODE_CONFIG;
  if (prior && prior !== file) {
    base = readJsoncObject(prior, 'OpenCode config');
  }
  const ours: Record<string, unknown> = {
    mcp: opencodeMcp(ctx),
  };
  const prompt = ctx.systemPrompt.trim();
  if (prompt) {
    // `instructions` files are appended to OpenCode's own system prompt; an agent's `prompt` would replace it.
    const promptFile = join(ctx.runtimeDir, 'opencode-profile.md');
    writePrivateFile(promptFile, prompt + '\n');
    const prev = Array.isArray(base.instructions) ? (base.instructions as unknown[]) : [];
    ours.instructions = [...prev, promptFile];
  }
  writePrivateFile(file, JSON.stringify(deepMerge(base, ours), null, 2) + '\n');
  return file;
}

export const opencodeProvider: Provider = {
  id: 'opencode',
  label: 'OpenCode',
  cols: 200,
  // Full-screen TUI: only what fits on screen can be read back, so give answers room.
  rows: 60,
  launch(ctx: LaunchContext): LaunchSpec {
    const config = writeConfig(ctx);
    // --auto: approve permission requests that the config does not explicitly deny (a worker runs unattended).
    const args = ['--auto'];
    if (ctx.model) args.push('--model', ctx.model);
    return {
      command: resolveBinary('opencode', 'CAO_OPENCODE_BIN', ctx.env),
      args,
      env: { ...ctx.env, OPENCODE_CONFIG: config, OPENCODE_DISABLE_AUTOUPDATE: '1' },
      cwd: ctx.workingDirectory,
    };
  },
  startupDialogs: [],
  detect,
  pendingQuestion,
  extractLastAnswer,
  answerKeys,
  // after a bracketed paste, 50 ms: measured with bench/real-handoff (issue 14), every answer exact
  input: { enterDelayMs: 500, pasteEnterDelayMs: 50, submitKey: '\r' },
  // The first Ctrl-C clears a typed draft, the next one quits.
  exit: { keys: ['\x03', '\x03'], graceMs: 3000 },
  // A first start may install plugins or packages before the TUI shows.
  startupTimeoutMs: 120_000,
  // It can keep its home screen, prompt still in the box, for seconds after Enter while it creates the session.
  readyWithoutBusyMs: 10_000,
};
