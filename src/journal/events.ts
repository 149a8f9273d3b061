import type { AssignOutcome, HandoffOutcome, RequeueReason } from '../bus/bus.js';
import type { MessageKind, TerminalKind } from '../db/schema.js';
import type { StatusCause } from '../status/cause.js';
import type { AgentStatus } from '../status/types.js';

/**
 * The catalogue of journal events: what the run journal records, one row each, with the detail each carries. Kinds,
 * sizes, ids and outcomes only: never a message's body, a task's text, an answer or anything typed.
 *
 * Every row also has its time (`at`, ms since the epoch), its terminal (the agent it is about: for a message, the
 * receiver), its caller (who caused it: the creator of a terminal, the caller of a handoff or assign, the sender of
 * a message, the one who answered a question; null for what the agent or the hub did by itself) and its run (the
 * tree of delegations it belongs to; null for the hub's own events, supervisors and warm spares nobody took).
 */
export type JournalEvent =
  /** This hub is up. */
  | { type: 'hub.started'; detail: { hubId: string; pid: number; mode: string; version: string } }
  /** What this hub took over at start: workers adopted from the pty host, workers of a dead hub ended. */
  | { type: 'hub.recovered'; detail: { hubId: string; adopted: number; ended: number; failedMessages: number } }
  /** This hub stopped cleanly: `workers` it ran then, ended with it or (`keepWorkers`) left for the next hub. */
  | { type: 'hub.stopped'; detail: { hubId: string; keepWorkers: boolean; workers: number } }
  /** A terminal was registered (a worker started, a warm spare started (`spare`), a supervisor's row made). */
  | {
      type: 'terminal.created';
      detail: { kind: TerminalKind | null; provider: string | null; profile: string | null; spare: boolean };
    }
  /** A warm spare was taken by a caller: from now on it is that caller's worker, in that caller's run. */
  | { type: 'terminal.taken'; detail: { provider: string | null; profile: string | null } }
  /** Its start-up is over: the first status after `starting`. */
  | { type: 'terminal.ready'; detail: { status: AgentStatus } }
  /** Its status changed, and why. */
  | { type: 'status.changed'; detail: { status: AgentStatus; previous: AgentStatus; cause: StatusCause } }
  /** It shows a question or a permission dialog (status `waiting_user_answer`). */
  | { type: 'question.raised'; detail: { previous: AgentStatus; cause: StatusCause } }
  /** A caller answered it: an option number or text (its size only). */
  | { type: 'question.answered'; detail: { kind: 'option' | 'text'; bytes: number } }
  /** Input was written into it: by cao-mcp (`paste`, `keys`) or by a person (`user`: consecutive writes are summed). */
  | { type: 'input.submitted'; detail: { kind: 'paste' | 'keys' | 'user'; bytes: number; writes: number } }
  /** A message for it was stored (terminal: the receiver, caller: the sender). */
  | { type: 'message.queued'; detail: { messageId: number; kind: MessageKind | null; bytes: number | null } }
  /** It was claimed for typing, typed (delivered: or taken from the inbox by a supervisor), or failed. */
  | { type: 'message.claimed'; detail: { messageId: number } }
  | { type: 'message.delivered'; detail: { messageId: number } }
  | { type: 'message.failed'; detail: { messageId: number; error: string | null } }
  /**
   * Back in the queue, nothing of it typed: after a failed attempt (`retry`), a hub's death while it was claimed
   * (`adoption`), or a claim whose answer was lost with the database connection (`claim`).
   */
  | { type: 'message.requeued'; detail: { messageId: number; why: RequeueReason; error: string | null } }
  /** A handoff or an assign started this worker (caller: who asked), and how it ended. */
  | { type: 'handoff.started'; detail: DelegationDetail }
  | { type: 'handoff.ended'; detail: { outcome: HandoffOutcome; durationMs: number } }
  | { type: 'assign.started'; detail: DelegationDetail }
  | { type: 'assign.ended'; detail: { outcome: AssignOutcome; durationMs: number } }
  /** It ended: its last status, and why (stopped by whom, exited with which code, the hub restarted…). */
  | { type: 'terminal.ended'; detail: { status: AgentStatus | null; reason: string | null } };

/** What a handoff or assign asked for: never the task itself, only its size. */
export interface DelegationDetail {
  profile: string;
  provider: string;
  bytes: number;
  warm: boolean;
  worktree: boolean;
}

export type JournalEventType = JournalEvent['type'];
export type JournalDetail<T extends JournalEventType> = Extract<JournalEvent, { type: T }>['detail'];

/** Every type of the catalogue, in the order a reader meets them. */
export const JOURNAL_EVENT_TYPES = [
  'hub.started',
  'hub.recovered',
  'hub.stopped',
  'terminal.created',
  'terminal.taken',
  'terminal.ready',
  'status.changed',
  'question.raised',
  'question.answered',
  'input.submitted',
  'message.queued',
  'message.claimed',
  'message.delivered',
  'message.failed',
  'message.requeued',
  'handoff.started',
  'handoff.ended',
  'assign.started',
  'assign.ended',
  'terminal.ended',
] as const satisfies readonly JournalEventType[];

/** One journal row as it is read back: the event with its time, run, terminal and caller. */
export type JournalEntry = JournalEvent & {
  id: number;
  at: number;
  runId: string | null;
  terminalId: string | null;
  callerId: string | null;
};
