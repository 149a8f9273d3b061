import type { Turn } from '../agents/turn.js';
import type { Bus, BusEvents } from '../bus/bus.js';
import type { MessageRow } from '../db/schema.js';
import type { ListMessagesOptions, MessageQueue } from '../inbox/messages.js';
import type { Journal } from '../journal/journal.js';
import { agentsOf, listRuns, readTrace, type RunSummary, type Trace } from '../journal/queries.js';
import type { TerminalRegistry } from '../registry/terminals.js';
import type { Cluster, RemoteKind } from '../hosts/cluster.js';
import { loadProfile } from '../profiles/profile.js';
import { CaoError } from '../util/errors.js';
import { assign, reportFailedTasks } from './assign.js';
import { startReaper } from './reaper.js';
import { handoff } from './handoff.js';
import { relayRemoteProgress } from './remote-progress.js';
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
  HostView,
  WorkerRequest,
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
  /**
   * Many hosts: the host a hub id runs on (what listings show); set with the cluster. `live`: a live worker's, read
   * from the database when the last sweep had not seen its hub yet (a host that joined since).
   */
  hostOf?: (hubId: string | null, live: boolean) => Promise<string | null>;
}

const noHosts = () =>
  new CaoError(
    'bad_request',
    'host is for many machines: this hub runs on one (its store is the SQLite file; set CAO_DATABASE_URL=postgres://… on every host)',
  );

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

  private cluster: Cluster | null = null;

  constructor(private readonly d: FlowsDeps) {
    reportFailedTasks(d);
    this.stopReaper = startReaper(d, d.pool.limits.workerIdleMs);
  }

  /** The hub is stopping: no more reaping. */
  close(): void {
    this.stopReaper();
  }

  /** Many hosts: placement, and calls about another host's workers carried out by their hub (hub.ts sets it). */
  useCluster(c: Cluster): void {
    this.cluster = c;
    this.d.hostOf = async (hubId, live) => c.node.knownHostOf(hubId) ?? (live && hubId !== null ? c.node.hostOfHub(hubId) : null);
  }

  /**
   * `signal`: a cancellation (the worker is stopped); `detach`: the caller went away (the worker is left running).
   * Many hosts: on the host asked for (`host`), or the one placement picks; another host's handoff is carried out by
   * its hub, and answers as it would here; meanwhile its worker's status, read from the shared registry, is the progress.
   */
  async handoff(
    caller: Caller,
    req: HandoffRequest,
    opts: { progress?: ProgressFn; signal?: AbortSignal; detach?: AbortSignal } = {},
  ): Promise<HandoffResult> {
    const c = this.cluster;
    if (!c) {
      if (req.host !== undefined) throw noHosts();
      return handoff(this.d.pool, caller, req, { ...opts, progressEveryMs: this.d.progressEveryMs });
    }
    const slot = await c.place(req.host, this.labelsFor(caller, req));
    if (!slot.local) {
      const totalMs = (req.timeoutSec ?? 600) * 1000;
      const hostOf = (hubId: string | null) => c.node.knownHostOf(hubId);
      const stop = opts.progress
        ? relayRemoteProgress({ registry: this.d.registry, hostOf }, caller, slot.host, totalMs, opts.progress, this.d.progressEveryMs ?? 5000)
        : () => undefined;
      try {
        return await c.on<HandoffResult>(slot.host, 'handoff', caller, { ...req, host: slot.host, slotHeld: true }, totalMs + 60_000);
      } finally {
        stop();
      }
    }
    return this.handoffHere(caller, req, opts);
  }

  /** A handoff on this host, its placement slot given back once its worker started (or failed to). */
  private async handoffHere(caller: Caller, req: HandoffRequest, opts: { progress?: ProgressFn; signal?: AbortSignal; detach?: AbortSignal } = {}) {
    const c = this.cluster!;
    let held = true;
    const release = (started: boolean) => {
      if (!held) return;
      held = false;
      void c.release(c.host, started).catch(() => undefined);
    };
    const progress: ProgressFn = (p) => {
      release(true); // the first progress comes once its worker runs
      opts.progress?.(p);
    };
    try {
      const r = await handoff(this.d.pool, caller, req, { ...opts, progress, progressEveryMs: this.d.progressEveryMs });
      return { ...r, host: c.host };
    } finally {
      release(false);
    }
  }

  async assign(caller: Caller, req: AssignRequest): Promise<AssignResult> {
    const c = this.cluster;
    if (!c) {
      if (req.host !== undefined) throw noHosts();
      return assign(this.d, caller, req);
    }
    const slot = await c.place(req.host, this.labelsFor(caller, req));
    if (!slot.local) return c.on<AssignResult>(slot.host, 'assign', caller, { ...req, host: slot.host, slotHeld: true }, 120_000);
    return this.assignHere(caller, req);
  }

  private async assignHere(caller: Caller, req: AssignRequest): Promise<AssignResult> {
    const c = this.cluster!;
    let started = false;
    try {
      const r = await assign(this.d, caller, req);
      started = true;
      return { ...r, host: c.host };
    } finally {
      await c.release(c.host, started).catch(() => undefined);
    }
  }

  /** The labels the profile prefers hosts by (`host_labels`), when this host knows the profile. */
  private labelsFor(caller: Caller, req: WorkerRequest): string[] | undefined {
    try {
      return loadProfile(req.agentProfile, this.d.pool.workingDirectoryOf(caller, req.workingDirectory)).hostLabels;
    } catch {
      return undefined; // not here: the host it runs on reads it (and refuses it if it has none)
    }
  }

  /** The local call, or, for a worker another host's hub owns, the same call carried out there. */
  private async routed<T>(
    terminalId: string,
    caller: Caller,
    kind: RemoteKind,
    args: Record<string, unknown>,
    local: () => Promise<T>,
    timeoutMs?: number,
  ): Promise<T> {
    try {
      return await local();
    } catch (e) {
      if (!(e instanceof CaoError && e.code === 'not_here') || !this.cluster) throw e;
      return this.cluster.about<T>(terminalId, kind, caller, args, timeoutMs);
    }
  }

  /** What another host asks of this one (its call about one of this hub's workers, or a worker placed here). */
  async run(kind: RemoteKind, caller: Caller, args: Record<string, unknown>): Promise<unknown> {
    switch (kind) {
      case 'handoff':
        return this.handoffHere(caller, args as unknown as HandoffRequest);
      case 'assign':
        return this.assignHere(caller, args as unknown as AssignRequest);
      case 'read_output':
        return inspect.readOutput(this.d, caller, args as unknown as OutputRequest);
      case 'answer_question':
        return inspect.answerQuestion(this.d, caller, String(args.terminalId), String(args.answer));
      case 'stop_agent':
        return inspect.stopAgent(this.d, caller, String(args.terminalId));
    }
  }

  /** Every host sharing the database (many hosts), or null on one machine. */
  async hosts(): Promise<HostView[] | null> {
    if (!this.cluster) return null;
    return (await this.cluster.node.list()).map((h) => ({
      name: h.name,
      state: h.state === 'live' && h.leaseLeftMs < 0 ? 'unanswered' : h.state,
      capacity: h.capacity,
      workers: h.workers,
      reserved: h.reserved,
      labels: h.labels,
      heartbeatAt: h.heartbeatAt,
      reason: h.reason,
      self: h.name === this.cluster!.host,
    }));
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
    const waitMs = (req.waitSeconds ?? 0) * 1000 + 30_000;
    return this.routed(req.terminalId, caller, 'read_output', { ...req }, () => inspect.readOutput(this.d, caller, req, signal), waitMs);
  }

  answerQuestion(caller: Caller, terminalId: string, answer: string): Promise<AnswerResult> {
    return this.routed(terminalId, caller, 'answer_question', { terminalId, answer }, () =>
      inspect.answerQuestion(this.d, caller, terminalId, answer),
    );
  }

  stopAgent(caller: Caller, terminalId: string): Promise<StopResult> {
    return this.routed(terminalId, caller, 'stop_agent', { terminalId }, () => inspect.stopAgent(this.d, caller, terminalId));
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
  onMailFor(receiverId: string, fn: (m: { messageId: number | null; senderId: string | null }) => void): () => void {
    const on = (e: BusEvents['message:queued']) => {
      if (e.receiverId === receiverId) fn({ messageId: e.messageId, senderId: e.senderId });
    };
    // mail another hub stored (many hosts): its id and sender are in the inbox, not in the wake-up
    const arrived = (e: BusEvents['mail:arrived']) => {
      if (e.receiverId === receiverId) fn({ messageId: null, senderId: null });
    };
    this.d.bus.on('message:queued', on);
    this.d.bus.on('mail:arrived', arrived);
    return () => {
      this.d.bus.off('message:queued', on);
      this.d.bus.off('mail:arrived', arrived);
    };
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
