import type { Terminal } from '../agents/terminal.js';
import type { Bus, BusEvents } from '../bus/bus.js';

/**
 * Resolves once the worker's CLI has asked our MCP server for its tools (`listed` holds the workers that did), it
 * exits, or `ms` pass (it is then taken as started without).
 */
export function toolsListedBy(bus: Bus, listed: ReadonlySet<string>, t: Terminal, ms: number): Promise<void> {
  if (listed.has(t.id) || !t.alive) return Promise.resolve();
  return new Promise((done) => {
    const finish = () => {
      clearTimeout(timer);
      bus.off('mcp:tools-listed', onListed);
      bus.off('status', onStatus);
      done();
    };
    const onListed = (e: BusEvents['mcp:tools-listed']) => e.terminalId === t.id && finish();
    const onStatus = (e: BusEvents['status']) => e.terminalId === t.id && e.status === 'exited' && finish();
    const timer = setTimeout(finish, ms);
    bus.on('mcp:tools-listed', onListed);
    bus.on('status', onStatus);
  });
}
