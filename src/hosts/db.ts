import { sql } from 'drizzle-orm';
import type { NodePgDatabase } from 'drizzle-orm/node-postgres';
import type pg from 'pg';
import { CaoError } from '../util/errors.js';

/** The shared database of many hosts, as the hosts layer uses it: drizzle for queries, the pool for LISTEN. */
export interface HostsDb {
  readonly db: NodePgDatabase;
  readonly pool: pg.Pool;
}

/**
 * The database server's clock, in ms since the epoch: every lease is written and judged by it, so hosts whose own
 * clocks disagree still agree on whose lease ran out.
 */
export const dbNow = sql<number>`(extract(epoch from clock_timestamp()) * 1000)::bigint`;

const HOST_NAME = /^[a-z0-9][a-z0-9-]{0,39}$/;

/** A host name: 1-40 of lowercase letters, digits and '-', not starting with '-' (it goes into URLs and listings). */
export function checkHostName(name: string, what = 'host name'): string {
  if (typeof name !== 'string' || !HOST_NAME.test(name))
    throw new CaoError('bad_host_name', `${what} "${String(name)}" must be 1-40 lowercase letters, digits or '-', not starting with '-'`);
  return name;
}
