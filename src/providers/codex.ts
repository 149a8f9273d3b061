import type { DetectedStatus } from '../status/types.js';
import type { ScreenSnapshot } from '../screen/snapshot.js';
import type { LaunchContext, LaunchSpec, Provider, StartupDialog } from './types.js';
import {
  BUSY_FOOTER_RE,
  cleanAnswer,
  helpMentions,
  isBareKey,
  isBlank,
  menuFrom,
  lastNonBlankIndex,
  lastNonBlankIndices,
  menuDigitFor,
  resolveBinary,
  tailStart,
  tomlFloat,
  tomlString,
  tomlStringArray,
  answerFromBlocks,
  splitRowBlocks,
  startsAtColumnZero,
  type MenuDialog,
  type RowBlock,
} from './common/index.js';

/*
 * Codex (checked on 0.169 captures, 0.147 approval menus, 0.145 composer). Its screen, bottom up:
 *
 *   › say ping                         ← the user's message, echoed at column 0
 *   • PONG-123                         ← agent message (and tool cells: `• Ran …`, `• Called …`) at column 0
 *     Worked for 3s • 07:31            ← turn summary (older: `─ Worked for 3s ───`)
 *   • Working (1s • esc to interrupt)  ← live status row, only while busy
 *   › Ask Codex to do anything         ← composer (placeholder or draft) at column 0
 *     GPT-6-Sol medium · /path         ← footer rows, indented
 *     ← for agents · ? for shortcuts
 *
 * The composer is the last `›` row at column 0 that is not a menu option and has only indented rows
 * below it. Menus (approvals, trust, update) replace the composer; a menu is live only when no composer
 * follows it.
 */

const COMPOSER_RE = /^›(?:[ \u00a0]|$)/u;
const OPTION_ROW_RE = /^[ \u00a0]*›?[ \u00a0]*\d{1,2}\.[ \u00a0]/u;
const USER_ECHO_RE = /^›[ \u00a0]+\S/u;
const BULLET_RE = /^•[ \u00a0]/u;
/** The turn summary Codex prints once a turn is over (`Worked for 3s • 07:31`, `Worked for <1s`, older `─ Worked for 3s ───`). */
const WORKED_RE = /^[ \u00a0]*(?:─+[ \u00a0]*)?Worked for (?:<[ \u00a0]*)?(?:\d+h[ \u00a0]*)?(?:\d+m[ \u00a0]*)?\d+(?:\.\d+)?s\b/u;
const STATUS_ROW_RE = /^•[ \u00a0]+\S.*\((?:\d+h[ \u00a0]+)?(?:\d+m[ \u00a0]+)?\d+s[ \u00a0]+•[ \u00a0]+esc to interrupt\)/u;
/** Tool / activity cells: not the agent's answer. */
const TOOL_CELL_RE =
  /^•[ \u00a0]+(?:Ran|Running|Called|Calling|Explored|Exploring|Edited|Editing|Added|Deleted|Updated Plan|Read|Reading|Search(?:ed|ing)?|List(?:ed|ing)|Waiting for|Working|Applied|Applying|Change Approved|Proposed|Viewed|Image)\b/u;
/** The footer row naming the model (`GPT-6-Sol medium Fast · /path`), not the key-hint row (`← for agents · ? for shortcuts`). */
const MODEL_ROW_RE = /^[ \u00a0]+(?!.*\bfor (?:shortcuts|agents)\b)\S.*[ \u00a0]·[ \u00a0]/u;
/** `■ …` is a failed turn; `⚠ …` rows are warnings (retries, model metadata) and do not end a turn. */
const ERROR_ROW_RE = /^■[ \u00a0]+\S|^(?:Error:|ERROR:|panic:)/u;

