/** Every status a terminal can be in. See DESIGN.md "Statuses". */
export const AGENT_STATUSES = ['starting', 'idle', 'processing', 'completed', 'waiting_user_answer', 'error', 'exited'] as const;
export type AgentStatus = (typeof AGENT_STATUSES)[number];

/** What a provider detector may say about one rendered screen. `unknown` = no signal (never overwrites a known status). */
export type DetectedStatus = 'idle' | 'processing' | 'completed' | 'waiting_user_answer' | 'error' | 'unknown';

/** Statuses in which the agent is ready for input. */
export function isReady(s: AgentStatus): boolean {
  return s === 'idle' || s === 'completed';
}
