import { ROOT_CONTEXT, SpanStatusCode, trace, type Attributes, type Span, type Tracer } from '@opentelemetry/api';
import type { Bus, BusEvents } from '../bus/bus.js';
import type { TerminalRow } from '../db/schema.js';
import { AgentSpans, failedOutcome } from './agent.js';
import { traceIdOfRun, type RunTraceIds } from './ids.js';
import { logger } from '../util/log.js';

/** What the consumer reads of a terminal's row when it is registered and when it ends. */
export type TerminalLookup = (
  id: string,
) => Pick<TerminalRow, 'kind' | 'provider' | 'profile' | 'creatorId' | 'runId' | 'status' | 'lastError' | 'endedAt'> | undefined;

/** Ids remembered as no agent of a run, and senders of messages in flight, at most (then forgotten). */
const OTHERS_MAX = 10_000;

const attributesOf = (t: NonNullable<ReturnType<TerminalLookup>>): Attributes => ({
  'cao.provider': t.provider ?? '',
  'cao.profile': t.profile ?? '',
  'cao.creator': t.creatorId ?? '',
});

/** A run's root task: the supervisor's handoff or assign that started its first worker. */
interface Root {
  span: Span;
  /** Its handoff or assign was announced and has not ended yet: the root ends when it does, not with its agent. */
  delegating: boolean;
}

/**
 * The bus consumer that turns a run into a trace: the root task's span (the supervisor's handoff or assign) is the
 * trace's root, its trace id derived from the run id; each agent of the run is a span (registered → ended), each of
 * its turns a child span; a worker another worker started is a child of that worker's turn in progress (else of its
 * agent span), so a chain of delegations is one tree. Messages and questions are span events (on the agent). Handlers only touch
 * spans in memory (the batch processor exports them later) and never throw at the publisher.
 */
export class RunSpans {
  private readonly agents = new Map<string, AgentSpans>();
  private readonly roots = new Map<string, Root>();
  /** Warm spares nobody took yet (no run: no span until one is taken). */
  private readonly spares = new Set<string>();
  /** Message id → sender, from queued to delivered or failed. */
  private readonly senders = new Map<number, string>();
  /** Terminals heard of that are no agent of a run (supervisors, ended ones): not looked up again until registered. */
  private readonly others = new Set<string>();
  /** Agents ended whose span waits one turn of the event loop for how their assign ended (announced right after). */
  private readonly ending = new Map<string, { at: number; row: ReturnType<TerminalLookup> }>();
  private readonly offs: (() => void)[] = [];
  private timer: NodeJS.Immediate | null = null;

  constructor(
    private readonly bus: Bus,
    private readonly tracer: Tracer,
    private readonly ids: RunTraceIds,
    private readonly lookup: TerminalLookup,
  ) {
    this.on('terminal:created', (e) => this.created(e.terminalId));
    this.on('terminal:removed', (e) => this.removed(e.terminalId));
    this.on('input', (e) => (this.agents.get(e.terminalId) ?? this.adopted(e.terminalId))?.input(e));
    this.on('status', (e) => (this.agents.get(e.terminalId) ?? this.adopted(e.terminalId))?.status(e));
    this.on('handoff:started', (e) => this.delegated('handoff', e));
    this.on('assign:started', (e) => this.delegated('assign', e));
    this.on('handoff:ended', (e) => this.delegationEnded(e.terminalId, e.outcome));
    this.on('assign:ended', (e) => this.delegationEnded(e.terminalId, e.outcome));
    this.on('message:queued', (e) => {
      if (this.senders.size >= OTHERS_MAX) this.senders.clear(); // messages never delivered nor failed (a supervisor's unread mail)
      this.senders.set(e.messageId, e.senderId);
      this.message('message.queued', e.messageId, e.senderId, e.receiverId);
    });
    this.on('message:state', (e) => {
      if (e.state !== 'delivered' && e.state !== 'failed') return;
      const sender = this.senders.get(e.messageId) ?? null;
      this.senders.delete(e.messageId);
      this.message(`message.${e.state}`, e.messageId, sender, e.receiverId, e.state === 'failed' ? { 'cao.message.error': e.error ?? '' } : {});
    });
    this.on('question:answered', (e) =>
      this.agents
        .get(e.terminalId)
        ?.span.addEvent('question.answered', { 'cao.answer.kind': e.kind, 'cao.answer.bytes': e.bytes, 'cao.answered_by': e.callerId }),
    );
  }

  private on<K extends keyof BusEvents>(type: K, fn: (e: BusEvents[K]) => void): void {
    const guarded = (e: BusEvents[K]) => {
      try {
        fn(e);
      } catch (err) {
        logger('telemetry').error({ error: String(err) }, 'a span handler threw');
      }
    };
    this.bus.on(type, guarded);
    this.offs.push(() => this.bus.off(type, guarded));
  }