/** Index of the composer row, or -1 (a menu or dialog has replaced it). */
export function codexComposer(screen: ScreenSnapshot): number {
  const { lines } = screen;
  const tail = lastNonBlankIndices(lines, 10);
  for (let k = tail.length - 1; k >= 0; k--) {
    const i = tail[k];
    const l = lines[i];
    if (!/^[ \u00a0]/u.test(l)) {
      // a row at column 0: the composer if it is one, else there is no composer below the content
      return COMPOSER_RE.test(l) && !OPTION_ROW_RE.test(l) ? i : -1;
    }
  }
  return -1;
}

/** A live menu / dialog: numbered options with one `›` selected, near the bottom, no composer after it. */
function activeDialog(screen: ScreenSnapshot): MenuDialog | null {
  const { lines } = screen;
  const composer = codexComposer(screen);
  const end = lastNonBlankIndex(lines);
  const from = composer >= 0 ? composer + 1 : tailStart(lines, 45);
  if (end < from) return null;
  const { options: menu, rowsAfter } = menuFrom(lines, from, end, '›');
  if (!menu.length || rowsAfter > 4) return null;
  return { start: dialogTop(lines, menu[0].line, from), end, options: menu };
}

/**
 * The dialog's first row. Walking up from the options through indented rows (the bottom pane), the topmost
 * question ("Would you like to run the following command?") heads the dialog; without one, stop at two
 * blank rows (the gap between the transcript and the bottom pane). A column-0 history cell always stops.
 */
function dialogTop(lines: string[], row: number, floor: number): number {
  let question = -1;
  let gapTop = -1;
  let top = row;
  let blanks = 0;
  for (let i = row - 1; i >= Math.max(floor, row - 60); i--) {
    const l = lines[i];
    if (isBlank(l)) {
      if (++blanks >= 2 && gapTop < 0) gapTop = top;
      continue;
    }
    blanks = 0;
    if (!/^[ \u00a0]/u.test(l) && !/^(?:>|✨)/u.test(l)) break;
    top = i;
    if (/\?[ \u00a0]*$/u.test(l)) question = i;
  }
  if (question >= 0) return question;
  return gapTop >= 0 ? gapTop : top;
}

/** Rows of the last turn: after the last echoed user message, up to the status row / composer. */
function lastTurn(screen: ScreenSnapshot): { start: number; end: number; echo: number } {
  const { lines } = screen;
  const composer = codexComposer(screen);
  const end = composer >= 0 ? composer : lines.length;
  let echo = -1;
  for (let i = end - 1; i >= 0; i--) {
    if (USER_ECHO_RE.test(lines[i]) && !OPTION_ROW_RE.test(lines[i])) {
      echo = i;
      break;
    }
  }
  let start = echo + 1;
  while (echo >= 0 && start < end && /^[ \u00a0]{2}\S/u.test(lines[start])) start++;
  return { start, end, echo };
}

type Cell = RowBlock<'text' | 'tool' | 'other'>;

/** History cells of the turn: each starts at a non-blank column-0 row; `Worked for` and status rows are cells of their own. */
function cells(screen: ScreenSnapshot, start: number, end: number): Cell[] {
  return splitRowBlocks<Cell['kind']>(screen, start, end, (l) => {
    if (WORKED_RE.test(l) || STATUS_ROW_RE.test(l)) return 'other';
    if (!startsAtColumnZero(l)) return null;
    return BULLET_RE.test(l) ? (TOOL_CELL_RE.test(l) ? 'tool' : 'text') : 'other';
  });
}

