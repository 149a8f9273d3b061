import { homedir } from 'node:os';
import { join } from 'node:path';
import type { DetectedStatus } from '../status/types.js';
import type { ScreenSnapshot } from '../screen/snapshot.js';
import type { LaunchContext, LaunchSpec, Provider, StartupDialog } from './types.js';
import {
  cleanAnswer,
  continuesPrevious,
  isBlank,
  isRule,
  lastNonBlankIndex,
  lastNonBlankIndices,
  resolveBinary,
  trimBlankEdges,
  writePrivateJson,
} from './common/index.js';

/*
 * Kiro CLI (not installable here: verified on captured screens only). Two UIs:
 *
 * Legacy (line mode):                          TUI (v2 engine):
 *   [agent] 16% λ > say ping   ← user input      ────────────────────
 *   > PONG-123                 ← "green arrow"     say ping            ← echoed user message (1st paragraph)
 *   [agent] 17% λ >            ← idle prompt       PONG-123
 *   Allow this action? … [y/n/t]:  ← permission  ▸ Credits: 0.24 • Time: 3s
 *                                                ────────────────────
 *                                                developer · model · ◔ 4%   ~/project   ← status bar
 *                                                 Ask a question or describe a task ↵   ← idle (busy: "Kiro is working")
 *
 * Checks are anchored to the bottom: the last row (prompt / placeholder / consent footer) decides whether
 * Kiro is ready; the rows since the last user input decide idle vs completed; a permission prompt is live
 * only when nothing but the prompt row (and text typed at it) follows it.
 */

const PROMPT_RE = /^\[[^\]\n]+\][ \u00a0]*(?:\d+%[ \u00a0]*)?(?:λ[ \u00a0]*)?!?>[ \u00a0]?(.*)$/u;
const ARROW_RE = /^>[ \u00a0]/u;
const PERMISSION_RE = /Allow this action\?.*\[y\/n\/t\]:/u;
const CONSENT_FOOTER_RE = /esc to cancel · ↑↓ to navigate · ↵ to select/u;
const TUI_IDLE_RE = /Ask a question,? or describe a task/iu;
const TUI_BUSY_RE = /\bKiro is working\b/u;
const TUI_PERMISSION_RE = /Yes[ \u00a0]+No[ \u00a0]+Always allow|Yes,[ \u00a0]*single permission|Trust,[ \u00a0]*always allow/iu;
const CREDITS_RE = /^[ \u00a0]*▸[ \u00a0]*Credits:[ \u00a0]*[\d.]+/u;
const BUSY_RE = /^[ \u00a0]*(?:[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏][ \u00a0]|Thinking\.\.\.|Initializing\.\.\.)|\d+ of \d+ mcp servers initialized|Kiro is working/u;
const ERROR_RE = /Kiro is having trouble responding right now/u;

/** Index of the last legacy prompt row if it is the bottom row (a ready legacy UI), else -1. */
function bottomPrompt(screen: ScreenSnapshot): number {
  const last = lastNonBlankIndex(screen.lines);
  if (last < 0) return -1;
  // a long line typed at the prompt wraps: walk back over full-width rows
  let i = last;
  while (i > 0 && !PROMPT_RE.test(screen.lines[i]) && continuesPrevious(screen, i)) i--;
  return PROMPT_RE.test(screen.lines[i]) ? i : -1;
}

/** Row of the bottom placeholder of the TUI composer when it is ready, else -1. */
function tuiReadyRow(screen: ScreenSnapshot): number {
  for (const i of lastNonBlankIndices(screen.lines, 3)) if (TUI_IDLE_RE.test(screen.lines[i])) return i;
  return -1;
}

/** The trust-all-tools consent dialog, when it is the bottom of the screen. */
function consentActive(screen: ScreenSnapshot): boolean {
  const last = lastNonBlankIndex(screen.lines);
  return last >= 0 && CONSENT_FOOTER_RE.test(screen.lines[last]);
}

/** Row of a live `Allow this action? [y/n/t]:` prompt, or -1 when none or already answered. */
function livePermission(screen: ScreenSnapshot): number {
  const { lines } = screen;
  const last = lastNonBlankIndex(lines);
  let a = -1;
  for (let i = last; i >= Math.max(0, last - 40); i--) {
    if (PERMISSION_RE.test(lines[i])) {
      a = i;
      break;
    }
  }
  if (a < 0) return -1;
  // after it: at most the prompt row (possibly holding typed text, possibly wrapped), nothing else
  let seenPrompt = PROMPT_RE.test(lines[a]) || /\[[^\]]+\]\s*>/u.test(lines[a]);
  for (let i = a + 1; i <= last; i++) {
    if (isBlank(lines[i])) continue;
    if (PROMPT_RE.test(lines[i]) && !seenPrompt) {
      seenPrompt = true;
      continue;
    }
    if (seenPrompt && continuesPrevious(screen, i)) continue; // wrapped typed text
    return -1;
  }
  return a;
}

