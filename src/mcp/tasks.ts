import { randomBytes } from 'node:crypto';
import type { TaskStore } from '@modelcontextprotocol/sdk/experimental/tasks/interfaces.js';
import { ErrorCode, McpError, type Result, type Task } from '@modelcontextprotocol/sdk/types.js';

/** How long a finished task's result is kept when the client asks for no TTL, and the bounds on what it may ask. */
export const DEFAULT_TASK_TTL_MS = 60 * 60 * 1000;
export const MIN_TASK_TTL_MS = 60 * 1000;
export const MAX_TASK_TTL_MS = 24 * 60 * 60 * 1000;
/** Tasks kept per hub (working and finished, every caller together). */
export const DEFAULT_MAX_TASKS = 1000;
/** What tasks/get tells a client to wait between polls (and how often a blocked tasks/result looks again). */
export const TASK_POLL_INTERVAL_MS = 500;

export interface TaskLimits {
  /** Default TTL (ms): how long a result is kept after the task ended. */
  ttlMs: number;
  /** At most this many tasks; the oldest finished one makes room, and a new one is refused when all are working. */
  maxTasks: number;
  /** A TTL a client asks for is raised to at least this (ms). */
  minTtlMs: number;
}

interface Entry {
  task: Task;
  owner: string;
  result?: Result;
  /** Aborted by tasks/cancel: the work behind the task stops. */
  cancel: AbortController;
  /** When it ended (ms), for its TTL; null while working. */
  endedAt: number | null;
  /** The worker's terminal, once it is known (shown in the task's `_meta`). */
  terminalId?: string;
}

/** The `_meta` key naming a handoff's worker terminal (in tasks/get, task status and progress notifications). */
export const TERMINAL_META_KEY = 'cao-mcp/terminal_id';

const isTerminal = (s: Task['status']) => s === 'completed' || s === 'failed' || s === 'cancelled';

/**
 * The hub's MCP tasks (task-augmented `handoff`), for every session at once: a task belongs to the caller that
 * started it (its id: a supervisor name or a worker's terminal id), not to the MCP session, so a client that
 * reconnects as the same caller finds it again by id, and no other caller can see it (`storeFor`).
 * Bounded: a finished task is dropped `ttl` after it ended; at most `maxTasks` are kept.
 */
export class HandoffTasks {
  private readonly entries = new Map<string, Entry>();
  private readonly limits: TaskLimits;

  constructor(limits: Partial<TaskLimits> = {}) {
    this.limits = { ttlMs: DEFAULT_TASK_TTL_MS, maxTasks: DEFAULT_MAX_TASKS, minTtlMs: MIN_TASK_TTL_MS, ...limits };
  }

  /** Tasks kept (after dropping expired ones). */
  get size(): number {
    this.sweep();
    return this.entries.size;
  }

  create(owner: string, requestedTtl?: number | null): Task {
    this.sweep();
    if (this.entries.size >= this.limits.maxTasks) this.evictOldestFinished();
    if (this.entries.size >= this.limits.maxTasks)
      throw new McpError(ErrorCode.InvalidRequest, `too many tasks (${this.limits.maxTasks} working); wait for one to finish`);
    const ttl = Math.min(MAX_TASK_TTL_MS, Math.max(this.limits.minTtlMs, requestedTtl ?? this.limits.ttlMs));
    const now = new Date().toISOString();
    const task: Task = {
      taskId: randomBytes(16).toString('hex'),
      status: 'working',
      ttl,
      createdAt: now,
      lastUpdatedAt: now,
      pollInterval: TASK_POLL_INTERVAL_MS,
    };
    this.entries.set(task.taskId, { task, owner, cancel: new AbortController(), endedAt: null });
    return { ...task };
  }

  /** The task if `owner` may see it (and it has not expired). */
  get(owner: string, taskId: string): Task | null {
    const e = this.entry(owner, taskId);
    return e ? view(e) : null;
  }

  /** Aborted when the task is cancelled (tasks/cancel). */
  cancelSignal(taskId: string): AbortSignal {
    const e = this.entries.get(taskId);
    if (!e) throw new Error(`no task ${taskId}`);
    return e.cancel.signal;
  }

