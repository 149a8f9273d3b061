import mittImport, { type Emitter } from 'mitt';
import type { StatusCause } from '../status/cause.js';
import type { AgentStatus } from '../status/types.js';

export type MessageState = 'pending' | 'delivering' | 'delivered' | 'failed';

/**
 * All events of the process, on one typed bus. Publishers never call consumers directly.
 * Payloads are plain data so that a dashboard can forward them as they are.
 */
export type BusEvents = {
  /** Raw output of a terminal's pty (already decoded as UTF-8 by node-pty, split-safe). */
  output: { terminalId: string; data: string };
  /**
   * The rendered screen of a terminal was parsed and is worth a look: `quiet` = no output for the quiet
   * window (a whole frame); not quiet = output kept streaming past the longest wait, snapshot taken anyway.
   */
  settled: { terminalId: string; at: number; quiet: boolean };
  /** Status changed (published only on change), and why. */
  status: {
    terminalId: string;
    status: AgentStatus;
    previous: AgentStatus;
    at: number;
    /** Why it changed (typed; `describeCause` gives the text stored and shown). */
    cause: StatusCause;
  };
  /** A terminal (worker or external supervisor) was registered / removed. */
  'terminal:created': { terminalId: string };
  'terminal:removed': { terminalId: string };
  /** Input was written to a terminal: by cao-mcp (`paste`, `keys`) or by a person (`user`: launch, attach --write, dashboard). */
  input: { terminalId: string; bytes: number; kind: 'paste' | 'keys' | 'user' };
  /** A worker CLI asked its cao MCP server for the tool list (its tools are about to be usable). */
  'mcp:tools-listed': { terminalId: string };
  /** Inbox: a message was stored, or changed state. */
  'message:queued': { messageId: number; senderId: string; receiverId: string };
  'message:state': { messageId: number; receiverId: string; state: MessageState; error?: string };
};

export type Bus = Emitter<BusEvents>;

// mitt's typings describe a CommonJS module; at runtime the ESM default export is the factory.
const mitt = mittImport as unknown as <E extends Record<string, unknown>>() => Emitter<E>;

export function createBus(): Bus {
  return mitt<BusEvents>();
}

/**
 * Announces a change that has already committed: a subscriber's exception must not undo the caller's success
 * (the store's writers use this; it is logged on stderr instead).
 */
export function announce<K extends keyof BusEvents>(bus: Bus | undefined, type: K, payload: BusEvents[K]): void {
  if (!bus) return;
  try {
    bus.emit(type, payload);
  } catch (err) {
    process.stderr.write(`cao-mcp: a ${String(type)} subscriber threw: ${String(err)}\n`);
  }
}
