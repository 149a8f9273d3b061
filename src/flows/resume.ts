import { announce } from '../bus/bus.js';
import { openDelegations, type JournalStore } from '../journal/queries.js';
import { watchAssigned } from './assign.js';
import type { MessagingDeps } from './messaging.js';

/**
 * The handoffs and assigns a previous hub began and never saw end (it died, or stopped leaving its workers to this
 * one), so that every one the journal opened is closed:
 * - an assigned worker this hub adopted is watched again, from its original start, as if no hub had restarted;
 * - an assigned worker that ended meanwhile ends its assign now: `reported` if it had sent its assigner a message;
 * - a handoff's call went with the hub that served it: `detached` when its worker runs on here, else `failed`.
 * Returns how many were resumed and ended.
 */
export async function resumeDelegations(
  d: MessagingDeps,
  store: JournalStore,
  workers: { adopted: readonly string[]; ended: readonly string[] },
  now = Date.now(),
): Promise<{ resumed: number; ended: number }> {
  const adopted = new Set(workers.adopted);
  const out = { resumed: 0, ended: 0 };
  for (const o of await openDelegations(store, [...workers.adopted, ...workers.ended])) {
    const live = adopted.has(o.terminalId);
    const durationMs = now - o.at;
    if (o.via === 'handoff') {
      announce(d.bus, 'handoff:ended', { terminalId: o.terminalId, callerId: o.callerId, outcome: live ? 'detached' : 'failed', durationMs });
      out.ended++;
      continue;
    }
    const reported = (await d.inbox.listMessages({ senderId: o.terminalId, receiverId: o.callerId, limit: 1 })).length > 0;
    if (live) {
      watchAssigned(d, o.callerId, o.terminalId, { startedAt: o.at, reported });
      out.resumed++;
    } else {
      announce(d.bus, 'assign:ended', { terminalId: o.terminalId, callerId: o.callerId, outcome: reported ? 'reported' : 'ended', durationMs });
      out.ended++;
    }
  }
  return out;
}
