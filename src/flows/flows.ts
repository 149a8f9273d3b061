import type { Turn } from '../agents/turn.js';
import type { Bus, BusEvents } from '../bus/bus.js';
import type { MessageRow } from '../db/schema.js';
import type { ListMessagesOptions, MessageQueue } from '../inbox/messages.js';
import type { Journal } from '../journal/journal.js';
import { agentsOf, listRuns, readTrace, type RunSummary, type Trace } from '../journal/queries.js';
import type { TerminalRegistry } from '../registry/terminals.js';
import { CaoError } from '../util/errors.js';
import { assign, reportFailedTasks } from './assign.js';
import { startReaper } from './reaper.js';
import { handoff } from './handoff.js';
import * as inspect from './inspect.js';
import { inboxMessage, readInbox, sendMessage, typeMessage } from './messaging.js';
import { watchScreen, type ScreenSink } from './screen-watch.js';
import type {
  AgentView,
  AnswerResult,
  AssignRequest,
  AssignResult,
  Caller,
  HandoffRequest,
  HandoffResult,
  InboxMessage,
  InboxRequest,
  OutputRequest,
  OutputResult,
  ProfileSummary,
  ProgressFn,
  SendRequest,
  SendResult,
  StopResult,
} from './types.js';
import type { WorkerPool } from './workers.js';

/** Bus events that change a run's summary (besides its agents starting and ending). */
const RUN_EVENTS = ['handoff:started', 'handoff:ended', 'assign:started', 'assign:ended'] as const;

export interface FlowsDeps {
  bus: Bus;
  registry: TerminalRegistry;
  inbox: MessageQueue;
  pool: WorkerPool;
  /** The run journal: flushed before a trace is read, so that it shows what just happened. */
  journal?: Journal;
  progressEveryMs?: number;
}

/**
 * A change the dashboard's live feed shows: an agent's row or a message changed, or a run did (one of its agents
 * started or ended, or a handoff or assign started or ended: its list of runs and a trace it shows are out of date).
 */
export type Change = { agent: string } | { message: number; receiver: string } | { run: string };

/**
 * The use cases, as one object: what every front (MCP over stdio or HTTP, the dashboard, `cao-mcp launch`)
 * calls. Typed and camelCase; each method is one flow of flows/*.ts. Refusals are CaoErrors with a typed code.
 */
export class Flows {
  private readonly stopReaper: () => void;

  constructor(private readonly d: FlowsDeps) {
    reportFailedTasks(d);
    this.stopReaper = startReaper(d, d.pool.limits.workerIdleMs);
  }

  /** The hub is stopping: no more reaping. */
  close(): void {
    this.stopReaper();
  }

  /** `signal`: a cancellation (the worker is stopped); `detach`: the caller went away (the worker is left running). */
  handoff(
    caller: Caller,
    req: HandoffRequest,
    opts: { progress?: ProgressFn; signal?: AbortSignal; detach?: AbortSignal } = {},
  ): Promise<HandoffResult> {
    return handoff(this.d.pool, caller, req, { ...opts, progressEveryMs: this.d.progressEveryMs });
  }

  assign(caller: Caller, req: AssignRequest): Promise<AssignResult> {
    return assign(this.d, caller, req);
  }

  sendMessage(caller: Caller, req: SendRequest): Promise<SendResult> {
    return sendMessage(this.d, caller, req);
  }

  readInbox(caller: Caller, req: InboxRequest, signal?: AbortSignal): Promise<InboxMessage[]> {
    return readInbox(this.d, caller, req, signal);
  }

  /** Workers only, as list_agents shows them. */
  listAgents(opts: { includeEnded?: boolean } = {}): Promise<AgentView[]> {
    return inspect.listAgents(this.d, { includeEnded: opts.includeEnded ?? false, kind: 'worker' });
  }

  readOutput(caller: Caller, req: OutputRequest, signal?: AbortSignal): Promise<OutputResult> {
    return inspect.readOutput(this.d, caller, req, signal);
  }

  answerQuestion(caller: Caller, terminalId: string, answer: string): Promise<AnswerResult> {
    return inspect.answerQuestion(this.d, caller, terminalId, answer);
  }

  stopAgent(caller: Caller, terminalId: string): Promise<StopResult> {
    return inspect.stopAgent(this.d, caller, terminalId);
  }

  listProfiles(caller: Caller, workingDirectory?: string): ProfileSummary[] {
    return inspect.listProfiles(this.d, caller, workingDirectory);
  }

