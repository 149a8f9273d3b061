import { ROOT_CONTEXT, SpanStatusCode, trace, type Attributes, type Context, type Span, type Tracer } from '@opentelemetry/api';
import type { BusEvents } from '../bus/bus.js';
import { isReady } from '../status/types.js';

/** The delegation outcomes that are failures (a span status ERROR); `question`, `detached`, `cancelled`, `ended` are not. */
const FAILED = new Set(['timeout', 'exited', 'error', 'startup_failed', 'not_accepted', 'failed', 'not_queued']);
export const failedOutcome = (outcome: string) => FAILED.has(outcome);

/** One turn of an agent: from its first input to the agent being ready again after working on it. */
interface Turn {
  span: Span;
  bytes: number;
  writes: number;
  /** The agent was seen at work (or asking) since the input: its next ready status ends the turn. */
  busy: boolean;
}

/**
 * The spans of one agent (a worker in a run): its agent span, from registered to ended, and the span of its turn
 * in progress, a child of it. What it carries: kinds, sizes, ids, statuses and outcomes, never a text.
 */
export class AgentSpans {
  readonly span: Span;
  private turn: Turn | null = null;
  private turns = 0;
  private failed = false;
  outcome: string | null = null;
  ended = false;

  constructor(
    private readonly tracer: Tracer,
    readonly terminalId: string,
    readonly runId: string,
    parent: Context,
    attributes: Attributes,
    name: string,
  ) {
    this.span = tracer.startSpan(name, { attributes: { 'cao.run_id': runId, 'cao.terminal_id': terminalId, ...attributes } }, parent);
  }

  /** Where what happens now belongs: the turn in progress, else the agent. */
  get current(): Span {
    return this.turn?.span ?? this.span;
  }

  /** The context a worker this agent starts now is a child of. */
  get context(): Context {
    return trace.setSpan(ROOT_CONTEXT, this.current);
  }

  input(e: BusEvents['input']): void {
    if (this.ended) return;
    if (!this.turn) {
      const span = this.tracer.startSpan(
        'turn',
        { attributes: { 'cao.run_id': this.runId, 'cao.terminal_id': this.terminalId, 'cao.turn': ++this.turns, 'cao.input.kind': e.kind } },
        trace.setSpan(ROOT_CONTEXT, this.span),
      );
      this.turn = { span, bytes: 0, writes: 0, busy: false };
    }
    this.turn.bytes += e.bytes;
    this.turn.writes++;
  }

  status(e: BusEvents['status']): void {
    if (this.ended) return;
    if (e.previous === 'starting' && e.status !== 'exited' && e.status !== 'error')
      this.span.addEvent('agent.ready', { 'cao.status': e.status }, e.at);
    if (e.status === 'waiting_user_answer') {
      // on the agent (its answer may come after the turn is over: the dialog's choice can finish it at once)
      this.span.addEvent('question.raised', { 'cao.previous_status': e.previous }, e.at);
      this.turn?.span.setAttribute('cao.question', true);
    }
    if (e.status === 'error') {
      this.failed = true;
      this.span.setStatus({ code: SpanStatusCode.ERROR, message: 'the agent reported an error' });
      this.endTurn(e.status, e.at, true);
      return;
    }
    if (e.status === 'exited') return this.endTurn(e.status, e.at);
    if (!this.turn) return;
    if (!isReady(e.status)) this.turn.busy = true;
    // ready again after work (a change between idle and completed alone is not the end of a turn)
    else if (this.turn.busy || !isReady(e.previous)) this.endTurn(e.status, e.at);
  }

  /** A delegation (handoff or assign) started this agent: how, and what it was asked (its size). */
  delegated(via: 'handoff' | 'assign', e: BusEvents['handoff:started']): Attributes {
    const attributes = { 'cao.via': via, 'cao.task.bytes': e.bytes, 'cao.warm': e.warm, 'cao.worktree': e.worktree };
    if (!this.ended) this.span.setAttributes(attributes);
    return attributes;
  }

  /** How the delegation of this agent ended (an assign's ends after its agent: kept for `end`). */
  delegationEnded(outcome: string): void {
    this.outcome = outcome;
    if (failedOutcome(outcome)) this.failed = true;
  }

  /** The agent ended (its last status and why, from its row). */
  end(at: number, row: { status?: string | null; reason?: string | null }, note?: string): void {
    if (this.ended) return;
    this.ended = true;
    this.endTurn(row.status ?? 'exited', at);
    const attributes: Attributes = { 'cao.outcome': this.outcome ?? row.status ?? 'ended' };
    if (row.status) attributes['cao.status'] = row.status;
    if (row.reason) attributes['cao.end_reason'] = row.reason;
    if (note) attributes['cao.note'] = note;
    this.span.setAttributes(attributes);
    if (this.failed) this.span.setStatus({ code: SpanStatusCode.ERROR, message: `outcome ${String(attributes['cao.outcome'])}` });
    this.span.end(at);
  }

  private endTurn(status: string, at: number, failed = false): void {
    const t = this.turn;
    if (!t) return;
    this.turn = null;
    t.span.setAttributes({ 'cao.input.bytes': t.bytes, 'cao.input.writes': t.writes, 'cao.status': status });
    if (failed) t.span.setStatus({ code: SpanStatusCode.ERROR, message: 'the agent reported an error' });
    t.span.end(at);
  }
}