  private created(id: string): void {
    this.others.delete(id);
    const t = this.lookup(id);
    if (!t || t.kind !== 'worker' || this.agents.has(id)) return;
    if (!t.runId) {
      if (t.creatorId === null) this.spares.add(id);
      return;
    }
    const attributes = attributesOf(t);
    if (this.spares.delete(id)) attributes['cao.warm'] = true;
    const creator = t.creatorId ? this.agents.get(t.creatorId) : undefined;
    let parent = creator && !creator.ended && creator.runId === t.runId ? creator.context : null;
    if (!parent) {
      // the run's first worker: its root task's span starts the run's trace
      this.ids.forNextRoot(traceIdOfRun(t.runId));
      const span = this.tracer.startSpan('run', { attributes: { 'cao.run_id': t.runId, 'cao.terminal_id': id, ...attributes } }, ROOT_CONTEXT);
      this.roots.set(id, { span, delegating: false });
      parent = trace.setSpan(ROOT_CONTEXT, span);
    }
    this.agents.set(id, new AgentSpans(this.tracer, id, t.runId, parent, attributes, `agent ${t.profile ?? t.provider ?? id}`));
  }

  /**
   * A live worker of a run that this hub did not see registered: a previous hub started it and this one adopted it
   * (durable mode). Its span joins its run's trace: under its creator's when that is an agent here (adopted first
   * if need be), else a root of its own in that trace (its root task's span was the previous hub's).
   */
  private adopted(id: string, depth = 0): AgentSpans | undefined {
    if (this.spares.has(id) || this.others.has(id)) return undefined;
    const t = this.lookup(id);
    if (!t || t.kind !== 'worker' || !t.runId || t.endedAt !== null) {
      if (this.others.size >= OTHERS_MAX) this.others.clear();
      this.others.add(id);
      return undefined;
    }
    const creator = t.creatorId && depth < 50 ? (this.agents.get(t.creatorId) ?? this.adopted(t.creatorId, depth + 1)) : undefined;
    const parent = creator && !creator.ended && creator.runId === t.runId ? creator.context : null;
    if (!parent) this.ids.forNextRoot(traceIdOfRun(t.runId));
    const attributes = { ...attributesOf(t), 'cao.adopted': true };
    const a = new AgentSpans(this.tracer, id, t.runId, parent ?? ROOT_CONTEXT, attributes, `agent ${t.profile ?? t.provider ?? id}`);
    this.agents.set(id, a);
    return a;
  }

  private delegated(via: 'handoff' | 'assign', e: BusEvents['handoff:started']): void {
    const a = this.agents.get(e.terminalId);
    if (!a) return;
    const attributes = a.delegated(via, e);
    const root = this.roots.get(e.terminalId);
    if (root) {
      root.delegating = true;
      root.span.updateName(via);
      root.span.setAttributes({ ...attributes, 'cao.caller': e.callerId });
    }
  }

  private delegationEnded(id: string, outcome: string): void {
    this.agents.get(id)?.delegationEnded(outcome);
    const root = this.roots.get(id);
    if (!root) return;
    root.span.setAttribute('cao.outcome', outcome);
    if (failedOutcome(outcome)) root.span.setStatus({ code: SpanStatusCode.ERROR, message: `outcome ${outcome}` });
    this.endRoot(id, Date.now());
  }

  private endRoot(id: string, at: number): void {
    this.roots.get(id)?.span.end(at);
    this.roots.delete(id);
    if (this.agents.get(id)?.ended) this.agents.delete(id);
  }

  /** Ended now; its span ends once what is announced right after (an assign's end) has been heard. */
  private removed(id: string): void {
    this.spares.delete(id);
    const a = this.agents.get(id);
    if (!a || a.ended || this.ending.has(id)) return;
    this.ending.set(id, { at: Date.now(), row: this.lookup(id) });
    this.timer ??= setImmediate(() => this.endAgents());
  }

  private endAgents(note?: string): void {
    if (this.timer) clearImmediate(this.timer);
    this.timer = null;
    for (const [id, { at, row }] of this.ending) {
      this.agents.get(id)?.end(at, { status: row?.status, reason: row?.lastError }, note);
      // a root task with no delegation in progress ends with its agent
      const root = this.roots.get(id);
      if (root && !root.delegating) this.endRoot(id, at);
      else if (!root) this.agents.delete(id);
    }
    this.ending.clear();
  }

  /** A message event: on the receiver's agent span when it is an agent of a run, else on the sender's (a report to its supervisor). */
  private message(name: string, messageId: number, senderId: string | null, receiverId: string, extra: Attributes = {}): void {
    const attributes: Attributes = { 'cao.message.id': messageId, 'cao.message.receiver': receiverId, ...extra };
    if (senderId) attributes['cao.message.sender'] = senderId;
    const receiver = this.agents.get(receiverId);
    const sender = senderId ? this.agents.get(senderId) : undefined;
    if (receiver && !receiver.ended) receiver.span.addEvent(name, attributes);
    else if (sender && !sender.ended) sender.current.addEvent(name, attributes);
  }

  /** Stops listening; every span still open ends now (`note`: why, e.g. the hub stopped with its workers left running). */
  close(note = 'hub stopped'): void {
    for (const off of this.offs) off();
    this.offs.length = 0;
    this.endAgents();
    const now = Date.now();
    for (const a of this.agents.values()) {
      if (a.ended) continue;
      const row = this.lookup(a.terminalId);
      a.end(now, { status: row?.status, reason: row?.lastError }, note);
    }
    for (const id of [...this.roots.keys()]) this.endRoot(id, now);
    this.agents.clear();
  }
}
