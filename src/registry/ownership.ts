import { CaoError } from '../util/errors.js';
import type { TerminalRegistry } from './terminals.js';

/**
 * Who is calling a tool: a worker this hub started, an external supervisor (the user's own agent, named by
 * `X-Cao-Supervisor`), or the operator (the person at the dashboard or `cao-mcp attach`, who holds the client token).
 */
export interface Caller {
  id: string;
  kind: 'worker' | 'external' | 'operator';
  /** A supervisor's own working directory (its front sends it): where its relative paths and profiles are. */
  cwd?: string;
}

/** The person behind the dashboard: may act on every agent of the hub. */
export const OPERATOR: Caller = { id: 'operator', kind: 'operator' };

/** Longest creator chain walked; deeper trees are refused at creation (see limits.maxDepth). */
const MAX_CHAIN = 64;

/**
 * The ownership rule, the one place it is decided. A caller acts on an agent (answers its dialog, types
 * into it, stops it, reads its output) only when the caller created it or created one of its ancestors:
 * a worker on its own descendants, a supervisor on its own tree, the operator on everything. An agent is
 * not its own owner (a worker cannot answer its own permission prompt).
 */
export async function owns(registry: TerminalRegistry, caller: Caller, targetId: string): Promise<boolean> {
  if (caller.kind === 'operator') return true;
  return (await creatorChain(registry, targetId)).includes(caller.id);
}

export type AgentAction = 'answer' | 'type into' | 'stop' | 'read the output of';

/** Throws `forbidden` unless `owns()`; the message says who may. */
export async function assertOwns(registry: TerminalRegistry, caller: Caller, targetId: string, action: AgentAction): Promise<void> {
  if (await owns(registry, caller, targetId)) return;
  const creator = (await registry.getTerminal(targetId))?.creatorId ?? 'unknown';
  throw new CaoError(
    'forbidden',
    `you (${caller.id}) may not ${action} agent ${targetId}: an agent can be acted on only by the agent that created it (${creator}) or one above it`,
  );
}

/** The creators above a terminal, nearest first (its creator, that one's creator, … up to a supervisor). */
export async function creatorChain(registry: TerminalRegistry, id: string): Promise<string[]> {
  const chain: string[] = [];
  let cur = (await registry.getTerminal(id))?.creatorId ?? null;
  while (cur && chain.length < MAX_CHAIN && !chain.includes(cur)) {
    chain.push(cur);
    cur = (await registry.getTerminal(cur))?.creatorId ?? null;
  }
  return chain;
}

/** Delegation depth of a caller: 0 for a supervisor, 1 for a worker a supervisor started, and so on. */
export async function depthOf(registry: TerminalRegistry, caller: Caller): Promise<number> {
  if (caller.kind !== 'worker') return 0;
  return (await creatorChain(registry, caller.id)).length;
}
