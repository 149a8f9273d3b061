import { sendKeys } from '../agents/input.js';
import type { Terminal } from '../agents/terminal.js';
import { announce } from '../bus/bus.js';
import type { TerminalRow } from '../db/schema.js';
import type { MessageQueue } from '../inbox/messages.js';
import { assertOwns } from '../registry/ownership.js';
import type { TerminalRegistry } from '../registry/terminals.js';
import { listProfiles as profilesIn, type ProfileSummary } from '../profiles/profile.js';
import { isReady } from '../status/types.js';
import { CaoError } from '../util/errors.js';
import { neutraliseOneLine } from '../util/sanitize.js';
import { requireText, waitSeconds } from './checks.js';
import { taskTyped } from './pending-task.js';
import type { AgentView, AnswerResult, Caller, OutputRequest, OutputResult, StopResult } from './types.js';
import type { WorkerPool } from './workers.js';
import { worktreeInfo } from './worktree-view.js';

export interface InspectDeps {
  registry: TerminalRegistry;
  inbox: MessageQueue;
  pool: WorkerPool;
  /** Many hosts: the host a hub id runs on (`live`: a live worker's, looked up when not known yet). */
  hostOf?: (hubId: string | null, live: boolean) => Promise<string | null>;
}

/** One agent as every listing shows it (raw text: each front marks invisible characters its own way). */
export async function agentView(d: InspectDeps, row: TerminalRow): Promise<AgentView> {
  const live = d.pool.get(row.id);
  const status = live?.status ?? row.status;
  // this hub's worker: off its screen now; another host's: as its hub stored it with the status
  const question = status !== 'waiting_user_answer' ? null : live ? live.questionNow() : row.question;
  return {
    id: row.id,
    kind: row.kind,
    profile: row.profile,
    provider: row.provider,
    status,
    creator: row.creatorId,
    workingDirectory: row.workingDirectory,
    createdAt: row.createdAt,
    endedAt: row.endedAt,
    ageSeconds: Math.max(0, Math.round(((row.endedAt ?? Date.now()) - row.createdAt) / 1000)),
    pending: await d.inbox.countPending(row.id),
    question,
    lastError: row.lastError,
    live: !!live,
    cols: live ? live.feed.screen.cols : null,
    rows: live ? live.feed.screen.rows : null,
    warm: !!live && d.pool.warm.isSpare(row.id),
    worktree: worktreeInfo(await d.pool.worktreeOf(row.id)),
    host: row.kind === 'worker' && d.hostOf ? await d.hostOf(row.hubId, row.endedAt === null) : null,
  };
}

/** Agents in registry order. `endedSince`: ended ones only if they ended after it (default: none; `includeEnded`: all). */
export async function listAgents(
  d: InspectDeps,
  opts: { includeEnded?: boolean; endedSince?: number; kind?: 'worker' | 'external' } = {},
): Promise<AgentView[]> {
  const all = opts.includeEnded || opts.endedSince !== undefined;
  const rows = (await d.registry.listTerminals({ includeEnded: all, kind: opts.kind })).filter(
    (r) => r.endedAt === null || opts.includeEnded || (opts.endedSince !== undefined && r.endedAt >= opts.endedSince),
  );
  return Promise.all(rows.map((r) => agentView(d, r)));
}

/** A worker running in this hub, or a refusal saying why not (unknown, ended, or another hub's). */
/** The terminal is still this hub's live one after an await (the ownership check): else nothing is typed into it. */
function stillLive(d: InspectDeps, t: Terminal): void {
  if (d.pool.get(t.id) !== t) throw new CaoError('ended', `agent ${t.id} has ended (${t.status}); nothing was typed`);
}

export async function liveTerminal(d: InspectDeps, id: string): Promise<Terminal> {
  const tid = requireText(id, 'terminal_id');
  const t = d.pool.get(tid);
  if (t) return t;
  const row = await d.registry.getTerminal(tid);
  if (!row) throw new CaoError('not_found', `no agent with terminal id "${tid}"`);
  if (row.endedAt !== null) throw new CaoError('ended', `agent ${tid} has ended (${row.status}${row.lastError ? `: ${row.lastError}` : ''})`);
  throw new CaoError('not_here', `agent ${tid} runs in another hub (${row.hubId ?? 'unknown'}); open that hub's dashboard`);
}

/** read_output: its last answer, screen or all it kept; with `waitSeconds`, first until its turn ends or it asks. */
export async function readOutput(d: InspectDeps, caller: Caller, req: OutputRequest, signal?: AbortSignal): Promise<OutputResult> {
  const t = await liveTerminal(d, req.terminalId);
  await assertOwns(d.registry, caller, t.id, 'read the output of');
  const waitSec = waitSeconds(req.waitSeconds);
  if (waitSec > 0) {
    // A worker a handoff started but has not given its task yet: its ready screen is not the answer; wait for the task first.
    const until = Date.now() + waitSec * 1000;
    await taskTyped(t, waitSec * 1000, signal);
    await untilAnswered(d, t, Math.max(0, until - Date.now()), signal);
  }
  const mode = req.mode ?? 'last';
  const output = mode === 'last' ? (t.lastAnswer() ?? '') : t.screenText(mode === 'screen');
  return { terminalId: t.id, status: t.status, output, ...(t.status === 'waiting_user_answer' ? { question: t.pendingQuestion() } : {}) };
}

