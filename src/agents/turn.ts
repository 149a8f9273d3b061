import type { BusEvents } from '../bus/bus.js';
import type { ScreenSnapshot } from '../screen/snapshot.js';
import { isReady, type AgentStatus, type DetectedStatus } from '../status/types.js';
import { realClock, type Clock, type TimerHandle } from '../util/clock.js';
import { submitInput } from './input.js';
import type { Terminal } from './terminal.js';
import { CaoError } from '../util/errors.js';

/*
 * A turn: one input cao-mcp submitted and the agent's work on it. This file is the one place that decides when a
 * turn is over: the input guard (consulted by the status monitor, which stays the one publisher of `status`) and
 * the Turn a submit returns, whose end the handoff waits for and whose openness keeps the delivery service off a
 * busy receiver.
 */

/** How long a question the worker asks may be answered by someone else (a person at the dashboard) before `end` returns it. */
export const QUESTION_GRACE_MS = 3000;

// ---------------------------------------------------------------- input guard

/** The visible rows, as one string: what "the screen moved on" is judged by. */
export function screenKey(s: ScreenSnapshot): string {
  return s.lines.slice(s.viewportTop).join('\n');
}

/** Detections that prove the agent took the input (it works, asks, or failed on it). */
export function showsWork(d: DetectedStatus): boolean {
  return d === 'processing' || d === 'waiting_user_answer' || d === 'error';
}

/** What the guard says about a quiet screen the detector calls ready. */
export type GuardVerdict =
  /** The turn is over: publish the ready status. */
  | { over: true }
  /** Not yet: hold `processing`; look again in `recheckInMs` (null: only when the screen changes). */
  | { over: false; recheckInMs: number | null };

/**
 * Pure, clock-driven: after an input, an agent is reported ready again only once it was seen at work (a busy
 * frame), or — never seen at work — once its screen differs from the one before the Enter and `readyWithoutBusyMs`
 * have passed since the submit. A busy agent is so never called done because the previous turn's answer is still
 * on screen.
 */
export class InputGuard {
  private busySeen = false;

  constructor(
    /** The turn the guard belongs to. */
    readonly turn: number,
    /** `screenKey` of the screen just before the submitting Enter. */
    readonly before: string,
    /** When the Enter was written (clock time). */
    readonly at: number,
    readonly readyWithoutBusyMs: number,
  ) {}

  get sawBusy(): boolean {
    return this.busySeen;
  }

  /** The agent was seen at work (busy frame, question or error): its next ready screen ends the turn. */
  noteBusy(): void {
    this.busySeen = true;
  }

  judgeReady(screen: string, now: number): GuardVerdict {
    if (this.busySeen) return { over: true };
    const waited = now - this.at;
    if (screen === this.before) {
      // An unchanged screen is held; any change of it comes as output, then a settled screen, then a new look.
      // Before the window is over, look again when it is (the screen may have changed in between, unseen).
      return { over: false, recheckInMs: waited < this.readyWithoutBusyMs ? Math.max(20, this.readyWithoutBusyMs - waited) : null };
    }
    if (waited < this.readyWithoutBusyMs) return { over: false, recheckInMs: Math.max(20, this.readyWithoutBusyMs - waited) };
    return { over: true };
  }
}

// ---------------------------------------------------------------- turn

/** How a turn ended, as `Turn.end` reports it. */
export type TurnEnd =
  | { kind: 'completed' }
  | { kind: 'idle' }
  /** The agent asks something and nobody answered it within QUESTION_GRACE_MS. `question`: its text, when the provider can read it. */
  | { kind: 'question'; question: string | null }
  | { kind: 'exited'; exitCode: number | null; signal?: number }
  | { kind: 'error' }
  /** Still not over when the time was up; `status`: the status then. */
  | { kind: 'timeout'; status: AgentStatus };

/** What a Turn needs of its terminal (Terminal implements it; tests fake it). */
export interface TurnHost {
  readonly id: string;
  /** The live status (the monitor's). */
  readonly status: AgentStatus;
  /** The number of the last turn whose Enter was written (StatusMonitor.submittedTurn). */
  readonly submittedTurn: number;
  readonly exitInfo: { exitCode: number; signal?: number } | null;
  pendingQuestion(): string | null;
  /** Subscribes to this terminal's `status` events; returns the unsubscribe function. */
  onStatus(fn: (e: BusEvents['status']) => void): () => void;
}

type FinalStatus = 'idle' | 'completed' | 'exited' | 'error';
const isFinal = (s: AgentStatus): s is FinalStatus => isReady(s) || s === 'exited' || s === 'error';

/**
 * One submitted input. It watches its terminal's statuses from before the submit, so a fast agent that is done
 * before the submit returns is not lost: the first ready / exited / error status after the turn's Enter ends it
 * (`ended`), whenever `end()` is asked. A status before that Enter (an echo of the paste) does not.
 */
