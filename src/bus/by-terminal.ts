import type { Bus, BusEvents } from './bus.js';

/** Bus events that belong to one terminal. */
export type TerminalEventType = { [K in keyof BusEvents]: BusEvents[K] extends { terminalId: string } ? K : never }[keyof BusEvents];

type Handler = (e: { terminalId: string }) => void;
const routers = new WeakMap<Bus, Map<TerminalEventType, Map<string, Set<Handler>>>>();

/**
 * Subscribes to the events of one terminal. Every terminal has its own consumers of the high-rate events (its
 * screen and its log on `output`, its status monitor on `settled`); subscribed to the bus directly, each
 * would be called for every terminal's events only to return at once, and mitt copies its handler list on
 * every emit: O(agents²) calls per second. Here one bus listener per event type dispatches by terminal id.
 * Returns the unsubscribe function.
 */
export function onTerminal<K extends TerminalEventType>(bus: Bus, type: K, terminalId: string, handler: (e: BusEvents[K]) => void): () => void {
  let types = routers.get(bus);
  if (!types) routers.set(bus, (types = new Map()));
  let table = types.get(type);
  if (!table) {
    const byId = new Map<string, Set<Handler>>();
    types.set(type, (table = byId));
    bus.on(type, (e: BusEvents[K]) => {
      const hs = byId.get((e as { terminalId: string }).terminalId);
      if (!hs) return;
      if (hs.size === 1) for (const h of hs) h(e as { terminalId: string });
      else for (const h of [...hs]) h(e as { terminalId: string }); // a handler may (un)subscribe others
    });
  }
  let hs = table.get(terminalId);
  if (!hs) table.set(terminalId, (hs = new Set()));
  const h = handler as Handler;
  hs.add(h);
  return () => {
    const set = table.get(terminalId);
    if (!set?.delete(h) || set.size) return;
    table.delete(terminalId);
  };
}