  /**
   * read_trace: a run's tree with each agent's timeline, named by its run id, one of its terminals, or a supervisor
   * (its last run); no id: the caller's own run (a worker's), or the last one it started. Only a run the caller is in:
   * the supervisor (or operator) that started it, or one of its agents.
   */
  async readTrace(caller: Caller, id?: string): Promise<Trace> {
    const ref = id?.trim() || caller.id;
    await this.d.journal?.flush();
    const trace = await readTrace(this.d.registry.store, ref);
    const inRun = trace && (caller.kind === 'operator' || trace.run.callerId === caller.id || agentsOf(trace).includes(caller.id));
    if (!trace || !inRun)
      throw new CaoError('not_found', `no run of yours is named by "${ref}" (a run id, a terminal id of a run you are in, or a supervisor)`);
    return trace;
  }

  /** The most recent runs of the journal, newest first (what `cao-mcp runs` lists). */
  async runs(opts: { limit?: number } = {}): Promise<RunSummary[]> {
    await this.d.journal?.flush();
    return listRuns(this.d.registry.store, opts);
  }

  /** Makes sure an external supervisor has its row (and so an inbox). */
  async registerSupervisor(name: string): Promise<void> {
    await this.d.registry.ensureExternal(name);
  }

  /** Count of pending messages a receiver has. */
  countPending(receiverId: string): Promise<number> {
    return this.d.inbox.countPending(receiverId);
  }

  // --------------------------------------------------- the dashboard's query port (read-only, plus a person's keys)

  /** Every agent (supervisors too); ended ones only when they ended after `endedSince`, or all with `includeEnded`. */
  agents(opts: { includeEnded?: boolean; endedSince?: number } = {}): Promise<AgentView[]> {
    return inspect.listAgents(this.d, opts);
  }

  async agent(id: string): Promise<AgentView | undefined> {
    const row = await this.d.registry.getTerminal(id);
    return row ? inspect.agentView(this.d, row) : undefined;
  }

  async messages(q: ListMessagesOptions): Promise<InboxMessage[]> {
    return (await this.d.inbox.listMessages(q)).map(inboxMessage);
  }

  async message(id: number): Promise<InboxMessage | undefined> {
    const row = await this.d.inbox.getMessage(id);
    return row ? inboxMessage(row) : undefined;
  }

  /** A worker's live screen into the sink `open` makes (only once the worker is known to run here), until it ends or the sink closes. */
  async watchScreen(id: string, open: () => ScreenSink, opts: { scrollback: number }): Promise<void> {
    const t = await inspect.liveTerminal(this.d, id);
    watchScreen(open(), this.d.bus, t, opts);
  }

  typeKeys(caller: Caller, id: string, data: string): Promise<{ status: AgentView['status'] }> {
    return inspect.typeKeys(this.d, caller, id, data);
  }

  resize(caller: Caller, id: string, cols: number, rows: number): Promise<{ cols: number; rows: number }> {
    return inspect.resize(this.d, caller, id, cols, rows);
  }

  /** Calls `fn` for every change an agent list or a message timeline shows; returns the unsubscribe. */
  onChange(fn: (c: Change) => void): () => void {
    const { bus } = this.d;
    const onAgent = (e: { terminalId: string }) => fn({ agent: e.terminalId });
    const onMessage = (e: BusEvents['message:queued'] | BusEvents['message:state']) => fn({ message: e.messageId, receiver: e.receiverId });
    const onStart = (e: { terminalId: string }) => {
      fn({ agent: e.terminalId });
      fn({ run: e.terminalId });
    };
    const onRun = (e: { terminalId: string }) => fn({ run: e.terminalId });
    bus.on('status', onAgent);
    bus.on('terminal:created', onStart);
    bus.on('terminal:removed', onStart);
    bus.on('message:queued', onMessage);
    bus.on('message:state', onMessage);
    for (const t of RUN_EVENTS) bus.on(t, onRun);
    return () => {
      bus.off('status', onAgent);
      bus.off('terminal:created', onStart);
      bus.off('terminal:removed', onStart);
      bus.off('message:queued', onMessage);
      bus.off('message:state', onMessage);
      for (const t of RUN_EVENTS) bus.off(t, onRun);
    };
  }

  /** Calls `fn` when a message is queued for `receiverId` (an external supervisor's MCP session tells its client). */
  onMailFor(receiverId: string, fn: (m: { messageId: number; senderId: string }) => void): () => void {
    const on = (e: BusEvents['message:queued']) => {
      if (e.receiverId === receiverId) fn({ messageId: e.messageId, senderId: e.senderId });
    };
    this.d.bus.on('message:queued', on);
    return () => this.d.bus.off('message:queued', on);
  }

  /** A worker's CLI asked for the tool list: its MCP tools are about to be usable (some CLIs wait for this). */
  toolsListed(terminalId: string): void {
    this.d.bus.emit('mcp:tools-listed', { terminalId });
  }

  /** The delivery service's port: types one inbox message into a worker of this hub. */
  typeMessage(terminalId: string, m: MessageRow): Promise<Turn> {
    return typeMessage(this.d, terminalId, m);
  }
}