/**
 * Until the worker has something to say: it asks a question, it has ended, or it is ready with no mail left to
 * type into it (a task assigned but not typed yet is still to be answered). At most `ms`; never throws.
 */
function untilAnswered(d: InspectDeps, t: Terminal, ms: number, signal?: AbortSignal): Promise<void> {
  const done = async () =>
    t.status === 'waiting_user_answer' ||
    t.status === 'exited' ||
    t.status === 'error' ||
    (isReady(t.status) && !(await d.inbox.countUndelivered(t.id)) && isReady(t.status));
  return new Promise((resolve) => {
    let over = false;
    const finish = () => {
      if (over) return;
      over = true;
      clearTimeout(timer);
      offStatus();
      d.pool.bus.off('message:state', onMail);
      signal?.removeEventListener('abort', finish);
      resolve();
    };
    // a store that cannot be read any more (the hub is stopping) ends the wait
    const check = () => void done().then((yes) => yes && finish(), finish);
    const onMail = (e: { receiverId: string }) => e.receiverId === t.id && check();
    const offStatus = t.onStatus(check);
    const timer = setTimeout(finish, ms);
    d.pool.bus.on('message:state', onMail);
    signal?.addEventListener('abort', finish, { once: true });
    check();
  });
}

/** answer_question: a number picks that option of the dialog, other text is typed (one line) and submitted. */
export async function answerQuestion(d: InspectDeps, caller: Caller, terminalId: string, rawAnswer: string): Promise<AnswerResult> {
  const t = await liveTerminal(d, terminalId);
  await assertOwns(d.registry, caller, t.id, 'answer');
  const raw = requireText(rawAnswer, 'answer');
  if (raw.length > 4000) throw new CaoError('bad_request', `answer is ${raw.length} characters; the limit is 4000`);
  // Typed like a message: no control characters or escape sequences, and one line (a dialog's field takes one).
  const answer = neutraliseOneLine(raw);
  if (!answer) throw new CaoError('bad_request', 'answer is empty once control characters are removed; nothing was typed');
  if (t.status !== 'waiting_user_answer')
    throw new CaoError('not_waiting', `agent ${t.id} is not waiting for an answer (it is ${t.status}); nothing was typed`);
  const snap = t.monitor.detectSnapshot();
  const keys = t.provider.answerKeys?.(answer, snap) ?? [answer, t.provider.input.submitKey];
  if (!keys.length)
    throw new CaoError(
      'bad_answer',
      `"${answer}" is not one of the options of agent ${t.id}'s question; nothing was typed.\n${t.pendingQuestion() ?? ''}`,
    );
  stillLive(d, t);
  await sendKeys(t, keys);
  announce(d.pool.bus, 'question:answered', {
    terminalId: t.id,
    callerId: caller.id,
    kind: /^\d+$/.test(answer) ? 'option' : 'text',
    bytes: Buffer.byteLength(answer),
  });
  await t.waitForStatus((s) => s !== 'waiting_user_answer', 3000).catch(() => undefined);
  return { terminalId: t.id, status: t.status };
}

/** stop_agent. */
export async function stopAgent(d: InspectDeps, caller: Caller, terminalId: string): Promise<StopResult> {
  const t = await liveTerminal(d, terminalId);
  await assertOwns(d.registry, caller, t.id, 'stop');
  await d.pool.stop(t.id, `stopped by ${caller.id}`);
  return { terminalId: t.id, stopped: true };
}

/** list_profiles, as seen from the caller's working directory. */
export function listProfiles(d: InspectDeps, caller: Caller, workingDirectory?: string): ProfileSummary[] {
  return profilesIn(d.pool.workingDirectoryOf(caller, workingDirectory));
}

/** Keys from a person watching (dashboard with typing on, `attach --write`), typed as they are. */
export async function typeKeys(d: InspectDeps, caller: Caller, terminalId: string, data: string): Promise<{ status: AgentView['status'] }> {
  const t = await liveTerminal(d, terminalId);
  await assertOwns(d.registry, caller, t.id, 'type into');
  if (!data) throw new CaoError('bad_request', 'data must be a non-empty string');
  stillLive(d, t);
  t.write(data, 'user');
  return { status: t.status };
}

/** Resizes a worker's pty and screen together (attach --write follows the person's terminal). */
export async function resize(
  d: InspectDeps,
  caller: Caller,
  terminalId: string,
  cols: number,
  rows: number,
): Promise<{ cols: number; rows: number }> {
  const t = await liveTerminal(d, terminalId);
  await assertOwns(d.registry, caller, t.id, 'type into');
  if (!Number.isInteger(cols) || !Number.isInteger(rows) || cols < 20 || cols > 500 || rows < 5 || rows > 300)
    throw new CaoError('bad_request', `cols must be 20–500 and rows 5–300 (got ${String(cols)}×${String(rows)})`);
  stillLive(d, t);
  t.resize(cols, rows);
  return { cols, rows };
}