function detect(screen: ScreenSnapshot): DetectedStatus {
  const { lines } = screen;
  if (activeDialog(screen)) return 'waiting_user_answer';
  const composer = codexComposer(screen);
  if (composer < 0) {
    const tail = lastNonBlankIndices(lines, 6).map((i) => lines[i]);
    return tail.some((l) => BUSY_FOOTER_RE.test(l)) ? 'processing' : 'unknown';
  }
  // the live status row is the first column-0 row above the composer (queued messages, indented, may sit
  // between them); footers are below it. Older rows belong to the transcript and may be stale.
  const near: string[] = lines.slice(composer + 1);
  for (let i = composer - 1; i >= Math.max(0, composer - 12); i--) {
    if (isBlank(lines[i])) continue;
    near.push(lines[i]);
    if (!/^[ \u00a0]/u.test(lines[i])) break;
  }
  if (near.some((l) => STATUS_ROW_RE.test(l) || /\besc to interrupt\b/u.test(l))) return 'processing';
  // Still starting (0.169): the composer is drawn at once, under a `loading` banner and a bare "? for shortcuts"
  // footer, and takes input it only queues ("Waiting for startup · esc cancel"). Seen live under load: a task typed
  // there ran before our MCP server was up. The session is configured once the model row (`GPT-6-Sol medium ·
  // /path`, 0.145: `gpt-5.6-sol medium · Context 100% left`) shows under the composer.
  const footer = lines.slice(composer + 1).filter((l) => !isBlank(l));
  if (footer.some((l) => /\bWaiting for startup\b/u.test(l))) return 'processing';
  if (!footer.some((l) => MODEL_ROW_RE.test(l))) return 'unknown';
  const turn = lastTurn(screen);
  const cs = cells(screen, turn.start, turn.end);
  // an error row only counts inside a turn the user started, and only when no answer followed it
  const failed = turn.echo >= 0 && cs.some((c) => c.kind === 'other' && ERROR_ROW_RE.test(c.lines[0]));
  // the message was taken (echoed) and nothing of its turn is drawn yet: seen live for seconds under load, before
  // the first request even left (Codex starts its MCP servers first); idle here ended a handoff with no answer
  if (turn.echo >= 0 && !cs.some((c) => !isBlank(c.lines[0]))) return 'processing';
  const answered = cs.some((c) => c.kind === 'text' || c.kind === 'tool');
  // 0.169 hides its `• Working` row while the answer streams in, so a half-streamed answer sits right above
  // an idle-looking composer: the turn is over only once its `Worked for …` summary follows the last cell.
  const last = cs.map((c) => c.kind !== 'other' || WORKED_RE.test(c.lines[0])).lastIndexOf(true);
  const summed = last >= 0 && WORKED_RE.test(cs[last].lines[0]);
  if (answered && summed) return 'completed';
  if (failed) return 'error';
  return answered ? 'processing' : 'idle';
}

function extractLastAnswer(screen: ScreenSnapshot): string | null {
  const turn = lastTurn(screen);
  return answerFromBlocks(cells(screen, turn.start, turn.end), BULLET_RE);
}

function pendingQuestion(screen: ScreenSnapshot): string | null {
  const d = activeDialog(screen);
  return d ? cleanAnswer(screen.lines.slice(d.start, d.end + 1)) : null;
}

function answerKeys(answer: string, screen: ScreenSnapshot): string[] {
  const d = activeDialog(screen);
  if (!d) return [answer, '\r'];
  // Codex list menus: a digit selects and accepts at once (no Enter, which would reach the next view)
  const digit = menuDigitFor(answer, d.options);
  return digit ? [digit] : [];
}

function dialogText(screen: ScreenSnapshot): string {
  const d = activeDialog(screen);
  return d ? screen.lines.slice(d.start, d.end + 1).join('\n') : '';
}

/** Bottom rows as text, for dialogs drawn without a numbered menu. */
function bottomText(screen: ScreenSnapshot, n = 15): string {
  return lastNonBlankIndices(screen.lines, n)
    .map((i) => screen.lines[i])
    .join('\n');
}

