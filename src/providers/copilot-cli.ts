import { join } from 'node:path';
import type { ScreenSnapshot } from '../screen/snapshot.js';
import type { DetectedStatus } from '../status/types.js';
import type { LaunchContext, LaunchSpec, Provider } from './types.js';
import {
  cleanAnswer,
  findIndex,
  findLastIndex,
  findRuledComposer,
  joinCollapsingBlanks,
  mcpTimeoutMs,
  pickOption,
  resolveBinary,
  trimBlankEdges,
  withDelegationNote,
  writePrivateFile,
  writePrivateJson,
} from './common/index.js';

/*
 * GitHub Copilot CLI 1.0 draws inline. Bottom up, a ready screen is (tests/fixtures/real/copilot-*.txt):
 *
 *    ❯ say ping                                                   19:53   ← the user's message: ` ❯ ` at column 1
 *    ● send_message (MCP: cao) · message: "HELLO-REC" RECORDED: …          ← a tool row (same `●` as an answer)
 *    ● Asked user Which colour should the button be?                       ← a tool row whose result is below it
 *      └ Blue
 *    ● PONG-42                                                             ← the answer: ` ● `, continuation indented 3
 *      second line of it
 *    /home/dev/prj                                                         ← working directory row
 *   ─────────────────────────────────                                      ← composer top rule
 *   ❯                                                                      ← input row
 *   ─────────────────────────────────                                      ← composer bottom rule
 *    ← open sidebar · Interactive · Allow All · / commands · ? help …     ← footer; while busy:
 *    ◉ Working esc esc edit prompt                                         ←   a pulsing dot and "Working"
 *
 * A question from the agent (its ask_user tool) or a permission request replaces the input row between the two
 * rules: "Copilot needs information.", the question, the choices (`❯` on the selected one, then "Other (type your
 * answer)") and a hint row `↑/↓ select · enter accept · ctrl+d decline · esc cancel`.
 */

const RULE = '─';
const MAX_FOOTER_ROWS = 3;
const BUSY_FOOTER_RE = /\bWorking\b.*\besc\b|\besc to (?:interrupt|cancel)\b/u;
const USER_ROW_RE = /^ ❯ \S/u;
const DOT_ROW_RE = /^ [●○◉◎] ?/u;
/** A tool's result rows hang below it: `   └ …`. */
const TOOL_RESULT_RE = /^ {3}└ /u;
const MCP_TOOL_ROW_RE = /^ ● .*\(MCP: [^)]+\)/u;
const DIALOG_HINT_RE = /\benter (?:accept|confirm|submit|select)\b|↑\/↓ select\b/u;
const EMPTY_INPUT_RE = /^\s*❯?\s*$/u;
const CWD_ROW_RE = /^ [~/]\S*(?:\s.*)?$/u;

interface Regions {
  lines: string[];
  /** The composer's rules (indices in lines), -1 when not found. */
  top: number;
  bottom: number;
  /** A dialog between the rules instead of the input row. */
  dialog: boolean;
  historyEnd: number;
}

function regions(s: ScreenSnapshot): Regions {
  const lines = s.lines;
  const { last, top, bottom } = findRuledComposer(s, RULE, MAX_FOOTER_ROWS, 40);
  if (top < 0) return { lines, top: -1, bottom: -1, dialog: false, historyEnd: last };
  const inside = lines.slice(top + 1, bottom);
  const dialog = inside.some((r) => DIALOG_HINT_RE.test(r));
  let historyEnd = top - 1;
  while (historyEnd >= 0 && (lines[historyEnd].trim() === '' || CWD_ROW_RE.test(lines[historyEnd]))) historyEnd--;
  return { lines, top, bottom, dialog, historyEnd };
}

/** The last answer block of the last turn: a `●` row after the last user message that is not a tool row. */
function lastTurn(g: Regions): { answer: { from: number; to: number } | null; empty: boolean } {
  const { lines, historyEnd: end } = g;
  const user = findLastIndex(lines, (l) => USER_ROW_RE.test(l), end);
  if (user < 0) return { answer: null, empty: false };
  const dots: number[] = [];
  for (let i = user + 1; i <= end; i++) if (DOT_ROW_RE.test(lines[i])) dots.push(i);
  if (!dots.length) return { answer: null, empty: findIndex(lines, (l) => l.trim() !== '', user + 1, end) < 0 };
  const from = dots[dots.length - 1];
  let to = from;
  for (let i = from + 1; i <= end; i++) {
    const x = lines[i];
    if (x.trim() === '') continue;
    if (!/^ {3}/.test(x)) break;
    to = i;
  }
  // A tool row: its result hangs below it (`└`), it names an MCP server (`(MCP: cao)`, result inline), or it is
  // still running (`○`/`◉`).
  const tool =
    !/^ ● /u.test(lines[from]) ||
    MCP_TOOL_ROW_RE.test(lines[from]) ||
    (to > from && TOOL_RESULT_RE.test(lines[findIndex(lines, (l) => l.trim() !== '', from + 1, to)]));
  return { answer: tool ? null : { from, to }, empty: false };
}

function detect(s: ScreenSnapshot): DetectedStatus {
  const g = regions(s);
  if (g.top < 0) return 'unknown';
  if (g.dialog) return 'waiting_user_answer';
  const footer = g.lines.slice(g.bottom + 1);
  if (footer.some((r) => BUSY_FOOTER_RE.test(r))) return 'processing';
  const turn = lastTurn(g);
  if (turn.answer) return 'completed';
  // The message is in history but its turn has not started drawing: not ready.
  if (turn.empty) return 'processing';
  return 'idle';
}

