import { join } from 'node:path';
import type { DetectedStatus } from '../status/types.js';
import type { ScreenSnapshot } from '../screen/snapshot.js';
import { distFile } from '../util/paths.js';
import { displayWidth } from '../mock/text.js';
import type { LaunchContext, LaunchSpec, Provider, StartupDialog } from './types.js';
import { isBlank, isRule, lastMenu, mcpServersJson, menuDigitFor, writePrivateFile, writePrivateJson } from './common/index.js';

/*
 * The mock agent (src/mock/agent.ts), drawn like Claude Code. Bottom up:
 *
 *   ❯ say ping               ← user echo (column 0); further input lines indented 2
 *   ● PONG-123               ← answer block: `● ` first line, 2-space indent after; long lines wrapped by the terminal
 *   ● cao - send_message (MCP)(message: "…")   ← tool call block, followed by `  ⎿  <result>`
 *   ✻ Worked for 3s          ← turn summary; while busy: `✶ Thinking… (2s)` instead
 *   ─────────                ← input box: rule, `❯ ` + typed text, rule
 *   ❯
 *   ─────────
 *     ? for shortcuts        ← footer; busy: `esc to interrupt`
 *
 * Dialogs (startup trust dialog, scripted questions) replace the input box: rule, question, `❯ 1. Yes` /
 * `  2. No`, footer `Enter to confirm · Esc to cancel`.
 */

/** A snapshot may carry, per line, whether the row continues the previous one (terminal auto-wrap). */
type MaybeWrapped = ScreenSnapshot & { wrapped?: boolean[] };

const USER_ECHO_RE = /^❯(?: |$)/u;
const ANSWER_HEAD_RE = /^● /u;
const TOOL_HEAD_RE = /^● \S.* - \S+ \(MCP\)/u;
const TOOL_RESULT_RE = /^ {2}⎿ {2}/u;
const SPINNER_RE = /^[·✢✶✻✽*] \S+… \(\d+s\)/u;
const WORKED_RE = /^✻ \S+ for \d+s$/u;
const DIALOG_FOOTER_RE = /Enter to confirm/u;
const BUSY_RE = /\besc to interrupt\b/u;
const TRUST_RE = /trust the files/iu;

interface InputBox {
  top: number;
  bottom: number;
}

/** The input box at the bottom: a rule, `❯ ` + input rows, a rule, then at most a few footer rows. */
function inputBox(lines: string[]): InputBox | null {
  let bottom = lines.length - 1;
  while (bottom >= 0 && isBlank(lines[bottom])) bottom--;
  // footer rows below the box (one row in the mock, allow a few)
  let seen = 0;
  while (bottom >= 0 && !isRule(lines[bottom]) && seen < 3) {
    if (!isBlank(lines[bottom])) seen++;
    bottom--;
  }
  if (bottom < 1 || !isRule(lines[bottom])) return null;
  for (let top = bottom - 1; top >= 0 && bottom - top <= 60; top--) {
    if (isRule(lines[top])) return USER_ECHO_RE.test(lines[top + 1] ?? '') ? { top, bottom } : null;
  }
  return null;
}

/** A dialog is open when its footer is among the last rows and no input box was drawn below it. */
function dialogFooter(lines: string[]): number {
  let seen = 0;
  for (let i = lines.length - 1; i >= 0 && seen < 8; i--) {
    if (isBlank(lines[i])) continue;
    seen++;
    if (isRule(lines[i])) return -1;
    if (DIALOG_FOOTER_RE.test(lines[i])) return i;
  }
  return -1;
}

function wrappedFlags(screen: ScreenSnapshot): boolean[] | undefined {
  const w = (screen as MaybeWrapped).wrapped;
  return Array.isArray(w) && w.length === screen.lines.length ? w : undefined;
}

/**
 * Joins rows the terminal wrapped back into the lines the agent wrote. With the emulator's wrapped flags this is
 * exact; without them a row that starts neither with an indent nor with a block marker is taken as a continuation
 * (the mock starts every line it writes with `● `, two spaces, `❯ ` or `✻ `).
 */
function logicalLines(screen: ScreenSnapshot, from: number, to: number): string[] {
  const flags = wrappedFlags(screen);
  const out: string[] = [];
  for (let i = from; i < to; i++) {
    const row = screen.lines[i];
    const cont = flags ? flags[i] : out.length > 0 && row !== '' && !/^( {2}|● |❯ |✻ )/u.test(row);
    if (cont && out.length > 0) {
      // a wrapped row is full: spaces trimmed off its end were part of the text
      const prev = out[out.length - 1];
      const lastRowWidth = displayWidth(screen.lines[i - 1]);
      out[out.length - 1] = prev + ' '.repeat(Math.max(0, screen.cols - lastRowWidth)) + row;
    } else {
      out.push(row);
    }
  }
  return out;
}