function tuiPermissionActive(screen: ScreenSnapshot): boolean {
  if (tuiReadyRow(screen) >= 0) return false;
  return lastNonBlankIndices(screen.lines, 8).some((i) => TUI_PERMISSION_RE.test(screen.lines[i]));
}

/** Legacy: the last prompt row holding user input, above the bottom prompt (or -1). */
function lastUserInput(lines: string[], before: number): number {
  for (let i = before - 1; i >= 0; i--) {
    const m = PROMPT_RE.exec(lines[i]);
    if (m && m[1].trim() !== '') return i;
  }
  return -1;
}

/** TUI: rows of the block above the status bar (between the last two rules), or null. */
function tuiTurn(screen: ScreenSnapshot): { start: number; end: number } | null {
  const { lines } = screen;
  const ready = tuiReadyRow(screen);
  const busy = lastNonBlankIndices(lines, 3).find((i) => TUI_BUSY_RE.test(lines[i]));
  const bottom = ready >= 0 ? ready : (busy ?? -1);
  if (bottom < 0) return null;
  let b = -1;
  for (let i = bottom - 1; i >= 0; i--) {
    if (isRule(lines[i])) {
      b = i;
      break;
    }
  }
  if (b < 0) return null;
  let a = -1;
  for (let i = b - 1; i >= 0; i--) {
    if (isRule(lines[i])) {
      a = i;
      break;
    }
  }
  // busy screens have no closing rule yet: the turn runs from the last rule to the status bar
  if (ready < 0) return { start: b + 1, end: bottom };
  return { start: a + 1, end: b };
}

function detect(screen: ScreenSnapshot): DetectedStatus {
  const { lines } = screen;
  if (consentActive(screen)) return 'waiting_user_answer';
  if (livePermission(screen) >= 0) return 'waiting_user_answer';
  if (tuiPermissionActive(screen)) return 'waiting_user_answer';

  if (tuiReadyRow(screen) >= 0) {
    const turn = tuiTurn(screen);
    if (turn && lines.slice(turn.start, turn.end).some((l) => CREDITS_RE.test(l))) return 'completed';
    if (turn && lines.slice(turn.start, turn.end).some((l) => ERROR_RE.test(l))) return 'error';
    return 'idle';
  }
  const tail = lastNonBlankIndices(lines, 3).map((i) => lines[i]);
  if (tail.some((l) => TUI_BUSY_RE.test(l))) return 'processing';

  const prompt = bottomPrompt(screen);
  if (prompt >= 0) {
    const input = lastUserInput(lines, prompt);
    const region = lines.slice(input + 1, prompt);
    if (region.some((l) => ARROW_RE.test(l))) return 'completed';
    if (region.some((l) => ERROR_RE.test(l))) return 'error';
    return 'idle';
  }
  if (tail.some((l) => BUSY_RE.test(l))) return 'processing';
  // output is still arriving under a prompt seen earlier: a turn is running
  const seen = lines.some((l) => PROMPT_RE.test(l) || TUI_IDLE_RE.test(l));
  return seen ? 'processing' : 'unknown';
}

function extractLastAnswer(screen: ScreenSnapshot): string | null {
  const { lines } = screen;
  const turn = tuiTurn(screen);
  if (turn && tuiReadyRow(screen) >= 0) {
    let credits = -1;
    for (let i = turn.end - 1; i >= turn.start; i--) {
      if (CREDITS_RE.test(lines[i])) {
        credits = i;
        break;
      }
    }
    if (credits >= 0) {
      let start = turn.start;
      for (let i = credits - 1; i >= turn.start; i--) {
        if (CREDITS_RE.test(lines[i])) {
          start = i + 1;
          break;
        }
      }
      // the block opens with the echoed user message: its first paragraph
      const block = trimBlankEdges(lines.slice(start, credits));
      const gap = block.findIndex((l) => isBlank(l));
      return gap < 0 ? null : cleanAnswer(block.slice(gap + 1));
    }
  }
  const prompt = bottomPrompt(screen);
  const end = prompt >= 0 ? prompt : lines.length;
  const input = lastUserInput(lines, end);
  for (let i = end - 1; i > input; i--) {
    if (ARROW_RE.test(lines[i])) {
      const rows = lines.slice(i, end);
      rows[0] = rows[0].replace(ARROW_RE, '');
      // a permission request that follows the text is Kiro's, not the agent's
      const cut = rows.findIndex((l) => PERMISSION_RE.test(l));
      return cleanAnswer(cut >= 0 ? rows.slice(0, cut) : rows);
    }
  }
  return null;
}

