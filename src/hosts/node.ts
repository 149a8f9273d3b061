import { and, eq, gt, lt, sql } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/node-postgres';
import pg from 'pg';
import { hosts, type HostRow } from '../db/schema-pg-hosts.js';
import { logger } from '../util/log.js';
import { guardPool } from '../util/pg-pool.js';
import { CaoError, messageOf } from '../util/errors.js';
import { hubStillRunning } from '../registry/ids.js';
import { HostCalls, type CallHandler } from './calls.js';
import { dbNow, type HostsDb } from './db.js';
import { expireHosts } from './expiry.js';
import { HostLease } from './lease.js';
import { releaseSlot, reserveSlot, type PlacementRequest } from './placement.js';

export interface HostNodeOptions {
  /** The shared database (with its credentials: it never leaves the hub). */
  url: string;
  /** This machine's name (`cao-mcp serve --host-name`). */
  name: string;
  hubId: string;
  /** Workers placement may give this host. */
  capacity: number;
  labels?: string[];
  /** The lease (default 5 s): a host silent for longer is dead to the others. */
  ttlMs?: number;
  /**
   * Once this host is dead, how long the others hold its workers (their mail pending) before they end them and fail
   * their mail (default 30 s; written in its row): time for its hub to come back and adopt them from its pty host.
   */
  graceMs?: number;
  /** How often the others' leases are looked at (default ttl / 2). */
  sweepMs?: number;
  /** Workers this hub runs now (written with each heartbeat). */
  workers: () => number;
  /** Carries out what another host asks of this one (a handoff placed here, read_output of a worker here…). */
  handler: CallHandler;
  /** A dead host's workers: end each live terminal row of its last hub, failing its mail with `reason`. */
  endWorkersOf: (hubId: string, reason: string) => Promise<number>;
  /** This hub lost its lease: it must stop acting (it types nothing it could not record). */
  onLost?: (why: string) => void;
  /** It holds its host's row again (the database is back and nobody took the name meanwhile). */
  onRejoined?: () => void;
}

/**
 * One machine among many on a shared PostgreSQL: its lease (heartbeat) on its host row, the calls other hosts make of
 * it and it of them (request rows and LISTEN/NOTIFY), placement of new workers, and the watch over the others'
 * leases: a host whose lease ran out is declared dead once (by whichever hub sees it first), placement skips it, and
 * after the grace its workers are ended, their mail failed with the reason.
 */
export class HostNode {
  readonly name: string;
  readonly h: HostsDb;
  readonly lease: HostLease;
  private calls: HostCalls | null = null;
  private sweeper: NodeJS.Timeout | null = null;
  private sweeping: Promise<void> | null = null;
  /** The hub that held this host's row before this one (its workers are this hub's to recover or adopt). */
  previousHubId: string | null = null;
  private readonly hubHosts = new Map<string, string>();

  constructor(private readonly opts: HostNodeOptions) {
    // A cut link does not error, it goes silent: connections and queries give up well within a lease, so that a
    // renewal that cannot be answered fails (and the next one tries a new connection) instead of hanging.
    const ttl = opts.ttlMs ?? 5_000;
    const pool = new pg.Pool({
      connectionString: opts.url,
      max: 4,
      application_name: `cao-mcp host ${opts.name}`,
      connectionTimeoutMillis: Math.max(500, Math.floor(ttl / 2)),
      query_timeout: Math.max(1_000, ttl),
      keepAlive: true,
    });
    // a dropped connection (the database restarted, a cut link) is not a crash: the next query reconnects
    guardPool(pool, (err) => logger('hosts').warn({ err: messageOf(err) }, 'a database connection of the hosts layer dropped'));
    this.h = { db: drizzle(pool), pool };
    this.lease = new HostLease(this.h, {
      name: opts.name,
      hubId: opts.hubId,
      capacity: opts.capacity,
      labels: opts.labels,
      ttlMs: opts.ttlMs,
      graceMs: opts.graceMs,
      workers: opts.workers,
      onLost: (why) => {
        logger('hosts').error({ host: opts.name, why }, `lost the lease of host ${opts.name}: this hub stops acting`);
        opts.onLost?.(why);
      },
    });
    this.name = this.lease.name;
  }

  /** Takes this host's row (refused while another live hub holds the name), then serves and watches. */
  async start(): Promise<this> {
    const [before] = await this.h.db.select({ hubId: hosts.hubId }).from(hosts).where(eq(hosts.name, this.name));
    this.previousHubId = before && before.hubId !== this.opts.hubId ? before.hubId : null;
    await this.acquire(before?.hubId);
    this.lease.start();
    this.calls = await new HostCalls(this.h, { host: this.name, handler: this.opts.handler, canAct: () => this.lease.valid() }).start();
    const every = this.opts.sweepMs ?? Math.max(100, Math.floor(this.lease.ttlMs / 2));
    this.sweeper = setInterval(() => void this.sweep(), every);
    this.sweeper.unref();
    void this.sweep();
    return this;
  }

  /**
   * Takes the name. Held by a hub of this machine that is gone (its process no longer runs: a crash, and this hub its
   * successor), it is taken once that hub's lease has run out, within one lease; held by a live one, refused.
   */
  private async acquire(holder: string | undefined): Promise<void> {
    const deadline = Date.now() + this.lease.ttlMs + 1_000;
    for (;;) {
      try {
        await this.lease.acquire();
        return;
      } catch (e) {
        const gone = holder !== undefined && !hubStillRunning(holder);
        if (!(e instanceof CaoError && e.code === 'host_name_taken') || !gone || Date.now() > deadline) throw e;
        await new Promise((r) => setTimeout(r, 200));
      }
    }
  }

