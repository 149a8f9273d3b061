import { and, eq, gt, lt, sql } from 'drizzle-orm';
import { hosts, type HostRow } from '../db/schema-pg-hosts.js';
import { CaoError } from '../util/errors.js';
import { checkHostName, dbNow, type HostsDb } from './db.js';

export interface PlacementRequest {
  /** This host and no other (the `host` argument of handoff/assign). */
  host?: string;
  /** Preferred labels (a profile's `host_labels`): a live host with room that has one of them goes first. */
  labels?: string[];
}

const live = () => and(eq(hosts.state, 'live'), gt(hosts.leaseUntil, dbNow));
const room = sql`${hosts.workers} + ${hosts.reserved} < ${hosts.capacity}`;

/**
 * Reserves a slot for a new worker: on the host asked for, or on the live host with room that has a preferred label
 * and the lowest load (workers + reserved over capacity; then by name). The row is claimed with FOR UPDATE SKIP
 * LOCKED, so placements at once never give one host more than its capacity and never wait for each other. The
 * slot is the caller's until `releaseSlot` (the worker started, and is counted in `workers` from the next
 * heartbeat, or it failed to start).
 */
export async function reserveSlot(h: HostsDb, req: PlacementRequest = {}): Promise<HostRow> {
  if (req.host !== undefined) return reserveOn(h, checkHostName(req.host, 'host'));
  const labels = req.labels ?? [];
  for (let attempt = 0; ; attempt++) {
    const rows = await h.db.execute<{ name: string }>(sql`
      update ${hosts} set reserved = reserved + 1
      where ${hosts.name} = (
        select ${hosts.name} from ${hosts}
        where ${live()} and ${room}
        order by (${hosts.labels} ?| ${sql.param(labels)}::text[]) desc, (${hosts.workers} + ${hosts.reserved})::float / greatest(${hosts.capacity}, 1), ${hosts.name}
        limit 1 for update skip locked)
      returning ${hosts.name}`);
    const name = rows.rows[0]?.name;
    if (name) return (await h.db.select().from(hosts).where(eq(hosts.name, name)))[0]!;
    // none free: or every host with room is being placed on right now (locked): then look again
    const [busy] = await h.db.select({ name: hosts.name }).from(hosts).where(and(live(), room)).limit(1);
    if (!busy || attempt >= 20) {
      const all = await h.db.select().from(hosts).where(live()).orderBy(hosts.name);
      throw new CaoError(
        'no_host_with_room',
        all.length
          ? `no live host has room for another worker (${all.map((r) => `${r.name}: ${r.workers + r.reserved}/${r.capacity}`).join(', ')})`
          : 'no live host: start one with `cao-mcp serve --host-name NAME` against this database',
      );
    }
    await new Promise((r) => setTimeout(r, 2 + attempt * 2));
  }
}

async function reserveOn(h: HostsDb, name: string): Promise<HostRow> {
  const [row] = await h.db
    .update(hosts)
    .set({ reserved: sql`${hosts.reserved} + 1` })
    .where(and(eq(hosts.name, name), live(), room))
    .returning();
  if (row) return row;
  const [found] = await h.db.select().from(hosts).where(eq(hosts.name, name));
  if (!found) throw new CaoError('unknown_host', `no host is named "${name}"`);
  if (found.state !== 'live' || (await leaseOver(h, name)))
    throw new CaoError(
      'host_dead',
      `host "${name}" is ${found.state === 'live' ? 'not answering (its lease ran out)' : found.state}${found.reason ? `: ${found.reason}` : ''}`,
    );
  throw new CaoError('host_full', `host "${name}" runs ${found.workers + found.reserved} of its ${found.capacity} workers`);
}

async function leaseOver(h: HostsDb, name: string): Promise<boolean> {
  const [r] = await h.db
    .select({ name: hosts.name })
    .from(hosts)
    .where(and(eq(hosts.name, name), lt(hosts.leaseUntil, dbNow)));
  return r !== undefined;
}

/** Gives back a slot `reserveSlot` granted (its worker started and is counted, or it never will be). */
export async function releaseSlot(h: HostsDb, name: string, started: boolean): Promise<void> {
  await h.db
    .update(hosts)
    .set({ reserved: sql`greatest(${hosts.reserved} - 1, 0)`, workers: started ? sql`${hosts.workers} + 1` : hosts.workers })
    .where(eq(hosts.name, name));
}