export class Turn {
  private submitted = false;
  private final: { status: FinalStatus; exit?: { exitCode: number; signal?: number } } | null = null;
  private readonly waiters = new Set<() => void>();
  private off: (() => void) | null;

  constructor(
    private readonly host: TurnHost,
    /** This terminal's turn number (StatusMonitor.newTurn). */
    readonly number: number,
    private readonly clock: Clock = realClock,
  ) {
    this.off = host.onStatus((e) => this.onStatus(e));
  }

  /** The turn is over (ready again, exited or error): the terminal may take the next input. */
  get ended(): boolean {
    return this.final !== null;
  }

  /** The status the turn's end is judged by: its final one once over, the live one before. */
  get status(): AgentStatus {
    return this.final?.status ?? this.host.status;
  }

  private onStatus(e: BusEvents['status']): void {
    if (!this.submitted && this.host.submittedTurn >= this.number) this.submitted = true;
    if (this.submitted && !this.final && isFinal(e.status)) {
      const exit = e.cause.kind === 'exited' ? { exitCode: e.cause.exitCode, signal: e.cause.signal } : undefined;
      this.final = { status: e.status, ...(exit ? { exit } : {}) };
      this.dispose(); // nothing later changes how this turn ended
    }
    for (const w of [...this.waiters]) w();
  }

  /**
   * Waits for the turn to end, at most `timeoutMs`. A question ends the wait only if it stays unanswered for
   * QUESTION_GRACE_MS (it may be answered by someone else, e.g. at the dashboard); answered, the wait goes on.
   * Rejects only when `signal` aborts.
   */
  async end(timeoutMs: number, signal?: AbortSignal): Promise<TurnEnd> {
    const deadline = this.clock.now() + timeoutMs;
    for (;;) {
      const left = deadline - this.clock.now();
      if (left <= 0) return this.timeout();
      const s = await this.until((x) => isFinal(x) || x === 'waiting_user_answer', left, signal);
      if (s === null) return this.timeout();
      if (s !== 'waiting_user_answer') return this.finish(s as FinalStatus);
      // Give a human watching the dashboard a short chance; otherwise hand the question to the caller.
      const grace = Math.min(QUESTION_GRACE_MS, Math.max(0, deadline - this.clock.now()));
      const moved = await this.until((x) => x !== 'waiting_user_answer', grace, signal);
      if (moved === null) return this.clock.now() >= deadline ? this.timeout() : { kind: 'question', question: this.host.pendingQuestion() };
    }
  }

  /** Stops watching (a turn that ended stops by itself). */
  dispose(): void {
    this.off?.();
    this.off = null;
  }

  private finish(s: FinalStatus): TurnEnd {
    if (s === 'exited') {
      const exit = this.final?.exit ?? this.host.exitInfo;
      return { kind: 'exited', exitCode: exit?.exitCode ?? null, ...(exit?.signal ? { signal: exit.signal } : {}) };
    }
    return { kind: s };
  }

  private timeout(): TurnEnd {
    return { kind: 'timeout', status: this.status };
  }

  /** The first status (current or later) `pred` accepts, or null after `ms`; rejects on abort. */
  private until(pred: (s: AgentStatus) => boolean, ms: number, signal?: AbortSignal): Promise<AgentStatus | null> {
    if (pred(this.status)) return Promise.resolve(this.status);
    if (signal?.aborted) return Promise.reject(new CaoError('aborted', 'aborted'));
    return new Promise((resolve, reject) => {
      let timer: TimerHandle | null = null;
      const done = (fn: () => void) => {
        this.clock.clearTimeout(timer);
        this.waiters.delete(check);
        signal?.removeEventListener('abort', onAbort);
        fn();
      };
      const check = () => {
        if (pred(this.status)) done(() => resolve(this.status));
      };
      const onAbort = () => done(() => reject(new CaoError('aborted', 'aborted')));
      timer = this.clock.setTimeout(() => done(() => resolve(null)), Math.max(0, ms));
      this.waiters.add(check);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }
}

export interface SubmitTurnOptions {
  /** See submitInput. */
  confirmMs?: number;
  tries?: number;
  /** For the turn's end (default: the terminal's). */
  clock?: Clock;
  /** Labels the pty writes (`<tag>:paste`, `<tag>:enter`), e.g. `m42` for message 42: see submitInput. */
  tag?: string;
}

/**
 * Submits `text` (paste, Enter, confirm: submitInput) as a new turn of `t`. Resolves with the Turn once the submit
 * was confirmed — possibly already ended; rejects (CaoError input_not_taken) if the input did not take.
 */
export async function submitTurn(t: Terminal, text: string, opts: SubmitTurnOptions = {}): Promise<Turn> {
  const turn = new Turn(t, t.monitor.newTurn(), opts.clock ?? t.clock);
  try {
    await submitInput(t, text, { confirmMs: opts.confirmMs, tries: opts.tries, turn: turn.number, tag: opts.tag });
  } catch (e) {
    turn.dispose();
    throw e;
  }
  return turn;
}
