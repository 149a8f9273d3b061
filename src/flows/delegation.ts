import type { DelegationStarted } from '../bus/bus.js';
import type { Caller } from './types.js';
import type { StartedWorker } from './workers.js';

/** What handoff and assign announce when their worker is there: who, for whom, how big the task (never its text). */
export function delegationStarted(caller: Caller, w: StartedWorker, message: string): DelegationStarted {
  return {
    terminalId: w.terminal.id,
    callerId: caller.id,
    profile: w.profile.name,
    provider: w.terminal.provider.id,
    bytes: Buffer.byteLength(message),
    warm: w.warm,
    worktree: w.worktree !== null,
  };
}
