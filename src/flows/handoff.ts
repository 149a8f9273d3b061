import { announce, type BusEvents, type HandoffOutcome } from '../bus/bus.js';
import { submitTurn, type Turn } from '../agents/turn.js';
import type { AgentStatus } from '../status/types.js';
import { CaoError, messageOf } from '../util/errors.js';
import { checkTaskSize, lastLines, requireText } from './checks.js';
import { markTaskPending } from './pending-task.js';
import type { Caller, HandoffRequest, HandoffResult, HandoffTimings, ProgressFn } from './types.js';
import type { WorkerPool } from './workers.js';
import { worktreeInfo } from './worktree-view.js';
import { delegationStarted } from './delegation.js';
import type { Terminal } from '../agents/terminal.js';

const HANDOFF_DEFAULT_TIMEOUT = 600;

export interface HandoffOptions {
  progress?: ProgressFn;
  /** Cancellation: the worker is stopped. */
  signal?: AbortSignal;
  /** The caller went away: stop waiting once the worker has the task, and leave it running. */
  detach?: AbortSignal;
  progressEveryMs?: number;
}

/**
 * handoff: start a worker, give it the task, wait for the end of that one turn, return its answer and end it.
 * It waits twice: for the worker's first ready screen (`pool.startup`), then for the end of the task's turn
 * (`turn.end`, agents/turn.ts: ready again after this submit, a question nobody answered within 3 s, an exit,
 * an error, or the deadline). A worker that asks a question, or is still working at the deadline, is left
 * running and the caller is told how to go on.
 *
 * Two signals end the wait early. `signal` is a cancellation (the caller no longer wants the work): the worker is
 * stopped. `detach` is the caller going away (its connection dropped, nobody cancelled): the worker keeps working
 * and is left running once it has the task, so that its answer can be read with read_output after a reconnect.
 */
