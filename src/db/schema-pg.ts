import { sql } from 'drizzle-orm';
import { bigint, check, index, integer, pgTable, text } from 'drizzle-orm/pg-core';
import { AGENT_STATUSES } from '../status/types.js';
import {
  MESSAGE_KINDS,
  MESSAGE_STATES,
  TERMINAL_KINDS,
  WORKTREE_STATES,
  type JournalRow,
  type MessageRow,
  type TerminalRow,
  type WorktreeRow,
} from './schema.js';

/**
 * The store's tables on PostgreSQL (src/store/pg/): the same tables, columns, checks and indexes as the SQLite schema
 * (db/schema.ts, where each column is explained), so that rows have the same shape on both engines. Times are ms since
 * the epoch (bigint, read as JavaScript numbers); ids of messages and journal rows are integer identities.
 */
const ms = (name: string) => bigint(name, { mode: 'number' });
const quoted = (values: readonly string[]) => sql.raw(values.map((v) => `'${v}'`).join(', '));

export const terminals = pgTable(
  'terminals',
  {
    id: text('id').primaryKey(),
    kind: text('kind', { enum: TERMINAL_KINDS }).notNull(),
    provider: text('provider'),
    profile: text('profile'),
    creatorId: text('creator_id'),
    workingDirectory: text('working_directory'),
    pid: integer('pid'),
    hubId: text('hub_id'),
    status: text('status', { enum: AGENT_STATUSES }).notNull(),
    createdAt: ms('created_at').notNull(),
    endedAt: ms('ended_at'),
    lastError: text('last_error'),
    question: text('question'),
    runId: text('run_id'),
  },
  (t) => [
    check('terminals_kind_check', sql`${t.kind} in (${quoted(TERMINAL_KINDS)})`),
    check('terminals_status_check', sql`${t.status} in (${quoted(AGENT_STATUSES)})`),
    index('terminals_run_id_idx').on(t.runId),
  ],
);

export const messages = pgTable(
  'messages',
  {
    id: integer('id').primaryKey().generatedByDefaultAsIdentity(),
    senderId: text('sender_id').notNull(),
    receiverId: text('receiver_id')
      .notNull()
      .references(() => terminals.id, { onDelete: 'cascade' }),
    body: text('body').notNull(),
    kind: text('kind', { enum: MESSAGE_KINDS }).notNull().default('message'),
    status: text('status', { enum: MESSAGE_STATES }).notNull().default('pending'),
    attempts: integer('attempts').notNull().default(0),
    error: text('error'),
    createdAt: ms('created_at').notNull(),
    deliveredAt: ms('delivered_at'),
  },
  (t) => [
    check('messages_status_check', sql`${t.status} in (${quoted(MESSAGE_STATES)})`),
    check('messages_kind_check', sql`${t.kind} in (${quoted(MESSAGE_KINDS)})`),
    index('messages_receiver_status_id_idx').on(t.receiverId, t.status, t.id),
    index('messages_pending_receiver_idx')
      .on(t.receiverId)
      .where(sql`status = 'pending'`),
  ],
);

export const worktrees = pgTable(
  'worktrees',
  {
    terminalId: text('terminal_id').primaryKey(),
    repoRoot: text('repo_root').notNull(),
    path: text('path').notNull(),
    branch: text('branch').notNull(),
    baseCommit: text('base_commit').notNull(),
    state: text('state', { enum: WORKTREE_STATES }).notNull().default('active'),
    createdAt: ms('created_at').notNull(),
    endedAt: ms('ended_at'),
    filesChanged: integer('files_changed'),
    insertions: integer('insertions'),
    deletions: integer('deletions'),
    commits: integer('commits'),
    uncommittedFiles: integer('uncommitted_files'),
  },
  (t) => [check('worktrees_state_check', sql`${t.state} in (${quoted(WORKTREE_STATES)})`), index('worktrees_state_idx').on(t.state)],
);

export const journal = pgTable(
  'journal',
  {
    id: integer('id').primaryKey().generatedByDefaultAsIdentity(),
    at: ms('at').notNull(),
    type: text('type').notNull(),
    runId: text('run_id'),
    terminalId: text('terminal_id'),
    callerId: text('caller_id'),
    detail: text('detail').notNull().default('{}'),
  },
  (t) => [index('journal_run_id_idx').on(t.runId, t.id), index('journal_terminal_id_idx').on(t.terminalId, t.id), index('journal_at_idx').on(t.at)],
);

/** Compile-time proof that a row reads the same on both engines: each pg row type and its SQLite twin, both ways. */
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
type Assert<T extends true> = T;
export type RowsMatchSqlite = [
  Assert<Same<typeof terminals.$inferSelect, TerminalRow>>,
  Assert<Same<typeof messages.$inferSelect, MessageRow>>,
  Assert<Same<typeof worktrees.$inferSelect, WorktreeRow>>,
  Assert<Same<typeof journal.$inferSelect, JournalRow>>,
];