/** Where the last turn's blocks end: the spinner, the `✻ Worked for` row, or the input box. */
function turnEnd(lines: string[], box: InputBox | null): number {
  const end = box ? box.top : lines.length;
  for (let i = end - 1; i >= 0; i--) {
    if (isBlank(lines[i])) continue;
    return SPINNER_RE.test(lines[i]) || WORKED_RE.test(lines[i]) ? i : end;
  }
  return end;
}

/** The answer text of the last turn (tool calls, notes and chrome left out), or null. */
export function mockLastAnswer(screen: ScreenSnapshot): string | null {
  const { lines } = screen;
  const box = inputBox(lines);
  const dlg = box ? -1 : dialogFooter(lines);
  let end = turnEnd(lines, box);
  if (dlg >= 0) {
    // a dialog is drawn under the turn: cut at its top rule
    for (let i = dlg; i >= 0; i--)
      if (isRule(lines[i])) {
        end = i;
        break;
      }
  }
  let echo = -1;
  for (let i = end - 1; i >= 0; i--)
    if (USER_ECHO_RE.test(lines[i])) {
      echo = i;
      break;
    }
  const rows = logicalLines(screen, echo + 1, end);
  const blocks: string[][] = [];
  let current: string[] | null = null;
  for (const row of rows) {
    if (ANSWER_HEAD_RE.test(row)) {
      current = TOOL_HEAD_RE.test(row) ? null : [row.slice(2)];
      if (current) blocks.push(current);
      continue;
    }
    if (!current) continue; // echo continuation, tool result, notes before the first answer block
    if (TOOL_RESULT_RE.test(row) || WORKED_RE.test(row) || SPINNER_RE.test(row)) {
      current = null;
      continue;
    }
    current.push(row.startsWith('  ') ? row.slice(2) : row);
  }
  const texts = blocks
    .map((b) => {
      while (b.length && b[b.length - 1].trim() === '') b.pop();
      return b.join('\n');
    })
    .filter((t) => t !== '');
  return texts.length ? texts.join('\n\n') : null;
}

export function mockDetect(screen: ScreenSnapshot): DetectedStatus {
  const { lines } = screen;
  if (dialogFooter(lines) >= 0) return 'waiting_user_answer';
  const box = inputBox(lines);
  if (!box) return 'unknown';
  const footer = lines.slice(box.bottom + 1).filter((l) => !isBlank(l));
  if (footer.some((l) => BUSY_RE.test(l))) return 'processing';
  const end = turnEnd(lines, box);
  if (end < box.top && SPINNER_RE.test(lines[end])) return 'processing';
  return mockLastAnswer(screen) !== null ? 'completed' : 'idle';
}

/** The open dialog's question and options (`1. Yes` / `2. No`), or null. */
export function mockPendingQuestion(screen: ScreenSnapshot): string | null {
  const { lines } = screen;
  const footer = dialogFooter(lines);
  if (footer < 0) return null;
  let top = footer - 1;
  while (top >= 0 && !isRule(lines[top])) top--;
  const body = lines.slice(top + 1, footer).filter((l) => !isBlank(l));
  return body.map((l) => l.replace(/^\s*❯?\s*/u, '')).join('\n') || null;
}

function dialogText(screen: ScreenSnapshot): string[] {
  const footer = dialogFooter(screen.lines);
  if (footer < 0) return [];
  let top = footer - 1;
  while (top >= 0 && !isRule(screen.lines[top])) top--;
  return screen.lines.slice(top + 1, footer + 1);
}

const trustDialog: StartupDialog = {
  id: 'mock-trust-folder',
  match: (screen) => dialogText(screen).some((l) => TRUST_RE.test(l)),
  keys: ['1'],
};

async function launch(ctx: LaunchContext): Promise<LaunchSpec> {
  const mcpFile = writePrivateJson(join(ctx.runtimeDir, 'mock-mcp.json'), mcpServersJson(ctx.mcp));
  const promptFile = writePrivateFile(join(ctx.runtimeDir, 'mock-system-prompt.md'), ctx.systemPrompt);
  const args = [distFile('mock/agent.js'), '--mcp-config', mcpFile, '--system-prompt-file', promptFile];
  args.push('--name', ctx.profileName, '--tool-timeout-sec', String(ctx.toolTimeoutSec));
  if (ctx.model) args.push('--model', ctx.model);
  return { command: process.execPath, args, env: { ...ctx.env }, cwd: ctx.workingDirectory };
}

export const mockProvider: Provider = {
  id: 'mock',
  label: 'Mock Agent',
  cols: 120,
  rows: 40,
  launch,
  startupDialogs: [trustDialog],
  detect: mockDetect,
  pendingQuestion: mockPendingQuestion,
  extractLastAnswer: mockLastAnswer,
  answerKeys(answer, screen) {
    const digit = menuDigitFor(answer, lastMenu(dialogText(screen)));
    if (digit) return [digit];
    if (/^\s*[1-9]\s*$/u.test(answer)) return [answer.trim()];
    return [answer, '\r'];
  },
  input: { enterDelayMs: 30, submitKey: '\r' },
  exit: { keys: ['/exit', '\r'], graceMs: 2000 },
  startupTimeoutMs: 15_000,
};