export const codexStartupDialogs: StartupDialog[] = [
  {
    // v2: "Do you trust the contents of this directory?" › 1. Yes, continue
    id: 'codex.trust-directory',
    match: (s) => /Do you trust the contents of this directory\?/u.test(dialogText(s) || bottomText(s)) && codexComposer(s) < 0,
    keys: ['\r'],
  },
  {
    // v1: "…allow Codex to work in this folder without asking for approval" (option 1, the default)
    id: 'codex.trust-folder',
    match: (s) => /allow Codex to work in this folder/u.test(dialogText(s)),
    keys: ['\r'],
  },
  {
    // "✨ Update available! 0.1 -> 0.2" › 1. Update now / 2. Skip / 3. Skip until next version
    id: 'codex.update',
    match: (s) =>
      /Update available!/u.test(dialogText(s) || bottomText(s)) &&
      /Skip until next version/u.test(dialogText(s) || bottomText(s)) &&
      codexComposer(s) < 0,
    keys: ['3', '\r'],
  },
  {
    // "Choose how you'd like Codex to proceed." › 1. Try new model / 2. Use existing model: keep the configured one
    id: 'codex.model-migration',
    match: (s) => /Use existing model/u.test(dialogText(s)),
    keys: ['2'],
  },
  {
    // migration notice without a choice: "Codex just got an upgrade … Press enter to continue"
    id: 'codex.model-migration-notice',
    match: (s) =>
      codexComposer(s) < 0 &&
      /We recommend switching from|just got an upgrade/u.test(bottomText(s, 30)) &&
      /Press enter to continue/iu.test(bottomText(s, 4)),
    keys: ['\r'],
  },
];

/** Server names become a dotted `-c` path segment: only TOML bare keys are safe there. */
function mcpKey(name: string): string {
  if (!isBareKey(name)) throw new Error(`MCP server name not usable in a Codex -c path: ${JSON.stringify(name)}`);
  return `mcp_servers.${name}`;
}

async function launch(ctx: LaunchContext): Promise<LaunchSpec> {
  const bin = resolveBinary('codex', 'CAO_CODEX_BIN', ctx.env);
  const args: string[] = [];
  // inline mode keeps the transcript in the normal buffer (scrollback) where answers are cut from
  if (await helpMentions(bin, '--no-alt-screen', ctx.env)) args.push('--no-alt-screen');
  args.push('--dangerously-bypass-approvals-and-sandbox');
  args.push('-c', 'check_for_update_on_startup=false');
  const key = mcpKey(ctx.mcp.name);
  args.push('-c', `${key}.command=${tomlString(ctx.mcp.command)}`);
  args.push('-c', `${key}.args=${tomlStringArray(ctx.mcp.args)}`);
  // Codex starts MCP servers with a cleared environment. `env_vars` (0.169) forwards the named variables from
  // Codex's own environment, where they are set below: no value, the worker's token least of all, is on its
  // command line (argv is world-readable in `ps`).
  const forwarded = Object.keys(ctx.mcp.env);
  if (forwarded.length) args.push('-c', `${key}.env_vars=${tomlStringArray(forwarded)}`);
  // must be a float: an integer is silently ignored (default ~60 s)
  args.push('-c', `${key}.tool_timeout_sec=${tomlFloat(ctx.toolTimeoutSec)}`);
  if (ctx.systemPrompt.trim()) args.push('-c', `developer_instructions=${tomlString(ctx.systemPrompt)}`);
  if (ctx.model) args.push('-c', `model=${tomlString(ctx.model)}`);
  const env = { ...ctx.env, ...ctx.mcp.env };
  if (!env.TERM) env.TERM = 'xterm-256color';
  return { command: bin, args, env, cwd: ctx.workingDirectory };
}

export const codexProvider: Provider = {
  id: 'codex',
  label: 'Codex',
  cols: 200,
  rows: 50,
  launch,
  startupDialogs: codexStartupDialogs,
  detect,
  pendingQuestion,
  extractLastAnswer,
  answerKeys,
  // Codex treats keys arriving within its paste-burst window (~120 ms) as pasted text: wait it out
  // after a bracketed paste, 50 ms: measured with bench/real-handoff (issue 14), every answer exact
  input: { enterDelayMs: 200, pasteEnterDelayMs: 50, submitKey: '\r' },
  exit: { keys: ['/quit', '\r'], graceMs: 3000 },
  startupTimeoutMs: 60_000,
};