  /** A working task's status line (what tasks/get shows) and its worker's terminal. */
  note(taskId: string, statusMessage: string, terminalId?: string): void {
    const e = this.entries.get(taskId);
    if (!e || isTerminal(e.task.status)) return;
    if (terminalId) e.terminalId = terminalId;
    e.task.statusMessage = statusMessage;
    e.task.lastUpdatedAt = new Date().toISOString();
  }

  /**
   * The work behind the task ended with `result`. A cancelled task keeps its status (the result is what the
   * cancellation left); returns the task as it is now, or null when it is gone.
   */
  finish(taskId: string, status: 'completed' | 'failed', result: Result): Task | null {
    const e = this.entries.get(taskId);
    if (!e) return null;
    e.result = result;
    if (!isTerminal(e.task.status)) this.end(e, status);
    return view(e);
  }

  /** The SDK's view for one caller: its tasks only, whatever MCP session asks (the session id is not used). */
  storeFor(owner: string): TaskStore {
    return {
      createTask: async (params) => this.create(owner, params.ttl),
      getTask: async (taskId) => this.get(owner, taskId),
      storeTaskResult: async (taskId, status, result) => {
        if (!this.entry(owner, taskId)) throw new McpError(ErrorCode.InvalidParams, `Task not found: ${taskId}`);
        this.finish(taskId, status, result);
      },
      getTaskResult: async (taskId) => {
        const e = this.entry(owner, taskId);
        if (!e) throw new McpError(ErrorCode.InvalidParams, `Task not found: ${taskId}`);
        if (!e.result) throw new McpError(ErrorCode.InvalidParams, `Task ${taskId} has no result (it is ${e.task.status})`);
        return e.result;
      },
      updateTaskStatus: async (taskId, status, statusMessage) => {
        const e = this.entry(owner, taskId);
        if (!e) throw new McpError(ErrorCode.InvalidParams, `Task not found: ${taskId}`);
        if (isTerminal(e.task.status)) throw new McpError(ErrorCode.InvalidParams, `Task ${taskId} is already ${e.task.status}`);
        if (statusMessage) e.task.statusMessage = statusMessage;
        if (isTerminal(status)) this.end(e, status);
        else {
          e.task.status = status;
          e.task.lastUpdatedAt = new Date().toISOString();
        }
        if (status === 'cancelled') e.cancel.abort(new Error('task cancelled by the client'));
      },
      listTasks: async () => {
        this.sweep();
        return { tasks: [...this.entries.values()].filter((e) => e.owner === owner).map(view) };
      },
    };
  }

  private entry(owner: string, taskId: string): Entry | undefined {
    this.sweep();
    const e = this.entries.get(taskId);
    return e && e.owner === owner ? e : undefined;
  }

  private end(e: Entry, status: Task['status']): void {
    e.task.status = status;
    e.task.lastUpdatedAt = new Date().toISOString();
    e.endedAt = Date.now();
  }

  private sweep(): void {
    const now = Date.now();
    for (const [id, e] of this.entries) if (e.endedAt !== null && now - e.endedAt >= (e.task.ttl ?? this.limits.ttlMs)) this.entries.delete(id);
  }

  private evictOldestFinished(): void {
    let oldest: [string, number] | null = null;
    for (const [id, e] of this.entries) if (e.endedAt !== null && (!oldest || e.endedAt < oldest[1])) oldest = [id, e.endedAt];
    if (oldest) this.entries.delete(oldest[0]);
  }
}

/** A copy of the task, with its worker's terminal id in `_meta` once known. */
function view(e: Entry): Task {
  return e.terminalId ? Object.assign({ ...e.task }, { _meta: { [TERMINAL_META_KEY]: e.terminalId } }) : { ...e.task };
}

let shared: HandoffTasks | undefined;

/** The tasks of this process (the hub): every MCP session of every front shares them. */
export function hubTasks(): HandoffTasks {
  return (shared ??= new HandoffTasks());
}