function extractLastAnswer(s: ScreenSnapshot): string | null {
  const g = regions(s);
  const r = lastTurn(g).answer;
  if (!r) return null;
  const out: string[] = [];
  for (let i = r.from; i <= r.to; i++) out.push(i === r.from ? g.lines[i].replace(/^ ● /u, '') : g.lines[i].replace(/^ {3}/, ''));
  return cleanAnswer(out);
}

function inputPending(s: ScreenSnapshot): boolean {
  const g = regions(s);
  if (g.top < 0 || g.dialog) return false;
  return g.lines.slice(g.top + 1, g.bottom).some((l) => !EMPTY_INPUT_RE.test(l));
}

function dialogRows(s: ScreenSnapshot): string[] | null {
  const g = regions(s);
  if (!g.dialog) return null;
  return trimBlankEdges(
    g.lines
      .slice(g.top + 1, g.bottom)
      .filter((r) => !DIALOG_HINT_RE.test(r))
      .map((r) => r.trimEnd()),
  );
}

function pendingQuestion(s: ScreenSnapshot): string | null {
  const rows = dialogRows(s);
  return rows ? joinCollapsingBlanks(rows.map((r) => r.trim())) : null;
}

/** The choice rows: the run of ` ❯ x` / `   x` rows around the selected one. */
function choices(rows: string[]): { labels: string[]; selected: number } | null {
  const sel = rows.findIndex((r) => /^ ❯ \S/u.test(r));
  if (sel < 0) return null;
  const isChoice = (r: string | undefined) => r !== undefined && /^ (?:❯| ) \S/u.test(r);
  let from = sel;
  while (isChoice(rows[from - 1])) from--;
  let to = sel;
  while (isChoice(rows[to + 1])) to++;
  return { labels: rows.slice(from, to + 1).map((r) => r.slice(3).trim()), selected: sel - from };
}

/**
 * ↑/↓ from the selected choice, Enter accepts (checked live: ↓ then Enter answered "Blue"). An answer that is
 * none of the choices goes into "Other (type your answer)" when there is one: move there, type it, Enter.
 */
function answerKeys(answer: string, s: ScreenSnapshot): string[] {
  const c = choices(dialogRows(s) ?? []);
  if (!c) return [];
  const other = c.labels.findIndex((l) => /^Other\b.*type your answer/i.test(l));
  let want = pickOption(answer, c.labels);
  const text = answer.replace(/[\x00-\x1f\x7f]/g, ' ').trim();
  const typed = want < 0 || want === other;
  if (typed) want = other;
  if (want < 0 || (typed && !text)) return [];
  const delta = want - c.selected;
  const moves = Array<string>(Math.abs(delta)).fill(delta > 0 ? '\x1b[B' : '\x1b[A');
  return typed ? [...moves, text, '\r'] : [...moves, '\r'];
}

export const copilotCliProvider: Provider = {
  id: 'copilot_cli',
  label: 'GitHub Copilot CLI',
  cols: 200,
  rows: 50,
  launch(ctx: LaunchContext): LaunchSpec {
    // MCP for this session only, added to the user's ~/.copilot/mcp-config.json; `tools: ["*"]` offers them all.
    const mcpFile = join(ctx.runtimeDir, 'copilot-mcp.json');
    writePrivateJson(mcpFile, {
      mcpServers: {
        [ctx.mcp.name]: {
          type: 'local',
          command: ctx.mcp.command,
          args: ctx.mcp.args,
          env: ctx.mcp.env,
          tools: ['*'],
          // milliseconds; a nested handoff can take as long as the worker's own timeout
          timeout: mcpTimeoutMs(ctx.toolTimeoutSec),
        },
      },
    });
    // No system-prompt flag: COPILOT_CUSTOM_INSTRUCTIONS_DIRS adds directories whose `instructions/*.instructions.md`
    // are loaded as custom instructions (checked live: the text reaches the model's request).
    const instrDir = join(ctx.runtimeDir, 'copilot-instructions');
    writePrivateFile(
      join(instrDir, 'instructions', 'cao-profile.instructions.md'),
      withDelegationNote(ctx.systemPrompt, ctx.mcp.name, 'your built-in `task` tool (sub-agents)') + '\n',
    );
    const dirs = [ctx.env.COPILOT_CUSTOM_INSTRUCTIONS_DIRS, instrDir].filter(Boolean).join(',');
    // --yolo: all tools, paths and URLs allowed without asking (a worker runs unattended).
    const args = ['--yolo', '--additional-mcp-config', `@${mcpFile}`];
    if (ctx.model) args.push('--model', ctx.model);
    return {
      command: resolveBinary('copilot', 'CAO_COPILOT_BIN', ctx.env),
      args,
      env: { ...ctx.env, COPILOT_CUSTOM_INSTRUCTIONS_DIRS: dirs },
      cwd: ctx.workingDirectory,
    };
  },
  startupDialogs: [],
  detect,
  pendingQuestion,
  extractLastAnswer,
  answerKeys,
  inputPending,
  input: { enterDelayMs: 300, submitKey: '\r' },
  // Ctrl-C clears a draft, a second one quits; the process group is killed after graceMs anyway.
  exit: { keys: ['\x03', '\x03'], graceMs: 3000 },
  // A first run unpacks its package (~235 MB) before the TUI shows.
  startupTimeoutMs: 120_000,
  waitForMcpTools: true,
};

export const __test = { regions, lastTurn };
