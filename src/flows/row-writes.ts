import { logger } from '../util/log.js';

/**
 * The registry writes of the pool's workers (statuses, ends), in order per worker: a write starts once the one
 * before it of the same worker has settled, so an engine whose calls could overtake each other (a pool of
 * connections) still records them in the order of the events; with none under way it starts at once. A failure is
 * logged, never thrown. `idle()` waits for the writes under way (the hub's shutdown, before the store closes).
 */
export class RowWrites {
  private readonly last = new Map<string, Promise<void>>();
  /** The last write of each worker still waiting for the one before it. */
  private readonly queued = new Map<string, { replace?: string; what: string; write: () => Promise<unknown>; done: Promise<void> }>();

  /**
   * `replace`: a write of this kind still waiting (not yet started) is replaced by this one instead of queued after
   * it (a status only matters as the last one: under load a worker's statuses come faster than the database answers).
   */
  record(terminalId: string, what: string, write: () => Promise<unknown>, replace?: string): Promise<void> {
    const waiting = replace ? this.queued.get(terminalId) : undefined;
    if (waiting && waiting.replace === replace) {
      waiting.write = write;
      waiting.what = what;
      return waiting.done;
    }
    const slot = { replace, what, write, done: Promise.resolve() };
    const run = () => {
      if (this.queued.get(terminalId) === slot) this.queued.delete(terminalId);
      return slot.write().then(
        () => undefined,
        (e: Error) => logger('workers').warn({ terminalId, error: e.message }, `could not record ${slot.what}`),
      );
    };
    const before = this.last.get(terminalId);
    if (before) this.queued.set(terminalId, slot);
    const next = before ? before.then(run) : run();
    slot.done = next;
    this.last.set(terminalId, next);
    void next.then(() => {
      if (this.last.get(terminalId) === next) this.last.delete(terminalId);
    });
    return next;
  }

  async idle(): Promise<void> {
    await Promise.allSettled([...this.last.values()]);
  }
}
