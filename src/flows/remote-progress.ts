import type { TerminalRegistry } from '../registry/terminals.js';
import type { TerminalRow } from '../db/schema.js';
import type { Caller, ProgressFn } from './types.js';

/**
 * While another host carries out a caller's handoff, its worker's status as progress notifications: the call between
 * the hubs answers only at the end, but the worker's row (written by the hub that runs it) is in the shared database.
 * The worker is the caller's first one on that host that was not there when the call started (a warm spare taken
 * for it counts: it becomes the caller's then). Returns the function that stops it.
 */
export function relayRemoteProgress(
  d: { registry: TerminalRegistry; hostOf: (hubId: string | null) => string | null },
  caller: Caller,
  host: string,
  totalMs: number,
  progress: ProgressFn,
  everyMs: number,
): () => void {
  const started = Date.now();
  const mine = async () =>
    (await d.registry.listTerminals({ kind: 'worker' })).filter((r) => r.creatorId === caller.id && d.hostOf(r.hubId) === host);
  const before = mine().then(
    (rows) => new Set(rows.map((r) => r.id)),
    () => new Set<string>(),
  );
  let worker: string | null = null;
  let looking = false;
  const look = async () => {
    if (looking) return;
    looking = true;
    try {
      let row: TerminalRow | null | undefined;
      if (worker) row = await d.registry.getTerminal(worker);
      else {
        const known = await before;
        row = (await mine()).find((r) => !known.has(r.id));
      }
      if (!row) return;
      worker = row.id;
      const message = `${row.profile ?? 'worker'} (${row.provider ?? '?'}, terminal ${row.id} on host ${host}): ${row.status}`;
      progress({ elapsedMs: Date.now() - started, totalMs, message, terminalId: row.id });
    } catch {
      /* the database did not answer this time: the next look tries again */
    } finally {
      looking = false;
    }
  };
  const first = setTimeout(() => void look(), Math.min(1000, everyMs));
  const timer = setInterval(() => void look(), everyMs);
  return () => {
    clearTimeout(first);
    clearInterval(timer);
  };
}
