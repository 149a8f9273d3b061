import { sql } from 'drizzle-orm';
import { check, index, integer, sqliteTable, text } from 'drizzle-orm/sqlite-core';
import { AGENT_STATUSES } from '../status/types.js';

/** A worker is a CLI cao-mcp started in a pty; an external supervisor is an agent it did not start. */
export const TERMINAL_KINDS = ['worker', 'external'] as const;
export type TerminalKind = (typeof TERMINAL_KINDS)[number];

export const MESSAGE_STATES = ['pending', 'delivering', 'delivered', 'failed'] as const;

/**
 * What a message is: one agent's `message` to another (typed with a sender header), the `task` of an
 * `assign` (typed as it is), or a `notice` from cao-mcp itself (a worker failed to start…). Only the hub
 * writes the last two; nothing is ever recognised by its text.
 */
export const MESSAGE_KINDS = ['message', 'task', 'notice'] as const;
export type MessageKind = (typeof MESSAGE_KINDS)[number];

const quoted = (values: readonly string[]) => sql.raw(values.map((v) => `'${v}'`).join(', '));

/** Times are ms since the epoch (plain integers, so rows can go on the bus as they are). */
export const terminals = sqliteTable(
  'terminals',
  {
    /** Workers: 8 lowercase hex chars. External supervisors: their name. */
    id: text('id').primaryKey(),
    kind: text('kind', { enum: TERMINAL_KINDS }).notNull(),
    provider: text('provider'),
    profile: text('profile'),
    /** Who created it (terminal id or external supervisor name); null for external supervisors. */
    creatorId: text('creator_id'),
    workingDirectory: text('working_directory'),
    /** Process group leader of the worker's pty; null for external supervisors. */
    pid: integer('pid'),
    /** The hub instance that owns the worker's pty. */
    hubId: text('hub_id'),
    status: text('status', { enum: AGENT_STATUSES }).notNull(),
    createdAt: integer('created_at').notNull(),
    endedAt: integer('ended_at'),
    lastError: text('last_error'),
    /** The question it waits on (status waiting_user_answer), as its hub read it off the screen: for the other hosts. */
    question: text('question'),
    /**
     * The run it belongs to (journal): a worker started by a supervisor or the operator starts a new run, one started
     * by a worker inherits its creator's. Null for external supervisors, untaken warm spares and rows from before runs.
     */
    runId: text('run_id'),
  },
  (t) => [
    check('terminals_kind_check', sql`${t.kind} in (${quoted(TERMINAL_KINDS)})`),
    check('terminals_status_check', sql`${t.status} in (${quoted(AGENT_STATUSES)})`),
    index('terminals_run_id_idx').on(t.runId),
  ],
);

export const messages = sqliteTable(
  'messages',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    senderId: text('sender_id').notNull(),
    // Cascade: deleting an old terminal row (retention) takes its mail with it.
    receiverId: text('receiver_id')
      .notNull()
      .references(() => terminals.id, { onDelete: 'cascade' }),
    body: text('body').notNull(),
    kind: text('kind', { enum: MESSAGE_KINDS }).notNull().default('message'),
    status: text('status', { enum: MESSAGE_STATES }).notNull().default('pending'),
    attempts: integer('attempts').notNull().default(0),
    error: text('error'),
    createdAt: integer('created_at').notNull(),
    deliveredAt: integer('delivered_at'),
  },
  (t) => [
    check('messages_status_check', sql`${t.status} in (${quoted(MESSAGE_STATES)})`),
    check('messages_kind_check', sql`${t.kind} in (${quoted(MESSAGE_KINDS)})`),
    // Claim / per-receiver order: oldest pending of one receiver, "is one in flight?".
    index('messages_receiver_status_id_idx').on(t.receiverId, t.status, t.id),
    // The once-a-second sweep reads only this small partial index (open mail, not the history).
    index('messages_pending_receiver_idx')
      .on(t.receiverId)
      .where(sql`status = 'pending'`),
  ],
);

export const WORKTREE_STATES = ['active', 'kept', 'removed'] as const;
export type WorktreeState = (typeof WORKTREE_STATES)[number];

/**
 * A git worktree cao-mcp made for one worker (handoff/assign with `worktree`). `active` while its worker runs;
 * when the worker ends, the diff against the base is recorded and the worktree is `removed` (nothing changed) or
 * `kept` (changes, or commits) until the user removes it. No foreign key: a kept worktree outlives its
 * terminal's row.
 */
export const worktrees = sqliteTable(
  'worktrees',
  {
    terminalId: text('terminal_id').primaryKey(),
    /** Top level of the main checkout of the repository it belongs to. */
    repoRoot: text('repo_root').notNull(),
    path: text('path').notNull(),
    branch: text('branch').notNull(),
    baseCommit: text('base_commit').notNull(),
    state: text('state', { enum: WORKTREE_STATES }).notNull().default('active'),
    createdAt: integer('created_at').notNull(),
    endedAt: integer('ended_at'),
    // The diff of everything in it (commits, staged, unstaged, untracked) against the base, when its worker ended.
    filesChanged: integer('files_changed'),
    insertions: integer('insertions'),
    deletions: integer('deletions'),
    commits: integer('commits'),
    uncommittedFiles: integer('uncommitted_files'),
  },
  (t) => [check('worktrees_state_check', sql`${t.state} in (${quoted(WORKTREE_STATES)})`), index('worktrees_state_idx').on(t.state)],
);

/**
 * The run journal (src/journal/): one row per domain event, written in batches by one consumer on the bus. `detail`
 * is JSON of the event's detail shape (journal/events.ts): kinds, sizes and ids, never message bodies or typed text.
 * No foreign keys: the journal outlives terminal rows; its retention is its own (journal/retention.ts).
 */
export const journal = sqliteTable(
  'journal',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    at: integer('at').notNull(),
    type: text('type').notNull(),
    runId: text('run_id'),
    terminalId: text('terminal_id'),
    callerId: text('caller_id'),
    detail: text('detail').notNull().default('{}'),
  },
  (t) => [index('journal_run_id_idx').on(t.runId, t.id), index('journal_terminal_id_idx').on(t.terminalId, t.id), index('journal_at_idx').on(t.at)],
);

export type TerminalRow = typeof terminals.$inferSelect;
export type NewTerminalRow = typeof terminals.$inferInsert;
export type MessageRow = typeof messages.$inferSelect;
export type WorktreeRow = typeof worktrees.$inferSelect;
export type JournalRow = typeof journal.$inferSelect;
export type NewJournalRow = typeof journal.$inferInsert;
