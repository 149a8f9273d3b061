import type { BusEvents } from '../bus/bus.js';
import { submitInput, waitUntil } from '../agents/input.js';
import type { Terminal } from '../agents/terminal.js';
import { isReady, type AgentStatus } from '../status/types.js';
import { CaoError, messageOf } from '../util/errors.js';
import { checkTaskSize, lastLines, requireText } from './checks.js';
import type { Caller, HandoffRequest, HandoffResult, ProgressFn } from './types.js';
import type { WorkerPool } from './workers.js';

const HANDOFF_DEFAULT_TIMEOUT = 600;

/**
 * handoff: start a worker, give it the task, wait for the end of that one turn, return its answer and end it.
 * Where it waits, and for what: `waitForTurnEnd` below. A worker that asks a question, or is still working at
 * the deadline, is left running and the caller is told how to go on.
 */
export async function handoff(
  pool: WorkerPool,
  caller: Caller,
  req: HandoffRequest,
  opts: { progress?: ProgressFn; signal?: AbortSignal; progressEveryMs?: number } = {},
): Promise<HandoffResult> {
  const started = Date.now();
  const message = requireText(req.message, 'message');
  checkTaskSize(message);
  const timeoutSec = req.timeoutSec ?? HANDOFF_DEFAULT_TIMEOUT;
  if (!Number.isFinite(timeoutSec) || timeoutSec < 1 || timeoutSec > 3600)
    throw new CaoError('bad_request', `timeout must be between 1 and 3600 seconds (got ${req.timeoutSec})`);
  const totalMs = timeoutSec * 1000;
  const deadline = started + totalMs;
  const { signal, progress } = opts;
  const { terminal: t, profile } = await pool.start(caller, req);
  const result = (success: boolean, msg: string, output = '', status?: AgentStatus): HandoffResult => ({
    success,
    output,
    terminalId: t.id,
    provider: t.provider.id,
    durationMs: Date.now() - started,
    message: msg,
    status,
  });
  const who = `${profile.name} (${t.provider.id}, terminal ${t.id})`;
  let lastNote = '';
  const tick = (note: string) => {
    lastNote = note;
    progress?.({ elapsedMs: Date.now() - started, totalMs, message: note });
  };
  const ticker = setInterval(() => tick(lastNote || `${who}: ${t.status}`), opts.progressEveryMs ?? 5000);
  const onStatus = (e: BusEvents['status']) => {
    if (e.terminalId === t.id) tick(`${who}: ${e.status}`);
  };
  pool.bus.on('status', onStatus);
  try {
    tick(`starting ${who}`);
    try {
      await withAbort(pool.startup(t, Math.min(t.provider.startupTimeoutMs, deadline - Date.now())), signal);
    } catch (e) {
      await pool.stop(t.id, 'startup failed');
      return result(false, `Handoff failed: ${who} did not start: ${messageOf(e)}`, '', 'exited');
    }
    tick(`${who} is ready; sending the task`);
    try {
      await submitInput(t, message);
    } catch (e) {
      await pool.stop(t.id, 'task not accepted');
      return result(false, `Handoff failed: ${who} did not take the task: ${messageOf(e)}`, '', 'exited');
    }
    const end = await waitForTurnEnd(t, deadline - Date.now(), signal);
    if (end === 'timeout') {
      return result(
        false,
        `Handoff timed out after ${timeoutSec} s; ${who} is still ${t.status} and was left running: read it with read_output("${t.id}") or end it with stop_agent("${t.id}").`,
        t.lastAnswer() ?? '',
        t.status,
      );
    }
    if (end === 'exited' || end === 'error') {
      const tail = lastLines(t.screenText(true), 15);
      const code = t.exitInfo ? ` with code ${t.exitInfo.exitCode}` : '';
      const partial = t.lastAnswer() ?? '';
      await pool.stop(t.id, end === 'error' ? 'worker error' : 'exited');
      return result(
        false,
        `Handoff failed: ${who} ${end === 'exited' ? `exited${code}` : 'reported an error'} before finishing.\n${tail}`,
        partial,
        end,
      );
    }
    if (end === 'waiting_user_answer') {
      const q = t.pendingQuestion() ?? lastLines(t.screenText(true), 12);
      return result(
        false,
        `${who} is waiting for an answer and was left running. Answer it with answer_question("${t.id}", …), then collect the result with read_output("${t.id}", wait_seconds).\nQuestion:\n${q}`,
        t.lastAnswer() ?? '',
        end,
      );
    }
    const output = t.lastAnswer() ?? '';
    await pool.stop(t.id, 'handoff finished');
    return result(true, `Handed off to ${who} in ${((Date.now() - started) / 1000).toFixed(2)} s`, output, 'completed');
  } catch (e) {
    if (signal?.aborted) {
      await pool.stop(t.id, 'handoff cancelled');
      return result(false, 'Handoff cancelled by the client; the worker was stopped.', '', 'exited');
    }
    throw e;
  } finally {
    clearInterval(ticker);
    pool.bus.off('status', onStatus);
  }
}

/**
 * Waits for the turn that was just submitted to end. A question the worker asks ends the wait only
 * if it stays unanswered for a moment (it may be answered by someone else, e.g. the dashboard).
 */
async function waitForTurnEnd(
  t: Terminal,
  ms: number,
  signal?: AbortSignal,
): Promise<'completed' | 'idle' | 'exited' | 'error' | 'waiting_user_answer' | 'timeout'> {
  const deadline = Date.now() + ms;
  for (;;) {
    const left = deadline - Date.now();
    if (left <= 0) return 'timeout';
    let s: AgentStatus;
    try {
      s = await t.waitForStatus((x) => isReady(x) || x === 'exited' || x === 'error' || x === 'waiting_user_answer', left, signal);
    } catch (e) {
      if (signal?.aborted) throw e;
      return 'timeout';
    }
    if (s !== 'waiting_user_answer') return s as 'completed' | 'idle' | 'exited' | 'error';
    // Give a human watching the dashboard a short chance; otherwise hand the question to the caller.
    const stillWaiting = !(await waitUntil(() => t.status !== 'waiting_user_answer', Math.min(3000, Math.max(0, deadline - Date.now()))));
    if (stillWaiting) return Date.now() >= deadline ? 'timeout' : 'waiting_user_answer';
  }
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