function pendingQuestion(screen: ScreenSnapshot): string | null {
  const { lines } = screen;
  const last = lastNonBlankIndex(lines);
  if (consentActive(screen)) {
    let start = last;
    for (let i = last; i >= Math.max(0, last - 20); i--) {
      start = i;
      if (/Warning:/u.test(lines[i])) break;
    }
    return cleanAnswer(lines.slice(start, last + 1));
  }
  const a = livePermission(screen);
  if (a >= 0) {
    // the tool request the prompt is about: the paragraph just above it (shell / load lines excluded)
    let i = a - 1;
    while (i >= 0 && isBlank(lines[i])) i--;
    let start = a;
    for (; i >= Math.max(0, a - 15); i--) {
      if (isBlank(lines[i]) || PROMPT_RE.test(lines[i]) || PERMISSION_RE.test(lines[i]) || /^(?:\$ |✓ )/u.test(lines[i])) break;
      start = i;
      if (ARROW_RE.test(lines[i])) break;
    }
    const rows = [...lines.slice(start, a).map((l) => l.replace(ARROW_RE, '')), lines[a].replace(/(\[y\/n\/t\]:).*$/u, '$1')];
    return cleanAnswer(rows);
  }
  if (tuiPermissionActive(screen)) return cleanAnswer(lastNonBlankIndices(lines, 12).map((i) => lines[i]));
  return null;
}

const DOWN = '\x1b[B';

function answerKeys(answer: string, screen: ScreenSnapshot): string[] {
  const a = answer.trim().toLowerCase();
  if (consentActive(screen)) {
    if (/don'?t ask again|^3$/u.test(a)) return [DOWN, DOWN, '\r'];
    if (/^(?:y|yes|accept|yes, i accept|2)$/u.test(a)) return [DOWN, '\r'];
    if (/^(?:n|no|exit|no, exit|1)$/u.test(a)) return ['\r'];
    return [];
  }
  if (livePermission(screen) >= 0) {
    if (/^(?:y|yes|allow|1)$/u.test(a)) return ['y', '\r'];
    if (/^(?:n|no|deny|2)$/u.test(a)) return ['n', '\r'];
    if (/^(?:t|trust|always|always allow|3)$/u.test(a)) return ['t', '\r'];
    return [];
  }
  return [answer, '\r'];
}

export const kiroStartupDialogs: StartupDialog[] = [
  {
    // "Kiro is running in trust all tools mode" ❯ No, exit / Yes, I accept / Yes, and don't ask again
    id: 'kiro.trust-all-tools',
    match: (s) =>
      consentActive(s) &&
      lastNonBlankIndices(s.lines, 15).some((i) => /trust all tools mode/u.test(s.lines[i])) &&
      lastNonBlankIndices(s.lines, 15).some((i) => /❯[ \u00a0]*No, exit/u.test(s.lines[i])),
    keys: [DOWN, '\r'],
  },
];

/** Agent names become file names and appear in the prompt: keep them plain. */
export function kiroAgentName(profileName: string): string {
  const base = profileName.replace(/[^A-Za-z0-9_-]+/gu, '-').replace(/^-+|-+$/gu, '') || 'agent';
  return `cao-${base}`;
}

/** Where kiro-cli reads global agent configs; `CAO_KIRO_AGENTS_DIR` overrides (tests, sandboxes). */
export function kiroAgentsDir(env: Record<string, string | undefined>): string {
  return env.CAO_KIRO_AGENTS_DIR || process.env.CAO_KIRO_AGENTS_DIR || join(env.HOME || homedir(), '.kiro', 'agents');
}

async function launch(ctx: LaunchContext): Promise<LaunchSpec> {
  const bin = resolveBinary('kiro-cli', 'CAO_KIRO_BIN', ctx.env);
  const name = kiroAgentName(ctx.profileName);
  // One file per profile, no per-terminal secrets in it: kiro-cli passes its own environment on to the MCP
  // servers it starts, so the terminal's CAO_* variables travel in the process env below.
  writePrivateJson(join(kiroAgentsDir(ctx.env), `${name}.json`), {
    name,
    description: `cao-mcp worker for profile ${ctx.profileName}`,
    prompt: ctx.systemPrompt,
    mcpServers: {
      [ctx.mcp.name]: { command: ctx.mcp.command, args: [...ctx.mcp.args], timeout: Math.round(ctx.toolTimeoutSec * 1000) },
    },
    tools: ['*'],
    allowedTools: ['*'],
    resources: [],
    useLegacyMcpJson: false,
  });
  const args = ['chat', '--trust-all-tools', '--agent', name];
  if (ctx.model) args.push('--model', ctx.model);
  const env = { ...ctx.env, ...ctx.mcp.env };
  if (!env.TERM) env.TERM = 'xterm-256color';
  return { command: bin, args, env, cwd: ctx.workingDirectory };
}

export const kiroCliProvider: Provider = {
  id: 'kiro_cli',
  label: 'Kiro CLI',
  // wide and tall: kiro-cli has lost input on resize (SIGWINCH) in small panes
  cols: 220,
  rows: 50,
  launch,
  startupDialogs: kiroStartupDialogs,
  detect,
  pendingQuestion,
  extractLastAnswer,
  answerKeys,
  // the reference project needed a full second before Enter in kiro-cli
  input: { enterDelayMs: 1000, submitKey: '\r' },
  exit: { keys: ['/exit', '\r'], graceMs: 3000 },
  startupTimeoutMs: 90_000,
};
