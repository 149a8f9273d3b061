import { logger } from '../util/log.js';

/**
 * The registry writes of the pool's workers (statuses, ends), in order per worker: a write starts once the one
 * before it of the same worker has settled, so an engine whose calls could overtake each other (a pool of
 * connections) still records them in the order of the events; with none under way it starts at once. A failure is
 * logged, never thrown. `idle()` waits for the writes under way (the hub's shutdown, before the store closes).
 */
export class RowWrites {
  private readonly last = new Map<string, Promise<void>>();

  record(terminalId: string, what: string, write: () => Promise<unknown>): Promise<void> {
    const run = () =>
      write().then(
        () => undefined,
        (e: Error) => logger('workers').warn({ terminalId, error: e.message }, `could not record ${what}`),
      );
    const before = this.last.get(terminalId);
    const next = before ? before.then(run) : run();
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
