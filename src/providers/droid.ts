import { existsSync, mkdirSync, readdirSync, rmSync, symlinkSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { ScreenSnapshot } from '../screen/snapshot.js';
import type { DetectedStatus } from '../status/types.js';
import type { LaunchContext, LaunchSpec, Provider } from './types.js';
import {
  BRAILLE_SPINNER,
  cleanAnswer,
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
  withDelegationNote,
  writePrivateFile,
  writePrivateJson,
} from './common/index.js';

/*
 * Factory Droid 0.225 draws inline. Bottom up, a ready screen is (tests/fixtures/real/droid-*.txt):
 *
 *      say ping                                   ← the user's message, indented 3 (blocks are separated by blank rows)
 *
 *      Ask User                                   ← a tool block, indented 3
 *       Which colour should the button be?
 *
 *   ⛬  PONG-42                                    ← the answer: `⛬  ` at column 0
 *
 *    ⣠ Streaming...  (Press ESC to stop)          ← status row, only while busy ("Thinking..." too)
 *    Auto (High) · allow all commands          Fake Model      ← autonomy / model row
 *   ╭──────────────────────────────────╮
 *   │ >                                │         ← input box (placeholder `Try "…"`; while busy "Enter to steer…")
 *   ╰──────────────────────────────────╯
 *   [⏱ 4s] 1 config issue — /diagnostics      MCP ✓ | IDE ◌    ← footer
 *
 * A question (its AskUser tool) replaces the whole composer with the question, numbered options (the selected
 * one only by colour), "Or type your own answer..." and the hint `↑/↓ Navigate • Space/Enter/1–9 Select • ESC
 * stop agent`. Digits pick an option; typed text becomes the user's own answer.
 */

const BOX_TOP_RE = /^╭─{20,}╮?$/u;
const BOX_BOTTOM_RE = /^╰─{20,}╯?$/u;
const BUSY_RE = /\bPress ESC to stop\b|\besc to (?:stop|interrupt|cancel)\b/i;
const BUSY_INPUT_RE = /\bEnter to steer\b/;
const ANSWER_RE = /^⛬ {1,2}/u;
const MODE_ROW_RE = /^ (?:Auto \(|Spec\b|Normal\b)/u;
const DIALOG_HINT_RE = /\bNavigate\b.*\bSelect\b.*\bESC\b/u;
const DIALOG_TITLE_RE = /^ {3}Ask User\b/u;
const OPTION_RE = /^\s*(\d{1,2})\.\s+(\S.*?)\s*$/u;
/** The empty input row, or its placeholder (`Try "…"`). */
const EMPTY_INPUT_RE = /^│\s*>\s*(?:Try ".*"|Enter to steer\b.*)?\s*│?$/u;

interface Regions {
  lines: string[];
  /** Input box rules (indices in lines), -1 when there is none. */
  top: number;
  bottom: number;
  /** The first row of the composer area (status row, mode row, box). */
  composer: number;
  dialog: { from: number; to: number } | null;
}

function regions(s: ScreenSnapshot): Regions {
  const lines = s.lines;
  const last = lastNonBlankIndex(lines);
  const bottom = findLastIndex(lines, (l) => BOX_BOTTOM_RE.test(l), last, Math.max(s.viewportTop, last - 3));
  let top = bottom < 0 ? -1 : findLastIndex(lines, (l) => BOX_TOP_RE.test(l), bottom - 1, Math.max(0, bottom - 20));
  // the input box has the `>` prompt (the folder-trust notice is boxed the same way, without it)
  if (top >= 0 && findIndex(lines, (l) => /^│\s*>/u.test(l), top + 1, bottom - 1) < 0) top = -1;
  if (top < 0) {
    const hint = findLastIndex(lines, (l) => DIALOG_HINT_RE.test(l), last, Math.max(s.viewportTop, last - 4));
    if (hint < 0) return { lines, top: -1, bottom: -1, composer: last + 1, dialog: null };
    // the questionnaire, from its title row (blank rows separate its parts); else the three blocks above the hint
    let from = findLastIndex(lines, (l) => DIALOG_TITLE_RE.test(l), hint, Math.max(0, hint - 40));
    if (from < 0) {
      from = hint;
      for (let blocks = 0; from > 0 && blocks < 3;) {
        from--;
        if (lines[from].trim() === '' && lines[from + 1].trim() !== '') blocks++;
      }
    }
    return { lines, top: -1, bottom: -1, composer: from, dialog: { from, to: hint } };
  }
  let composer = top;
  while (composer > 0 && (MODE_ROW_RE.test(lines[composer - 1]) || isStatusRow(lines[composer - 1]))) composer--;
  return { lines, top, bottom, composer, dialog: null };
}

function isStatusRow(r: string): boolean {
  const t = r.trimStart();
  return BUSY_RE.test(r) || (BRAILLE_SPINNER.test(t.charAt(0)) && t.charAt(1) === ' ');
}

function isBusy(g: Regions): boolean {
  if (g.lines.slice(g.composer, g.top).some(isStatusRow)) return true;
  return g.lines.slice(g.top + 1, g.bottom).some((r) => BUSY_INPUT_RE.test(r));
}

/** The last answer block: from the last `⛬` row down to the composer (its paragraphs and lists, indented 3). */
function lastAnswer(g: Regions): { from: number; to: number } | null {
  const from = findLastIndex(g.lines, (l) => ANSWER_RE.test(l), g.composer - 1);
  if (from < 0) return null;
  const to = findLastIndex(g.lines, (l) => l.trim() !== '', g.composer - 1, from);
  return { from, to };
}

function detect(s: ScreenSnapshot): DetectedStatus {
  const g = regions(s);
  if (g.dialog) return 'waiting_user_answer';
  if (g.top < 0) return s.lines.slice(-6).some(isStatusRow) ? 'processing' : 'unknown';
  if (isBusy(g)) return 'processing';
  return lastAnswer(g) ? 'completed' : 'idle';
}

function extractLastAnswer(s: ScreenSnapshot): string | null {
  const g = regions(s);
  const r = lastAnswer(g);
  if (!r) return null;
  const out: string[] = [];
  for (let i = r.from; i <= r.to; i++) out.push(i === r.from ? g.lines[i].replace(ANSWER_RE, '') : g.lines[i].replace(/^ {3}/, ''));
  return cleanAnswer(out);
}

function inputPending(s: ScreenSnapshot): boolean {
  const g = regions(s);
  if (g.top < 0) return false;
  return g.lines.slice(g.top + 1, g.bottom).some((l) => !EMPTY_INPUT_RE.test(l.trim()));
}

function dialogRows(s: ScreenSnapshot): string[] | null {
  const g = regions(s);
  if (!g.dialog) return null;
  return trimBlankEdges(g.lines.slice(g.dialog.from, g.dialog.to).map((r) => r.trimEnd()));
}

function pendingQuestion(s: ScreenSnapshot): string | null {
  const rows = dialogRows(s);
  return rows ? joinCollapsingBlanks(rows.map((r) => r.trim())) : null;
}

/** A digit picks an option (the hint says 1–9 select); any other text is typed as the user's own answer. */
function answerKeys(answer: string, s: ScreenSnapshot): string[] {
  const rows = dialogRows(s) ?? [];
  const options = rows.map((r) => OPTION_RE.exec(r)).filter((m): m is RegExpExecArray => m !== null);
  const idx = pickOption(
    answer,
    options.map((m) => m[2]),
  );
  if (idx >= 0) return [options[idx][1]];
  const text = answer.replace(/[\x00-\x1f\x7f]/g, ' ').trim();
  return text && findIndex(rows, (r) => /type your own answer/i.test(r)) >= 0 ? [text, '\r'] : [];
}

/**
 * A per-terminal Droid home (FACTORY_HOME_OVERRIDE): `.factory/` holds symlinks to the user's own entries
 * (settings with their models and keys, sessions…), except `mcp.json`, which is theirs with our server merged in.
 * (`--settings` takes runtime settings for one process, but not MCP servers: checked on 0.225.2.)
 */
function buildHome(ctx: LaunchContext): string {
  const realHome = ctx.env.FACTORY_HOME_OVERRIDE || ctx.env.HOME || homedir();
  const realDir = join(realHome, '.factory');
  const root = join(ctx.runtimeDir, 'droid-home');
  const dir = join(root, '.factory');
  rmSync(root, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  if (existsSync(realDir)) {
    for (const entry of readdirSync(realDir)) if (entry !== 'mcp.json') symlinkSync(join(realDir, entry), join(dir, entry));
  }
  let user: Record<string, unknown> = {};
  const userFile = join(realDir, 'mcp.json');
  if (existsSync(userFile)) {
    user = readJsoncObject(userFile, 'Droid MCP config');
  }
  const ours = {
    mcpServers: {
      [ctx.mcp.name]: {
        type: 'stdio',
        command: ctx.mcp.command,
        args: ctx.mcp.args,
        env: ctx.mcp.env,
        // milliseconds per tool call; a nested handoff can take as long as the worker's own timeout
        timeout: mcpTimeoutMs(ctx.toolTimeoutSec),
      },
    },
  };
  writePrivateJson(join(dir, 'mcp.json'), deepMerge(user, ours));
  return root;
}

export const droidProvider: Provider = {
  id: 'droid',
  label: 'Factory Droid',
  cols: 200,
  rows: 50,
  launch(ctx: LaunchContext): LaunchSpec {
    const home = buildHome(ctx);
    // Appended to Droid's own system prompt. Droid has its own sub-agents (the `Task` tool).
    const promptFile = join(ctx.runtimeDir, 'droid-profile.md');
    writePrivateFile(promptFile, withDelegationNote(ctx.systemPrompt, ctx.mcp.name, 'your built-in `Task` tool (sub-droids)') + '\n');
    // --auto high: every command allowed without asking (a worker runs unattended).
    const args = ['--auto', 'high', '--append-system-prompt-file', promptFile];
    return {
      command: resolveBinary('droid', 'CAO_DROID_BIN', ctx.env),
      args,
      env: { ...ctx.env, FACTORY_HOME_OVERRIDE: home },
      cwd: ctx.workingDirectory,
    };
  },
  startupDialogs: [
    // Seen on a fresh home with the folder already in `trustedFolders` of a symlinked settings file: the first
    // option trusts it (a worker runs where its supervisor chose, with --auto high anyway).
    {
      id: 'droid-trust-folder',
      match: (s) => {
        const tail = s.lines.slice(-30);
        return (
          tail.some((l) => /Trust this folder\?/.test(l)) &&
          tail.some((l) => /^>?\s*1\. Trust this folder/.test(l)) &&
          tail.some((l) => /Enter to confirm/.test(l))
        );
      },
      keys: ['\r'],
    },
  ],
  detect,
  pendingQuestion,
  extractLastAnswer,
  answerKeys,
  // Seen live: the first paste after start-up vanishes without a trace; the input box shows it was not taken,
  // and submitInput pastes again.
  inputPending,
  input: { enterDelayMs: 400, submitKey: '\r' },
  // Ctrl-C clears a draft, a second one quits; the process group is killed after graceMs anyway.
  exit: { keys: ['\x03', '\x03'], graceMs: 3000 },
  startupTimeoutMs: 60_000,
  // A new turn leaves the last answer on screen until its spinner shows.
  readyWithoutBusyMs: 4000,
  waitForMcpTools: true,
};

export const __test = { regions };
