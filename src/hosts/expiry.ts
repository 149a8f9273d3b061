import { and, eq, inArray, lt, sql } from 'drizzle-orm';
import { hostRequests, hosts, type HostRow } from '../db/schema-pg-hosts.js';
import { dbNow, type HostsDb } from './db.js';

/**
 * Declares dead every live host whose lease ran out (by the database's clock), and fails what was asked of it and
 * not yet answered. One UPDATE per table: of several hubs sweeping at once, each dead host is declared by exactly
 * one, which gets its row back (to fail its workers' mail). Also fails requests nobody claimed by their deadline.
 */
export async function expireHosts(h: HostsDb): Promise<HostRow[]> {
  const dead = await h.db
    .update(hosts)
    .set({
      state: 'dead',
      reason: sql`'its lease ran out at ' || to_char(to_timestamp(${hosts.leaseUntil} / 1000.0) at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`,
      reserved: 0,
    })
    .where(and(eq(hosts.state, 'live'), lt(hosts.leaseUntil, dbNow)))
    .returning();
  if (dead.length)
    await h.db
      .update(hostRequests)
      .set({
        state: 'failed',
        error: sql`'host ' || ${hostRequests.target} || ' is dead (its lease ran out)'`,
        errorCode: 'host_dead',
        doneAt: dbNow,
      })
      .where(
        and(
          inArray(
            hostRequests.target,
            dead.map((d) => d.name),
          ),
          inArray(hostRequests.state, ['pending', 'claimed']),
        ),
      );
  await h.db
    .update(hostRequests)
    .set({
      state: 'failed',
      error: sql`'host ' || ${hostRequests.target} || ' did not take the request in time'`,
      errorCode: 'timeout',
      doneAt: dbNow,
    })
    .where(and(eq(hostRequests.state, 'pending'), lt(hostRequests.deadline, dbNow)));
  return dead;
}
