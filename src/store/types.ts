import type { MessageState } from '../bus/bus.js';
import type {
  JournalRow,
  MessageKind,
  MessageRow,
  NewJournalRow,
  NewTerminalRow,
  TerminalKind,
  TerminalRow,
  WorktreeRow,
  WorktreeState,
} from '../db/schema.js';
import type { AgentStatus } from '../status/types.js';
import type { CaoError } from '../util/errors.js';

/**
 * The store: what cao-mcp keeps in its database (terminals, messages, worktrees, the run journal), behind one async
 * interface with two engines: the embedded SQLite file (the default, src/store/sqlite/) and PostgreSQL when
 * `CAO_DATABASE_URL` is set (src/store/pg/). An engine only reads and writes rows, each method one transaction where
 * it must be atomic; checks of the input, the bus announcements and the journal's logic sit above it, once, in the
 * registry (registry/terminals.ts), the inbox (inbox/messages.ts), worktrees/ and journal/. Rows have the same shape
 * on both engines (the types of db/schema.ts): times are ms since the epoch, ids of messages and journal rows integers.
 */
export interface Store {
  readonly engine: 'sqlite' | 'postgres';
  /** Where the data is, for messages and `cao-mcp ls`: the SQLite file, or the URL without its password. */
  readonly where: string;
  readonly terminals: TerminalRows;
  readonly messages: MessageRows;
  readonly worktrees: WorktreeRows;
  readonly journal: JournalRows;
  /** Closes the connection(s). Idempotent; calls after it reject. */
  close(): Promise<void>;
  /** False once closed (or, for PostgreSQL, when the pool is gone). */
  isOpen(): boolean;
  /**
   * Wake-ups for mail other hubs stored (PostgreSQL: LISTEN on the channel insertBatch NOTIFYs, kept open across
   * dropped connections): `onMail` gets each receiver that has new mail. The delivery sweep stays the safety net, so a
   * missed wake-up costs at most one sweep. Absent on SQLite (one machine: its hubs see the file). Returns the stop.
   */
  watchMail?(onMail: (receiverId: string) => void): Promise<() => Promise<void>>;
}

/** A message whose state a store changed to failed (for the bus: announced after the commit). */
export interface FailedMail {
  messageId: number;
  receiverId: string;
  error: string;
}

export interface ListTerminalsOptions {
  includeEnded?: boolean;
  kind?: TerminalKind;
  hubId?: string;
}

export interface TerminalRows {
  /** Inserts a row; null when the id is taken (nothing written). */
  insert(row: NewTerminalRow): Promise<TerminalRow | null>;
  /**
   * The row of an external supervisor, created on first use, an ended one opened again (ended_at null, status idle,
   * last_error null). One transaction. Throws CaoError name_taken when the id is a worker's.
   */
  ensureExternal(name: string, now: number): Promise<{ row: TerminalRow; created: boolean }>;
  /**
   * A live row's status (and last error when given) and the question it waits on (null: none; written with every
   * status, so it is cleared by the next); false when it is not there or has ended.
   */
  setStatus(id: string, status: AgentStatus, error?: string, question?: string | null): Promise<boolean>;
  /**
   * Ends a live row (ended_at, status, last_error when a reason is given) and, in the same transaction when it is a
   * worker, fails its pending mail with `mailReason` (a message being typed is left to its delivery loop). Null
   * when the row is not there or had already ended.
   */
  end(
    id: string,
    status: AgentStatus,
    now: number,
    reason: string | undefined,
    mailReason: string,
  ): Promise<{ row: TerminalRow; failed: FailedMail[] } | null>;
  /** A live row moves to another hub (re-adoption). */
  adopt(id: string, hubId: string): Promise<boolean>;
  /** A live warm spare is taken: its creator and run. */
  setCreator(id: string, creatorId: string, runId: string | null): Promise<boolean>;
  get(id: string): Promise<TerminalRow | undefined>;
  /** Ordered by created_at, then id. */
  list(opts?: ListTerminalsOptions): Promise<TerminalRow[]>;
  /**
   * One transaction: every live worker row whose hub is null or not `currentHubId`, and not `isHubAlive(hubId)`, is
   * ended (status exited, last_error 'hub restarted') and its pending and in-flight mail failed with
   * `receiver <id> died with the previous hub`. Returns the ended rows (id, pid) and the failed mail.
   */
  recover(
    currentHubId: string,
    now: number,
    isHubAlive?: (hubId: string) => boolean,
  ): Promise<{ ended: { id: string; pid: number | null }[]; failed: FailedMail[] }>;
}

export interface NewMessage {
  senderId: string;
  receiverId: string;
  body: string;
  kind: MessageKind;
}

export interface ListMessagesOptions {
  receiverId?: string;
  senderId?: string;
  status?: MessageState | MessageState[];
  /** Only messages with an id greater than this (paging). */
  afterId?: number;
  /** Default 100. */
  limit?: number;
  /** By id; default 'asc' (oldest first). */
  order?: 'asc' | 'desc';
}

