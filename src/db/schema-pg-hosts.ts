import { sql } from 'drizzle-orm';
import { bigint, bigserial, check, index, integer, jsonb, pgTable, text } from 'drizzle-orm/pg-core';

/**
 * The tables of many machines (PostgreSQL only: one machine on SQLite is one host and needs neither). Times are ms
 * since the epoch, as in the other tables, read as JavaScript numbers.
 */
const ms = (name: string) => bigint(name, { mode: 'number' });

export const HOST_STATES = ['live', 'stopped', 'dead'] as const;
export type HostState = (typeof HOST_STATES)[number];

/**
 * One row per machine (a hub and its pty host), named by `cao-mcp serve --host-name`. Its hub holds the row by a
 * lease it renews (heartbeat); a row whose lease ran out is dead to the others. `workers` is what the hub last said
 * it runs; `reserved`, the placements granted to it and not yet started (so that two placements at once cannot
 * both take its last free slot).
 */
export const hosts = pgTable(
  'hosts',
  {
    name: text('name').primaryKey(),
    hubId: text('hub_id').notNull(),
    state: text('state', { enum: HOST_STATES }).notNull(),
    capacity: integer('capacity').notNull(),
    workers: integer('workers').notNull().default(0),
    reserved: integer('reserved').notNull().default(0),
    /** Placement prefers hosts with these labels when a profile asks for one (`host_labels` in its front matter). */
    labels: jsonb('labels')
      .$type<string[]>()
      .notNull()
      .default(sql`'[]'::jsonb`),
    startedAt: ms('started_at').notNull(),
    heartbeatAt: ms('heartbeat_at').notNull(),
    leaseUntil: ms('lease_until').notNull(),
    /** Why it is stopped or dead (its hub stopped; its lease expired at …). */
    reason: text('reason'),
    /**
     * Once dead, how long the others hold its workers (their mail pending) for its hub to come back and adopt them
     * before they end them: its own setting (CAO_HOST_GRACE_MS), since it knows how it goes away (a laptop that sleeps).
     */
    graceMs: integer('grace_ms').notNull().default(30_000),
  },
  (t) => [check('hosts_state_check', sql`${t.state} in ('live', 'stopped', 'dead')`), check('hosts_capacity_check', sql`${t.capacity} >= 0`)],
);

export const HOST_REQUEST_STATES = ['pending', 'claimed', 'done', 'failed'] as const;
export type HostRequestState = (typeof HOST_REQUEST_STATES)[number];

/**
 * A call one hub asks another to carry out (start a worker on it, read a worker's output, stop one…): written by
 * the asking hub, claimed by the target hub with FOR UPDATE SKIP LOCKED, answered in the same row. Wake-ups go by
 * LISTEN/NOTIFY; a periodic sweep is the safety net.
 */
export const hostRequests = pgTable(
  'host_requests',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    /** The host that must carry it out. */
    target: text('target').notNull(),
    /** The host that asked (its reply is notified there). */
    origin: text('origin').notNull(),
    kind: text('kind').notNull(),
    payload: jsonb('payload').notNull(),
    state: text('state', { enum: HOST_REQUEST_STATES }).notNull().default('pending'),
    result: jsonb('result'),
    error: text('error'),
    /** The error's code (a CaoError's), so the caller's error says the same as a local one would. */
    errorCode: text('error_code'),
    createdAt: ms('created_at').notNull(),
    claimedAt: ms('claimed_at'),
    doneAt: ms('done_at'),
    /** Not claimed by then: failed by whoever sweeps (its caller gave up waiting). */
    deadline: ms('deadline').notNull(),
  },
  (t) => [
    check('host_requests_state_check', sql`${t.state} in ('pending', 'claimed', 'done', 'failed')`),
    index('host_requests_target_pending_idx')
      .on(t.target, t.id)
      .where(sql`${t.state} = 'pending'`),
  ],
);

export type HostRow = typeof hosts.$inferSelect;
export type HostRequestRow = typeof hostRequests.$inferSelect;
