import { announce, type AssignOutcome, type BusEvents } from '../bus/bus.js';
import { CaoError, messageOf } from '../util/errors.js';
import { checkTaskSize, describeCaller, requireText } from './checks.js';
import { notify, type MessagingDeps } from './messaging.js';
import type { AssignRequest, AssignResult, Caller } from './types.js';
import { worktreeInfo } from './worktree-view.js';
import { delegationStarted } from './delegation.js';
import { logger } from '../util/log.js';

/**
 * assign: start a worker and return at once. The task goes through the inbox like any message (durable, typed
 * exactly once, when the worker is ready); the worker reports back with send_message. A worker that fails to
 * start, or never takes its task, is reported to the assigner by a notice in its inbox.
 */
export async function assign(d: MessagingDeps, caller: Caller, req: AssignRequest): Promise<AssignResult> {
  const message = requireText(req.message, 'message');
  const task = `${message}\n\n[Assigned by ${describeCaller(caller)}. When you have finished, send your result back with the send_message tool of the "cao" MCP server (receiver_id may be left empty: it goes to whoever assigned this task).]`;
  // Every check before anything is started: the task as it will be stored must fit.
  checkTaskSize(task);
  const { pool } = d;
  const worker = await pool.start(caller, req);
  const { terminal: t, profile, spec, warm, worktree } = worker;
  const ended = watchAssigned(d, caller.id, t.id);
  announce(d.bus, 'assign:started', delegationStarted(caller, worker, message));
  try {
    await d.inbox.enqueue(caller.id, t.id, task, 'task');
  } catch (e) {
    ended.outcome = 'not_queued';
    await pool.stop(t.id, 'task could not be queued');
    throw new CaoError('task_not_queued', `worker ${t.id} was started but its task could not be queued (${messageOf(e)}); the worker was stopped`);
  }
  void pool
    .startup(t)
    .then(
      // the next assign of this spec finds a warm spare (never for a worktree: each is new)
      () => {
        ended.up = true;
        if (!worktree) pool.replenish(spec);
      },
      async (e: Error) => {
        ended.outcome = 'startup_failed';
        await pool.stop(t.id, 'startup failed');
        await notify(
          d,
          caller.id,
          t.id,
          `Worker ${t.id} (${profile.name}, ${t.provider.id}) failed to start, so it never received the task you assigned:\n${e.message}`,
        );
      },
    )
    .catch((e: Error) => logger('flows').warn({ terminalId: t.id, error: e.message }, 'could not stop a worker that failed to start'));
  return { terminalId: t.id, provider: t.provider.id, profile: profile.name, warm, worktree: worktreeInfo(await pool.worktreeOf(t.id)) };
}

/**
 * Announces `assign:ended` when an assigned worker ends: `reported` when it had sent its assigner a message, else
 * `ended`, or `startup_failed` when it never got through its start-up (or the failure the flow set first). Lives as long as the worker does, in this hub.
 * `from`: a worker a previous hub assigned and this one adopted (when it started, whether it has reported yet).
 */
export function watchAssigned(
  d: MessagingDeps,
  callerId: string,
  id: string,
  from: { startedAt?: number; reported?: boolean } = {},
): { outcome: AssignOutcome | null; up: boolean } {
  const started = from.startedAt ?? Date.now();
  const state: { outcome: AssignOutcome | null; up: boolean } = { outcome: null, up: from.startedAt !== undefined };
  let reported = from.reported ?? false;
  const onQueued = (e: BusEvents['message:queued']) => {
    if (e.senderId === id && e.receiverId === callerId) reported = true;
  };
  const onRemoved = (e: BusEvents['terminal:removed']) => {
    if (e.terminalId !== id) return;
    d.bus.off('message:queued', onQueued);
    d.bus.off('terminal:removed', onRemoved);
    // a worker that exits during its start-up ends before its start-up is said to have failed
    const outcome = state.outcome ?? (reported ? 'reported' : state.up ? 'ended' : 'startup_failed');
    announce(d.bus, 'assign:ended', { terminalId: id, callerId, outcome, durationMs: Date.now() - started });
  };
  d.bus.on('message:queued', onQueued);
  d.bus.on('terminal:removed', onRemoved);
  return state;
}

/**
 * Tells an assigner when the task it assigned ends up failed (never typed) while its worker still runs. One
 * listener for the hub, reading the message's kind from the inbox: nothing is remembered per task. Returns the
 * unsubscribe function.
 */
export function reportFailedTasks(d: MessagingDeps): () => void {
  const report = async (e: BusEvents['message:state']) => {
    const m = await d.inbox.getMessage(e.messageId);
    if (m?.kind !== 'task') return;
    const profile = (await d.registry.getTerminal(e.receiverId))?.profile ?? 'worker';
    await notify(
      d,
      m.senderId,
      e.receiverId,
      `Worker ${e.receiverId} (${profile}) never took the task you assigned: ${e.error ?? 'delivery failed'}. It was left running; stop it with stop_agent("${e.receiverId}").`,
    );
  };
  const onState = (e: BusEvents['message:state']) => {
    if (e.state !== 'failed' || d.pool.closing || !d.pool.has(e.receiverId)) return;
    report(e).catch((err: Error) => logger('flows').warn({ receiverId: e.receiverId, error: err.message }, 'could not report a failed task'));
  };
  d.bus.on('message:state', onState);
  return () => d.bus.off('message:state', onState);
}