export interface MessageRows {
  /**
   * Stores a batch (state pending, created_at `now`) in one transaction, each receiver checked under the same write
   * lock: a message to a receiver that does not exist gets CaoError receiver_not_found in its place, to an ended one
   * receiver_ended; the others are stored. Results in the batch's order.
   */
  insertBatch(batch: NewMessage[], now: number): Promise<(MessageRow | CaoError)[]>;
  /**
   * pending → delivering for the oldest pending message of the receiver, unless one of its messages is already
   * delivering. One conditional statement: two hubs can never claim the same message.
   */
  claimNext(receiverId: string): Promise<MessageRow | null>;
  /** delivering → delivered (delivered_at `now`, error null). */
  markDelivered(id: number, now: number): Promise<MessageRow | null>;
  /**
   * delivering → pending with attempts+1, or → failed once attempts+1 >= maxAttempts, the error then being
   * `gave up after N attempts: <error>`.
   */
  releaseForRetry(id: number, error: string, maxAttempts: number): Promise<MessageRow | null>;
  /** delivering → pending, no attempt counted. */
  requeue(id: number): Promise<MessageRow | null>;
  /** pending | delivering → failed with the reason. */
  fail(id: number, reason: string): Promise<MessageRow | null>;
  /** Every message of the receiver in one of `from` → failed with the reason; ordered by id. */
  failFor(receiverId: string, from: MessageState[], reason: string): Promise<FailedMail[]>;
  /**
   * Read once, for an external supervisor: up to `limit` pending messages, oldest first, marked delivered (at `now`)
   * in the same transaction. Throws CaoError receiver_not_found, or not_external for a worker.
   */
  takeForExternal(receiverId: string, limit: number, now: number): Promise<MessageRow[]>;
  /** Receivers with a pending message (of terminals of `kind` when given). */
  pendingReceivers(kind?: TerminalKind): Promise<string[]>;
  get(id: number): Promise<MessageRow | undefined>;
  list(opts?: ListMessagesOptions): Promise<MessageRow[]>;
  countPending(receiverId: string): Promise<number>;
  /** pending or delivering. */
  countUndelivered(receiverId: string): Promise<number>;
}

export interface WorktreeRows {
  insert(row: Pick<WorktreeRow, 'terminalId' | 'repoRoot' | 'path' | 'branch' | 'baseCommit' | 'createdAt'>): Promise<void>;
  get(terminalId: string): Promise<WorktreeRow | undefined>;
  /** Newest first. */
  list(states: WorktreeState[]): Promise<WorktreeRow[]>;
  update(
    terminalId: string,
    patch: Partial<Pick<WorktreeRow, 'state' | 'endedAt' | 'filesChanged' | 'insertions' | 'deletions' | 'commits' | 'uncommittedFiles'>>,
  ): Promise<void>;
}

export interface RetentionSettings {
  /** Rows older than this go (ms). */
  maxAgeMs: number;
  /** Beyond this many rows, the oldest runs go whole. */
  maxRows: number;
}

export interface RetentionResult {
  byAge: number;
  bySize: number;
}

export interface JournalRows {
  /**
   * Appends a batch in one transaction; a `terminal.taken` row with a run and a terminal also gives that run to the
   * terminal's earlier rows that had none (a warm spare's start-up joins the run of whoever took it).
   */
  append(rows: NewJournalRow[]): Promise<void>;
  /** What the journal records of a message: its kind, its body's size in UTF-8 bytes, its sender. */
  messageFacts(id: number): Promise<{ kind: MessageKind; bytes: number; senderId: string } | undefined>;
  /** Ids of the most recent runs, newest first (by each run's first row). */
  recentRuns(limit: number): Promise<string[]>;
  /** A run's rows by id, only of `types` when given, at most `limit`. */
  rowsOfRun(runId: string, opts?: { types?: string[]; limit?: number }): Promise<JournalRow[]>;
  /** The terminal rows of a run, by created_at. */
  terminalsOfRun(runId: string): Promise<TerminalRow[]>;
  /** Does a terminal of the run still live (a row not ended)? */
  runLive(runId: string): Promise<boolean>;
  /** First and last `at` and the number of the run's rows (n 0, first/last null when none). */
  runSpan(runId: string): Promise<{ first: number | null; last: number | null; n: number }>;
  /**
   * The run an id names: a run id (rows in the journal or terminals), a terminal (its run), a supervisor (the last
   * run it started with handoff/assign), else the last run the id was seen in as a terminal. Null when none.
   */
  resolveRun(id: string): Promise<string | null>;
  /** handoff/assign started and ended rows of these terminals, by id (for the delegations a dead hub left open). */
  delegationRows(terminalIds: readonly string[]): Promise<Pick<JournalRow, 'type' | 'terminalId' | 'callerId' | 'at'>[]>;
  /**
   * Deletes rows older than maxAgeMs, then beyond maxRows the oldest runs whole (rows outside any run one by one),
   * never a row of a run with a live terminal nor of a live worker outside any run. One transaction.
   */
  applyRetention(settings: RetentionSettings, now: number): Promise<RetentionResult>;
}
