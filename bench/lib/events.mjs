// Pulls the hub's bus events (status, input, inbox) every few ms into one list, and waits on them.
import { sleep } from './stats.mjs';

export class EventLog {
  constructor(hub, everyMs = 20) {
    this.hub = hub;
    this.all = [];
    this.stopped = false;
    this.loop = (async () => {
      while (!this.stopped) {
        const ev = await hub.events().catch(() => []);
        for (const e of ev) this.all.push(e);
        await sleep(everyMs);
      }
    })();
  }

  /** Resolves with the first event (at or after index `from`) matching `pred`. */
  async waitFor(pred, ms = 30_000, from = 0) {
    const deadline = Date.now() + ms;
    let i = from;
    for (;;) {
      for (; i < this.all.length; i++) if (pred(this.all[i])) return this.all[i];
      if (Date.now() > deadline) throw new Error(`event not seen within ${ms} ms`);
      await sleep(5);
    }
  }

  get length() {
    return this.all.length;
  }

  async stop() {
    this.stopped = true;
    await this.loop;
    const ev = await this.hub.events().catch(() => []);
    for (const e of ev) this.all.push(e);
  }
}

export const isReadyStatus = (s) => s === 'idle' || s === 'completed';
