import type { FakeScript, FakeTurn, ParsedRequest, TurnMatch } from './types.js';
import type { AnswerPlan } from './plan.js';

const DEFAULT_TURN: FakeTurn = { text: 'OK' };

export function matches(m: TurnMatch | undefined, text: string): boolean {
  if (m === undefined) return true;
  if (typeof m === 'string') return text.includes(m);
  m.lastIndex = 0;
  return m.test(text);
}

/**
 * Finds the offered tool a scripted name means: exact name first, then by suffix
 * (`send_message` → `mcp__cao__send_message`). Falls back to the scripted name.
 */
export function resolveToolName(wanted: string, offered: string[]): string {
  if (offered.includes(wanted)) return wanted;
  const bySuffix = offered.filter((n) => n.endsWith(wanted));
  // prefer MCP tools (a CLI's own built-in may share the name: Codex has collaboration.send_message),
  // then a suffix that starts at a separator, then the shortest name
  bySuffix.sort((a, b) => {
    const mcp = (n: string) => (/^mcp_/.test(n) ? 0 : 1);
    const sep = (n: string) => (/[_.:/-]/.test(n.charAt(n.length - wanted.length - 1)) ? 0 : 1);
    return mcp(a) - mcp(b) || sep(a) - sep(b) || a.length - b.length;
  });
  return bySuffix[0] ?? wanted;
}

/** Splits text into `n` roughly equal pieces (never splitting a surrogate pair). */
export function splitText(text: string, n: number): string[] {
  const chars = Array.from(text);
  const count = Math.max(1, Math.min(n, chars.length || 1));
  const size = Math.ceil(chars.length / count) || 1;
  const out: string[] = [];
  for (let i = 0; i < chars.length; i += size) out.push(chars.slice(i, i + size).join(''));
  return out.length ? out : [''];
}

/**
 * The script state of one server: which turns were used, and which tool calls are waiting for their result.
 */
export class ScriptRunner {
  private used = new Set<number>();
  private pendingTools = new Map<string, FakeTurn>();
  private lastToolTurn: FakeTurn | undefined;
  private callSeq = 0;

  constructor(private script: FakeScript) {}

  setScript(s: FakeScript): void {
    this.script = s;
    this.used.clear();
    this.pendingTools.clear();
    this.lastToolTurn = undefined;
  }

  /** Chooses the turn for a real request. Returns the plan and the script index (-1 = default / afterTool). */
  next(req: ParsedRequest): { plan: AnswerPlan; turnIndex: number; kind: 'turn' | 'after-tool' } {
    if (req.toolResult) {
      const origin = this.pendingTools.get(req.toolResult.callId) ?? this.lastToolTurn;
      this.pendingTools.delete(req.toolResult.callId);
      const after = origin && 'toolCall' in origin ? origin.afterTool : undefined;
      if (after !== undefined) {
        const turn: FakeTurn = typeof after === 'string' ? { text: after } : after;
        return { plan: this.toPlan(turn, req), turnIndex: -1, kind: 'after-tool' };
      }
      // A script turn that explicitly matches the tool result can answer it (chains of calls).
      const idx = this.script.turns.findIndex((t, i) => !this.used.has(i) && t.match !== undefined && matches(t.match, req.toolResult!.text));
      if (idx >= 0) {
        this.used.add(idx);
        return { plan: this.toPlan(this.script.turns[idx], req), turnIndex: idx, kind: 'after-tool' };
      }
      return { plan: this.toPlan(this.script.default ?? DEFAULT_TURN, req), turnIndex: -1, kind: 'after-tool' };
    }
    const idx = this.script.turns.findIndex((t, i) => !this.used.has(i) && matches(t.match, req.lastUserText));
    if (idx >= 0) {
      this.used.add(idx);
      return { plan: this.toPlan(this.script.turns[idx], req), turnIndex: idx, kind: 'turn' };
    }
    return { plan: this.toPlan(this.script.default ?? DEFAULT_TURN, req), turnIndex: -1, kind: 'turn' };
  }

  /** Turns not used yet (tests assert a script ran to its end). */
  remaining(): number {
    return this.script.turns.length - this.used.size;
  }

  private toPlan(turn: FakeTurn, req: ParsedRequest): AnswerPlan {
    if ('error' in turn) return { kind: 'error', ...turn.error, delayMs: turn.delayMs ?? 0 };
    if ('toolCall' in turn) {
      const deferred = req.deferredTool?.(turn.toolCall.name);
      if (deferred) {
        // load the deferred tool first; its result is answered with the real call (which keeps the turn's afterTool)
        const callId = `call_${++this.callSeq}_${Math.random().toString(36).slice(2, 8)}`;
        const real: FakeTurn = { toolCall: { name: deferred.name, arguments: turn.toolCall.arguments }, afterTool: turn.afterTool };
        this.pendingTools.set(callId, { toolCall: deferred.search, afterTool: real });
        this.lastToolTurn = this.pendingTools.get(callId);
        return { kind: 'tool', name: deferred.search.name, args: deferred.search.arguments, callId, delayMs: turn.delayMs ?? 0 };
      }
      const callId = `call_${++this.callSeq}_${Math.random().toString(36).slice(2, 8)}`;
      this.pendingTools.set(callId, turn);
      this.lastToolTurn = turn;
      return {
        kind: 'tool',
        name: req.resolveTool?.(turn.toolCall.name) ?? resolveToolName(turn.toolCall.name, req.toolNames),
        args: turn.toolCall.arguments,
        callId,
        delayMs: turn.delayMs ?? 0,
      };
    }
    const pieces = Array.isArray(turn.chunks) ? turn.chunks : splitText(turn.text, turn.chunks ?? 3);
    return { kind: 'text', pieces, delayMs: turn.delayMs ?? 0, intervalMs: turn.chunkIntervalMs ?? 40 };
  }
}
