import type { NodePgDatabase } from 'drizzle-orm/node-postgres';
import type { Pool } from 'pg';
import type { FailedMail } from '../types.js';
import * as schema from '../../db/schema-pg.js';

/** The drizzle instance of the store's pool (schema-aware). */
export type PgDb = NodePgDatabase<typeof schema> & { $client: Pool };
/** A transaction on it (or the db itself): what a statement that may run inside one is given. */
export type PgTx = Pick<PgDb, 'select' | 'update' | 'insert' | 'delete' | 'execute'>;

/**
 * Keys of the transaction-scoped advisory locks (the two-int form, a key space apart from the one-bigint form of
 * the migration lock): the first names what is serialized, the second (hashtext of an id) which one.
 */
export const LOCK_CLAIM = 0x63616f01;
export const LOCK_RETENTION = 0x63616f02;

/** Rows a statement returned as failed mail, by id (the order SQLite's engine reports them in). */
export function asFailed(rows: { id: number; receiverId: string }[], error: string): FailedMail[] {
  return rows.sort((a, b) => a.id - b.id).map((r) => ({ messageId: r.id, receiverId: r.receiverId, error }));
}

/** The channel new mail is NOTIFYed on, `<store tag> <receiver id>` as payload (store/pg/watch.ts listens). */
export const MAIL_CHANNEL = 'cao_mail';
