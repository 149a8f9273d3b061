import type { Caller } from '../registry/ownership.js';
import { CaoError } from '../util/errors.js';
import { LOG_MAX_BYTES } from '../pty/log-writer.js';

/**
 * Every cap of the hub, with its default and the environment variable that changes it (README, "Security").
 * Read once when the hub starts.
 */
export interface Limits {
  /** Live workers in this hub (CAO_MAX_WORKERS). */
  maxWorkers: number;
  /** Live workers one caller has started itself (CAO_MAX_WORKERS_PER_CALLER). */
  maxWorkersPerCaller: number;
  /** Delegation depth: a supervisor's worker is at depth 1, its worker at 2… (CAO_MAX_DEPTH). */
  maxDepth: number;
  /** Open MCP sessions over HTTP (CAO_MAX_SESSIONS). */
  maxSessions: number;
  /** An MCP session with no request for this long is closed (CAO_SESSION_IDLE_SECONDS). */
  sessionIdleMs: number;
  /** A worker ready with nothing to do for this long is stopped, its creator told (CAO_WORKER_IDLE_SECONDS). */
  workerIdleMs: number;
  /** Largest HTTP request body (CAO_MAX_BODY_BYTES); larger is answered 413. */
  maxBodyBytes: number;
  /** A terminal's raw log is rotated (one previous file kept) when it passes this size (CAO_LOG_MAX_BYTES). */
  logMaxBytes: number;
}

export const DEFAULT_LIMITS: Readonly<Limits> = {
  maxWorkers: 32,
  maxWorkersPerCaller: 16,
  maxDepth: 3,
  maxSessions: 256,
  sessionIdleMs: 30 * 60_000,
  workerIdleMs: 60 * 60_000,
  maxBodyBytes: 1024 * 1024,
  logMaxBytes: LOG_MAX_BYTES,
};

const VARS: Record<keyof Limits, { name: string; scale: number }> = {
  maxWorkers: { name: 'CAO_MAX_WORKERS', scale: 1 },
  maxWorkersPerCaller: { name: 'CAO_MAX_WORKERS_PER_CALLER', scale: 1 },
  maxDepth: { name: 'CAO_MAX_DEPTH', scale: 1 },
  maxSessions: { name: 'CAO_MAX_SESSIONS', scale: 1 },
  sessionIdleMs: { name: 'CAO_SESSION_IDLE_SECONDS', scale: 1000 },
  workerIdleMs: { name: 'CAO_WORKER_IDLE_SECONDS', scale: 1000 },
  maxBodyBytes: { name: 'CAO_MAX_BODY_BYTES', scale: 1 },
  logMaxBytes: { name: 'CAO_LOG_MAX_BYTES', scale: 1 },
};

/** The limits, from the defaults and the environment; a variable that is not a positive number is an error naming it. */
export function limitsFromEnv(env: NodeJS.ProcessEnv = process.env): Limits {
  const out = { ...DEFAULT_LIMITS };
  for (const key of Object.keys(VARS) as (keyof Limits)[]) {
    const { name, scale } = VARS[key];
    const raw = env[name];
    if (raw === undefined || raw === '') continue;
    const n = Number(raw);
    if (!Number.isFinite(n) || n <= 0) throw new Error(`${name} must be a positive number (got "${raw}")`);
    out[key] = Math.round(n * scale);
  }
  return out;
}

/**
 * Refuses a worker at delegation depth `depth` beyond the caps, saying which and how to raise it. `workers`: the
 * hub's live workers (and those being started), `mine`: the caller's.
 */
export function checkCaps(limits: Limits, caller: Caller, depth: number, workers: number, mine: number): void {
  const { maxDepth, maxWorkers, maxWorkersPerCaller } = limits;
  if (depth > maxDepth)
    throw new CaoError(
      'depth_limit',
      `delegation depth limit reached: a worker of yours would be at depth ${depth}, and the limit is ${maxDepth} (CAO_MAX_DEPTH); do this task yourself instead of handing it on`,
    );
  if (workers >= maxWorkers)
    throw new CaoError(
      'worker_limit',
      `worker limit reached: ${maxWorkers} workers are running in this hub (CAO_MAX_WORKERS); stop one with stop_agent first`,
    );
  if (mine >= maxWorkersPerCaller)
    throw new CaoError(
      'worker_limit',
      `worker limit reached: you (${caller.id}) have ${mine} workers running and the limit per caller is ${maxWorkersPerCaller} (CAO_MAX_WORKERS_PER_CALLER); stop one with stop_agent first`,
    );
}