  /** Whether this hub may act (type, claim, start workers) as its host now. */
  canAct(): boolean {
    return this.lease.valid();
  }

  /** Asks `host` to carry out `kind` (see HostCalls.call). */
  call<T = unknown>(host: string, kind: string, payload: unknown, timeoutMs?: number): Promise<T> {
    if (!this.calls) throw new Error('the host node is not started');
    return this.calls.call<T>(host, kind, payload, timeoutMs);
  }

  /** A slot for a new worker: on `req.host`, or the live host with room that placement picks. */
  reserve(req: PlacementRequest): Promise<HostRow> {
    return reserveSlot(this.h, req);
  }

  /**
   * Gives a slot back. This host's own: with the count of workers it runs now in the same statement (counting the
   * started one, which a heartbeat may already have counted: adding one would count it twice).
   */
  async release(host: string, started: boolean): Promise<void> {
    if (host !== this.name) return releaseSlot(this.h, host, started);
    await this.h.db
      .update(hosts)
      .set({ reserved: sql`greatest(${hosts.reserved} - 1, 0)`, workers: this.opts.workers() })
      .where(and(eq(hosts.name, host), eq(hosts.hubId, this.opts.hubId)));
  }

  /** Every host the database knows, by name. */
  async list(): Promise<(HostRow & { leaseLeftMs: number })[]> {
    const rows = await this.h.db
      .select({ row: hosts, left: sql<number>`(${hosts.leaseUntil} - ${dbNow})::float8` })
      .from(hosts)
      .orderBy(hosts.name);
    return rows.map((r) => ({ ...r.row, leaseLeftMs: Math.round(r.left) }));
  }

  /** The host whose hub is `hubId` now, or null (an old hub: its host has another hub since, or it is unknown). */
  async hostOfHub(hubId: string): Promise<string | null> {
    if (hubId === this.opts.hubId) return this.name;
    const known = this.hubHosts.get(hubId);
    if (known) return known;
    const [r] = await this.h.db.select({ name: hosts.name }).from(hosts).where(eq(hosts.hubId, hubId));
    if (r) this.hubHosts.set(hubId, r.name);
    return r?.name ?? null;
  }

  /** hostOfHub as last seen (every sweep reads the hosts), for listings that cannot wait. */
  knownHostOf(hubId: string | null): string | null {
    if (hubId === null) return null;
    if (hubId === this.opts.hubId) return this.name;
    return this.hubHosts.get(hubId) ?? null;
  }

  /** Declares the hosts whose lease ran out dead, and ends the workers of those dead for longer than the grace. */
  sweep(): Promise<void> {
    this.sweeping ??= this.sweepOnce().finally(() => (this.sweeping = null));
    return this.sweeping;
  }

  private async sweepOnce(): Promise<void> {
    try {
      const all = await this.h.db.select({ name: hosts.name, hubId: hosts.hubId }).from(hosts);
      this.hubHosts.clear();
      for (const r of all) this.hubHosts.set(r.hubId, r.name);
    } catch {
      /* the database is not answering: the lease tells what that means */
    }
    if (!this.lease.valid()) {
      // a hub cut off acts on nobody; once the database answers again it takes its name back, if nobody else has
      if (this.lease.lostReason !== null) await this.rejoin();
      return;
    }
    try {
      for (const d of await expireHosts(this.h))
        logger('hosts').warn({ host: d.name, hubId: d.hubId, reason: d.reason }, `host ${d.name} is dead: ${d.reason}`);
      // dead past the grace (and not taken again meanwhile): their workers go. Only the last hour's dead are looked at.
      const gone = await this.h.db
        .select({ name: hosts.name, hubId: hosts.hubId, reason: hosts.reason })
        .from(hosts)
        .where(
          and(
            eq(hosts.state, 'dead'),
            lt(hosts.leaseUntil, sql`${dbNow} - ${hosts.graceMs}`),
            gt(hosts.leaseUntil, sql`${dbNow} - ${hosts.graceMs} - 3600000`),
          ),
        );
      for (const g of gone) {
        const n = await this.opts.endWorkersOf(g.hubId, `host ${g.name} is dead (${g.reason ?? 'its lease ran out'})`);
        if (n) logger('hosts').warn({ host: g.name, workers: n }, `ended ${n} worker(s) of dead host ${g.name}; their mail is failed`);
      }
    } catch (err) {
      logger('hosts').warn({ err: messageOf(err) }, 'the sweep over the hosts failed; trying again at the next');
    }
  }

  private async rejoin(): Promise<void> {
    try {
      await this.lease.acquire();
    } catch (err) {
      logger('hosts').debug({ err: messageOf(err) }, `host ${this.name} cannot take its name back yet`);
      return;
    }
    logger('hosts').warn({ host: this.name }, `host ${this.name} holds its lease again`);
    this.opts.onRejoined?.();
  }

  /** Stops serving and watching; `release` marks the host stopped (a clean stop: its name is free at once). */
  async stop(opts: { release?: boolean; reason?: string } = {}): Promise<void> {
    if (this.sweeper) clearInterval(this.sweeper);
    this.sweeper = null;
    await this.sweeping;
    await this.calls?.close();
    await this.lease.stop(opts).catch((err) => logger('hosts').warn({ err: messageOf(err) }, 'could not mark the host stopped'));
    await this.h.pool.end().catch(() => undefined);
  }
}
