import { checkBody } from '../inbox/messages.js';
import { CaoError, isCaoError } from '../util/errors.js';
import type { Caller } from './types.js';

/** The checks the flows share; each refusal names the field (as the MCP tools spell it) and what was wrong. */

export function requireText(v: unknown, field: string): string {
  if (typeof v !== 'string' || !v.trim()) throw new CaoError('bad_request', `${field} must be a non-empty string`);
  return v;
}

/** A wait in seconds, 0–3600 (default 0). */
export function waitSeconds(v: number | undefined, field = 'wait_seconds'): number {
  const s = v ?? 0;
  if (!(s >= 0 && s <= 3600)) throw new CaoError('bad_request', `${field} must be between 0 and 3600 (got ${v})`);
  return s;
}

/** A task must fit in the inbox as it will be stored; checked before a worker is started for it. */
export function checkTaskSize(task: string): void {
  try {
    checkBody(task, 'the task message');
  } catch (e) {
    if (!isCaoError(e)) throw e;
    throw new CaoError('body_too_large', `${e.message}; no worker was started`);
  }
}

export function describeCaller(c: Caller): string {
  if (c.kind === 'worker') return `terminal ${c.id}`;
  return c.id === 'supervisor' ? 'the supervisor' : `supervisor "${c.id}"`;
}

export function lastLines(text: string, n: number): string {
  return text.split('\n').slice(-n).join('\n');
}