export async function handoff(pool: WorkerPool, caller: Caller, req: HandoffRequest, opts: HandoffOptions = {}): Promise<HandoffResult> {
  const started = Date.now();
  const message = requireText(req.message, 'message');
  checkTaskSize(message);
  const timeoutSec = req.timeoutSec ?? HANDOFF_DEFAULT_TIMEOUT;
  if (!Number.isFinite(timeoutSec) || timeoutSec < 1 || timeoutSec > 3600)
    throw new CaoError('bad_request', `timeout must be between 1 and 3600 seconds (got ${req.timeoutSec})`);
  const totalMs = timeoutSec * 1000;
  const deadline = started + totalMs;
  const { signal, detach, progress } = opts;
  const worker = await pool.start(caller, req);
  const { terminal: t, profile, spec, warm, worktree } = worker;
  announce(pool.bus, 'handoff:started', delegationStarted(caller, worker, message));
  let outcome: HandoffOutcome = 'failed';
  const typed = markTaskPending(t);
  let submittedAt = 0;
  let finishedAt = 0;
  const result = async (success: boolean, msg: string, output = '', status?: AgentStatus): Promise<HandoffResult> => ({
    success,
    output,
    terminalId: t.id,
    provider: t.provider.id,
    durationMs: Date.now() - started,
    message: msg,
    status,
    warm,
    timings: timingsOf(t, started, submittedAt, finishedAt),
    worktree: worktreeInfo(await pool.worktreeOf(t.id)),
  });
  // The worker goes when its answer is in; without a worktree to settle, the answer does not wait for its exit.
  const finish = async (reason: string) => {
    if (worktree) await pool.stop(t.id, reason);
    else pool.release(t.id, reason);
  };
  const who = `${profile.name} (${t.provider.id}, terminal ${t.id}${warm ? ', warm' : ''}${worktree ? `, worktree ${worktree.path} on ${worktree.branch}` : ''})`;
  let wasReady = false;
  let lastNote = '';
  const tick = (note: string) => {
    lastNote = note;
    progress?.({ elapsedMs: Date.now() - started, totalMs, message: note, terminalId: t.id });
  };
  const ticker = setInterval(() => tick(lastNote || `${who}: ${t.status}`), opts.progressEveryMs ?? 5000);
  const onStatus = (e: BusEvents['status']) => {
    if (e.terminalId === t.id) tick(`${who}: ${e.status}`);
  };
  pool.bus.on('status', onStatus);
  let turn: Turn | undefined;
  try {
    tick(`starting ${who}`);
    try {
      await withAbort(pool.startup(t, Math.min(t.provider.startupTimeoutMs, deadline - Date.now())), signal);
    } catch (e) {
      outcome = signal?.aborted ? 'cancelled' : 'startup_failed';
      await pool.stop(t.id, 'startup failed');
      return result(false, `Handoff failed: ${who} did not start: ${messageOf(e)}`, '', 'exited');
    }
    wasReady = true;
    tick(`${who} is ready; sending the task`);
    try {
      turn = await submitTurn(t, message);
      submittedAt = Date.now();
      typed();
    } catch (e) {
      outcome = 'not_accepted';
      await pool.stop(t.id, 'task not accepted');
      return result(false, `Handoff failed: ${who} did not take the task: ${messageOf(e)}`, '', 'exited');
    }
    const end = await turn.end(deadline - Date.now(), eitherSignal(signal, detach));
    finishedAt = Date.now();
    if (end.kind === 'timeout') {
      outcome = 'timeout';
      return result(
        false,
        `Handoff timed out after ${timeoutSec} s; ${who} is still ${end.status} and was left running: read it with read_output("${t.id}") or end it with stop_agent("${t.id}").`,
        t.lastAnswer() ?? '',
        end.status,
      );
    }
    if (end.kind === 'exited' || end.kind === 'error') {
      outcome = end.kind;
      const tail = lastLines(t.screenText(true), 15);
      const code = end.kind === 'exited' && end.exitCode !== null ? ` with code ${end.exitCode}` : '';
      const partial = t.lastAnswer() ?? '';
      await pool.stop(t.id, end.kind === 'error' ? 'worker error' : 'exited');
      return result(
        false,
        `Handoff failed: ${who} ${end.kind === 'exited' ? `exited${code}` : 'reported an error'} before finishing.\n${tail}`,
        partial,
        end.kind,
      );
    }
    if (end.kind === 'question') {
      outcome = 'question';
      const q = end.question ?? lastLines(t.screenText(true), 12);
      return result(
        false,
        `${who} is waiting for an answer and was left running. Answer it with answer_question("${t.id}", …), then collect the result with read_output("${t.id}", wait_seconds).\nQuestion:\n${q}`,
        t.lastAnswer() ?? '',
        'waiting_user_answer',
      );
    }
    const output = t.lastAnswer() ?? '';
    outcome = 'completed';
    await finish('handoff finished');
    return result(true, `Handed off to ${who} in ${((Date.now() - started) / 1000).toFixed(2)} s`, output, 'completed');
  } catch (e) {
    if (signal?.aborted) {
      outcome = 'cancelled';
      await pool.stop(t.id, 'handoff cancelled');
      return result(false, 'Handoff cancelled by the client; the worker was stopped.', '', 'exited');
    }
    if (detach?.aborted && turn) {
      outcome = 'detached';
      return result(
        false,
        `The client went away; ${who} keeps working and was left running: read its answer with read_output("${t.id}", wait_seconds), then end it with stop_agent("${t.id}").`,
        t.lastAnswer() ?? '',
        t.status,
      );
    }
    throw e;
  } finally {
    announce(pool.bus, 'handoff:ended', { terminalId: t.id, callerId: caller.id, outcome, durationMs: Date.now() - started });
    typed();
    turn?.dispose();
    clearInterval(ticker);
    pool.bus.off('status', onStatus);
    // Warm spares for the next handoff of this spec, started once this answer has gone out (worktrees are never reused).
    if (wasReady && !worktree) setTimeout(() => pool.replenish(spec), 100).unref();
  }
}

/** The worker's start-up steps and the task's, in ms since the handoff began; a warm worker's start-up is null (it happened before). */
function timingsOf(t: Terminal, started: number, submittedAt: number, finishedAt: number): HandoffTimings {
  const rel = (at: number) => (at >= started ? at - started : null);
  const { spawned, firstOutput, readyScreen, started: up } = t.timeline;
  return {
    spawnMs: rel(spawned),
    firstOutputMs: rel(firstOutput),
    readyMs: rel(readyScreen),
    startedMs: rel(up),
    submittedMs: rel(submittedAt),
    finishedMs: rel(finishedAt),
  };
}

/** Aborted when either is (AbortSignal.any is Node 20.3+; engines says >=20). */
function eitherSignal(a?: AbortSignal, b?: AbortSignal): AbortSignal | undefined {
  if (!a || !b) return a ?? b;
  const c = new AbortController();
  const abort = () => c.abort();
  if (a.aborted || b.aborted) abort();
  a.addEventListener('abort', abort, { once: true });
  b.addEventListener('abort', abort, { once: true });
  return c.signal;
}

function withAbort<T>(p: Promise<T>, signal?: AbortSignal): Promise<T> {
  if (!signal) return p;
  return new Promise<T>((res, rej) => {
    const onAbort = () => rej(new CaoError('aborted', 'aborted'));
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        res(v);
      },
      (e) => {
        signal.removeEventListener('abort', onAbort);
        rej(e);
      },
    );
  });
}
