/** What to send back for one request, after the script has been consulted. Wire modules turn it into bytes. */
export type AnswerPlan =
  | { kind: 'text'; pieces: string[]; delayMs: number; intervalMs: number }
  | { kind: 'tool'; name: string; args: Record<string, unknown>; callId: string; delayMs: number }
  | { kind: 'error'; status: number; message: string; delayMs: number }
  | { kind: 'json'; value: unknown };

export function planText(plan: AnswerPlan): string {
  return plan.kind === 'text' ? plan.pieces.join('') : plan.kind === 'json' ? JSON.stringify(plan.value) : '';
}
