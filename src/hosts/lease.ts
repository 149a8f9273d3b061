import { and, eq, or, lt, ne, sql } from 'drizzle-orm';
import { hosts, type HostRow } from '../db/schema-pg-hosts.js';
import { CaoError, messageOf } from '../util/errors.js';
import { checkHostName, dbNow, type HostsDb } from './db.js';

export interface HostLeaseOptions {
  name: string;
  hubId: string;
  /** Workers this host may run (placement never gives it more). */
  capacity: number;
  labels?: string[];
  /** How long a renewal holds the lease (default 5 s): a host silent for longer is dead to the others. */
  ttlMs?: number;
  /** How often it is renewed (default a fifth of the lease). */
  renewMs?: number;
  /** Once dead, how long the others hold its workers before ending them (default 30 s). */
  graceMs?: number;
  /** Workers it runs now, written with each renewal (what placement counts). */
  workers?: () => number;
  /** The lease is gone: another hub declared this host dead, or the database could not be reached for a whole lease. */
  onLost?: (why: string) => void;
}

/**
 * This hub's hold on its host row. Renewed by a heartbeat; `valid()` says whether the lease is still certainly
 * held, by this process's own clock: it runs out `ttl` after the last renewal that was *sent* and answered (the
 * database's lease ends later than that), less a margin. A hub whose lease is not valid must not act: it types
 * nothing it could not record, claims nothing, and stops (its workers' mail is the others' to fail).
 */
export class HostLease {
  readonly name: string;
  readonly ttlMs: number;
  private validUntil = 0;
  private timer: NodeJS.Timeout | null = null;
  private expiry: NodeJS.Timeout | null = null;
  private lost: string | null = null;
  private renewing: Promise<boolean> | null = null;

  constructor(
    private readonly h: HostsDb,
    private readonly opts: HostLeaseOptions,
  ) {
    this.name = checkHostName(opts.name);
    if (!Number.isInteger(opts.capacity) || opts.capacity < 0)
      throw new CaoError('bad_request', `capacity must be a whole number ≥ 0, not ${opts.capacity}`);
    this.ttlMs = opts.ttlMs ?? 5_000;
  }

  /** Whether this hub may act as its host now. The moment it is seen to have run out, it is lost (and said so). */
  valid(now = Date.now()): boolean {
    if (this.lost !== null) return false;
    if (now < this.validUntil) return true;
    if (this.validUntil > 0) this.lose('the lease ran out before a renewal was answered');
    return false;
  }

  /** Why the lease was lost, or null. */
  get lostReason(): string | null {
    return this.lost;
  }

  /**
   * Takes the host's row: new, or one whose hub stopped, died or let its lease run out, or this hub's own. Refuses
   * (`host_name_taken`) while another hub holds it.
   */
  async acquire(): Promise<HostRow> {
    const sent = Date.now();
    const { name, hubId, capacity } = this.opts;
    const labels = this.opts.labels ?? [];
    // a new row, or the row taken over: the same fields either way (a taken-over row also loses its old reason)
    const fresh = {
      hubId,
      state: 'live' as const,
      capacity,
      labels,
      workers: 0,
      reserved: 0,
      graceMs: this.opts.graceMs ?? 30_000,
      startedAt: dbNow,
      heartbeatAt: dbNow,
      leaseUntil: sql`${dbNow} + ${this.ttlMs}`,
    };
    const [row] = await this.h.db
      .insert(hosts)
      .values({ name, ...fresh })
      .onConflictDoUpdate({
        target: hosts.name,
        set: { ...fresh, reason: null },
        setWhere: or(ne(hosts.state, 'live'), lt(hosts.leaseUntil, dbNow), eq(hosts.hubId, hubId)),
      })
      .returning();
    if (!row) {
      const [held] = await this.h.db.select().from(hosts).where(eq(hosts.name, name));
      throw new CaoError(
        'host_name_taken',
        `host name "${name}" is held by hub ${held?.hubId ?? '?'} (lease until ${held ? new Date(held.leaseUntil).toISOString() : '?'}); pick another --host-name, or stop that hub`,
      );
    }
    this.lost = null;
    this.held(sent);
    return row;
  }

  /** Renews now; false once the lease is lost (the row is another hub's or dead). A database error keeps the lease until it runs out. */
  renew(): Promise<boolean> {
    this.renewing ??= this.renewOnce().finally(() => (this.renewing = null));
    return this.renewing;
  }

  private async renewOnce(): Promise<boolean> {
    if (this.lost) return false;
    const sent = Date.now();
    try {
      const rows = await this.h.db
        .update(hosts)
        .set({ heartbeatAt: dbNow, leaseUntil: sql`${dbNow} + ${this.ttlMs}`, workers: this.opts.workers?.() ?? 0 })
        .where(and(eq(hosts.name, this.name), eq(hosts.hubId, this.opts.hubId), eq(hosts.state, 'live')))
        .returning({ name: hosts.name });
      if (!rows.length) {
        this.lose('another hub declared this host dead or took its name');
        return false;
      }
      this.held(sent);
      return true;
    } catch (e) {
      if (!this.valid()) this.lose(`the database could not be reached for a whole lease (${messageOf(e)})`);
      return this.valid();
    }
  }

  /** Renews every `renewMs` until `stop`. */
  start(): void {
    if (this.timer) return;
    const every = this.opts.renewMs ?? Math.max(50, Math.floor(this.ttlMs / 5));
    this.timer = setInterval(() => void this.renew(), every);
    this.timer.unref();
  }

  /** Stops renewing; `release` also marks the host stopped (a clean stop), so the others need not wait for expiry. */
  async stop(opts: { release?: boolean; reason?: string } = {}): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    if (this.expiry) clearTimeout(this.expiry);
    this.timer = null;
    this.expiry = null;
    if (opts.release && !this.lost) {
      await this.h.db
        .update(hosts)
        .set({ state: 'stopped', reason: opts.reason ?? 'its hub stopped', workers: 0, reserved: 0 })
        .where(and(eq(hosts.name, this.name), eq(hosts.hubId, this.opts.hubId)));
    }
    this.validUntil = 0;
  }

  /** Held until `ttl` after `sent` (less the margin): said lost then, unless a renewal came first. */
  private held(sent: number): void {
    this.validUntil = sent + this.ttlMs - this.margin();
    if (this.expiry) clearTimeout(this.expiry);
    this.expiry = setTimeout(() => this.valid(), Math.max(0, this.validUntil - Date.now()) + 1);
    this.expiry.unref();
  }

  private lose(why: string): void {
    if (this.lost) return;
    this.lost = why;
    this.validUntil = 0;
    this.opts.onLost?.(why);
  }

  /** A tenth of the lease: room for this process's clock running a little slow and the request's own time. */
  private margin(): number {
    return Math.floor(this.ttlMs / 10);
  }
}
