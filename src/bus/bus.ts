import mittImport, { type Emitter } from 'mitt';
import type { StatusCause } from '../status/cause.js';
import type { AgentStatus } from '../status/types.js';
import { logger } from '../util/log.js';

export type MessageState = 'pending' | 'delivering' | 'delivered' | 'failed';
/** Why a claimed message went back to pending with nothing of it typed (see `message:state`). */
export type RequeueReason = 'retry' | 'adoption' | 'claim';

/** How a handoff ended (its answer came, or why not). */
export type HandoffOutcome =
  'completed' | 'timeout' | 'question' | 'exited' | 'error' | 'startup_failed' | 'not_accepted' | 'cancelled' | 'detached' | 'failed';

/** How an assigned worker ended: after reporting to its assigner, without, or before it ever started. */
export type AssignOutcome = 'reported' | 'ended' | 'startup_failed' | 'not_queued';

/** A handoff or assign began: its worker is registered (what, never the task's text: only its size). */
export interface DelegationStarted {
  terminalId: string;
  callerId: string;
  profile: string;
  provider: string;
  /** Size of the task in bytes (UTF-8). */
  bytes: number;
  warm: boolean;
  worktree: boolean;
}

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
  'message:queued': { messageId: number; senderId: string; receiverId: string; kind?: 'message' | 'task' | 'notice'; bytes?: number };
  /** Another hub stored mail for this receiver (many hosts: a NOTIFY from the shared database). */
  'mail:arrived': { receiverId: string };
  /**
   * `requeued`, with state `pending`: back in the queue after a failed attempt (`retry`), a hub's death before any of it
   * was typed (`adoption`), or a claim whose answer the database connection lost, so nothing of it was typed (`claim`).
   */
  'message:state': { messageId: number; receiverId: string; state: MessageState; error?: string; requeued?: RequeueReason };
  /** The flows: a handoff / an assign started its worker, and how it ended. */
  'handoff:started': DelegationStarted;
  'handoff:ended': { terminalId: string; callerId: string; outcome: HandoffOutcome; durationMs: number };
  'assign:started': DelegationStarted;
  'assign:ended': { terminalId: string; callerId: string; outcome: AssignOutcome; durationMs: number };
  /** A caller answered a worker's question (an option number, or text: only its size). */
  'question:answered': { terminalId: string; callerId: string; kind: 'option' | 'text'; bytes: number };
  /** This hub is up (listening), and what it took over from a previous one at start. */
  'hub:started': { hubId: string; pid: number; mode: string; version: string };
  'hub:recovered': { hubId: string; adopted: number; ended: number; failedMessages: number };
  /** This hub is stopping: its workers end with it, or (`keepWorkers`) run on for the next hub to adopt. */
  'hub:stopped': { hubId: string; keepWorkers: boolean; workers: number };
};

export type Bus = Emitter<BusEvents>;

// mitt's typings describe a CommonJS module; at runtime the ESM default export is the factory.
const mitt = mittImport as unknown as <E extends Record<string, unknown>>() => Emitter<E>;

export function createBus(): Bus {
  return mitt<BusEvents>();
}

/**
 * Announces a change that has already committed: a subscriber's exception must not undo the caller's success
 * (the store's writers use this; it is logged instead).
 */
export function announce<K extends keyof BusEvents>(bus: Bus | undefined, type: K, payload: BusEvents[K]): void {
  if (!bus) return;
  try {
    bus.emit(type, payload);
  } catch (err) {
    logger('bus').error({ err, event: String(type) }, 'a subscriber threw');
  }
}
