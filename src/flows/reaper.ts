import type { BusEvents } from '../bus/bus.js';
import { isReady } from '../status/types.js';
import { notify, type MessagingDeps } from './messaging.js';
import { logger } from '../util/log.js';

/**
 * The idle reaper: a worker that has sat ready (idle or completed), with no mail left to type into it and nobody
 * typing, for `idleMs` is stopped, and whoever started it gets a notice saying so. A worker that waits on a
 * question is left alone (a person may still answer it). One timer for the hub; returns the stop function.
 */
export function startReaper(d: MessagingDeps, idleMs: number): () => void {
  const lastActive = new Map<string, number>();
  const touch = (e: { terminalId: string }) => lastActive.set(e.terminalId, Date.now());
  const onStatus = (e: BusEvents['status']) => touch(e);
  const onInput = (e: BusEvents['input']) => touch(e);
  const onMail = (e: BusEvents['message:state']) => lastActive.set(e.receiverId, Date.now());
  d.bus.on('status', onStatus);
  d.bus.on('input', onInput);
  d.bus.on('message:state', onMail);
  const idle = (t: { id: string; createdAt: number; status: Parameters<typeof isReady>[0] }, now: number) =>
    isReady(t.status) && now - (lastActive.get(t.id) ?? t.createdAt) >= idleMs;
  let sweeping = false;
  const sweep = async () => {
    for (const t of d.pool.live()) {
      if (!idle(t, Date.now())) continue;
      const undelivered = await d.inbox.countUndelivered(t.id);
      // looked at again after the read: it may have been given work (or stopped) meanwhile
      if (undelivered || !d.pool.has(t.id) || !idle(t, Date.now())) continue;
      lastActive.delete(t.id);
      const secs = Math.round(idleMs / 1000);
      void d.pool
        .stop(t.id, `idle for ${secs} s (CAO_WORKER_IDLE_SECONDS)`)
        .then(async () => {
          if (t.creatorId)
            await notify(
              d,
              t.creatorId,
              t.id,
              `Worker ${t.id} (${t.profileName}) was stopped after ${secs} s with nothing to do (CAO_WORKER_IDLE_SECONDS); read_output and send_message can no longer reach it.`,
            );
        })
        .catch((e: Error) => logger('flows').warn({ terminalId: t.id, error: e.message }, 'could not stop an idle worker'));
    }
    for (const id of lastActive.keys()) if (!d.pool.has(id)) lastActive.delete(id);
  };
  const tick = () => {
    if (sweeping) return;
    sweeping = true;
    sweep()
      .catch((e: Error) => logger('flows').warn({ error: e.message }, 'the idle sweep failed'))
      .finally(() => (sweeping = false));
  };
  const timer = setInterval(tick, Math.min(60_000, Math.max(250, idleMs / 4)));
  timer.unref();
  return () => {
    clearInterval(timer);
    d.bus.off('status', onStatus);
    d.bus.off('input', onInput);
    d.bus.off('message:state', onMail);
  };
}
