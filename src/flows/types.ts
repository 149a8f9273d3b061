import type { AgentStatus } from '../status/types.js';

/** The use cases' own shapes: camelCase, typed, no transport in sight (mcp/tools.ts maps the wire to these). */
export type { Caller } from '../registry/ownership.js';
export type { AgentStatus } from '../status/types.js';

/** What a new worker is started from. */
export interface WorkerRequest {
  agentProfile: string;
  /** Relative to the caller's own working directory (a worker's, or the hub's). */
  workingDirectory?: string;
  provider?: string;
  model?: string;
  /** Run it in a new git worktree of the caller's repository: true (branch cao/<profile>-<id>) or the branch name. Default: the profile's. */
  worktree?: boolean | string;
  /** The commit the worktree starts from (default the caller's HEAD, refused when its checkout has uncommitted changes). */
  worktreeBase?: string;
  /** Many hosts: the host to run it on (default: placement picks a live host with room, the profile's labels first). */
  host?: string;
}

/** A worker's git worktree, and once the worker has ended, what it changed there against its base. */
export interface WorktreeInfo {
  path: string;
  branch: string;
  baseCommit: string;
  /** `active` while its worker runs; then `removed` (nothing changed) or `kept` (until the user removes it). */
  state: 'active' | 'kept' | 'removed';
  filesChanged: number | null;
  insertions: number | null;
  deletions: number | null;
  commits: number | null;
  uncommittedFiles: number | null;
}

/** Where a handoff's time went, in ms since the call began (null: not part of this handoff, e.g. a warm worker's start-up). */
export interface HandoffTimings {
  /** The worker's process was spawned. */
  spawnMs: number | null;
  /** Its first byte of output. */
  firstOutputMs: number | null;
  /** Its first ready screen (start-up dialogs dismissed). */
  readyMs: number | null;
  /** Taken as started (for a CLI that loads MCP servers lazily: once it listed our tools). */
  startedMs: number | null;
  /** The task was typed and submitted. */
  submittedMs: number | null;
  /** The end of the task's turn was seen. */
  finishedMs: number | null;
}

export interface HandoffRequest extends WorkerRequest {
  message: string;
  /** Seconds to wait for the answer, 1–3600 (default 600). */
  timeoutSec?: number;
}

export interface HandoffResult {
  success: boolean;
  output: string;
  terminalId: string | null;
  provider: string | null;
  durationMs: number;
  message: string;
  status?: AgentStatus;
  /** Served by a warm spare (started before the call). */
  warm: boolean;
  timings: HandoffTimings;
  worktree: WorktreeInfo | null;
  /** Many hosts: the host it ran on. */
  host?: string;
}

export interface AssignRequest extends WorkerRequest {
  message: string;
}

export interface AssignResult {
  terminalId: string;
  provider: string;
  profile: string;
  warm: boolean;
  worktree: WorktreeInfo | null;
  /** Many hosts: the host it runs on. */
  host?: string;
}

/** A host sharing the database (many hosts): list_hosts, `cao-mcp ls`, the dashboard. */
export interface HostView {
  name: string;
  /** `unanswered`: live by its row, but its lease ran out and nobody has declared it dead yet. */
  state: 'live' | 'stopped' | 'dead' | 'unanswered';
  capacity: number;
  workers: number;
  reserved: number;
  labels: string[];
  heartbeatAt: number;
  reason: string | null;
  /** The host of the hub answering. */
  self: boolean;
}

export interface SendRequest {
  message: string;
  /** Default: the caller's creator. */
  receiverId?: string;
}

export interface SendResult {
  messageId: number;
  receiverId: string;
}

export interface InboxRequest {
  waitSeconds?: number;
  limit?: number;
}

/** One message as a flow hands it out. */
export interface InboxMessage {
  id: number;
  senderId: string;
  receiverId: string;
  kind: 'message' | 'task' | 'notice';
  body: string;
  status: 'pending' | 'delivering' | 'delivered' | 'failed';
  error: string | null;
  attempts: number;
  createdAt: number;
  deliveredAt: number | null;
}

export type OutputMode = 'last' | 'screen' | 'full';

export interface OutputRequest {
  terminalId: string;
  mode?: OutputMode;
  waitSeconds?: number;
}

export interface OutputResult {
  terminalId: string;
  status: AgentStatus;
  output: string;
  question?: string | null;
}

export interface AnswerResult {
  terminalId: string;
  status: AgentStatus;
}

export interface StopResult {
  terminalId: string;
  stopped: boolean;
}

/** One agent (worker or external supervisor), as every listing shows it: list_agents, the dashboard, `cao-mcp ls`. */
export interface AgentView {
  id: string;
  kind: 'worker' | 'external';
  profile: string | null;
  provider: string | null;
  status: AgentStatus;
  creator: string | null;
  workingDirectory: string | null;
  createdAt: number;
  endedAt: number | null;
  ageSeconds: number;
  /** Messages waiting to be delivered to it. */
  pending: number;
  /** The question it waits on (status waiting_user_answer), as shown on its screen. */
  question: string | null;
  lastError: string | null;
  /** Its pty is owned by this hub: its screen can be watched, it can be answered and typed into here. */
  live: boolean;
  cols: number | null;
  rows: number | null;
  /** A warm spare: started ahead of need, owned by nobody until a handoff or assign takes it. */
  warm: boolean;
  worktree: WorktreeInfo | null;
  /** Many hosts: the host whose hub runs it (null on one machine, and for supervisors). */
  host: string | null;
}

/** A handoff's progress; every one (the first included) names the worker's terminal. */
export interface ProgressFn {
  (p: { elapsedMs: number; totalMs: number; message: string; terminalId: string }): void;
}

/** A profile as list_profiles shows it. */
export type { ProfileSummary } from '../profiles/profile.js';
