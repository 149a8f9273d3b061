import { and, eq, gt, inArray, sql, type SQL } from 'drizzle-orm';
import type pg from 'pg';
import { hostRequests, type HostRequestRow } from '../db/schema-pg-hosts.js';
import { CaoError, ERROR_CODES, messageOf, type ErrorCode } from '../util/errors.js';
import { dbNow, type HostsDb } from './db.js';

/** Carries out one request another host made of this one; what it returns (JSON) is the caller's result. */
export type CallHandler = (kind: string, payload: unknown, from: string) => Promise<unknown>;

export interface HostCallsOptions {
  /** This host's name: requests for it are claimed here, replies to it are awaited here. */
  host: string;
  /** Carries out requests made of this host (none: this hub only asks). */
  handler?: CallHandler;
  /** Whether this hub may act now (its lease is valid): it claims nothing otherwise. */
  canAct?: () => boolean;
  /** Requests claimed at once (default 32). */
  batch?: number;
  /** The safety net under LISTEN/NOTIFY: pending requests and awaited replies are looked at this often (default 1 s). */
  sweepMs?: number;
}

const REQUESTS = 'cao_host_requests';
const REPLIES = 'cao_host_replies';

interface Waiter {
  resolve(v: unknown): void;
  reject(e: Error): void;
  timer: NodeJS.Timeout;
}

/**
 * Calls between hosts, through the shared database only: the caller writes a request row and NOTIFYs the target;
 * the target claims it (FOR UPDATE SKIP LOCKED, so each request is carried out once, whoever else claims at the same
 * time), writes the result into the same row and NOTIFYs the caller. A missed notification (a dropped LISTEN
 * connection) costs at most one sweep.
 */
export class HostCalls {
  private listener: pg.PoolClient | null = null;
  private readonly waiters = new Map<number, Waiter>();
  private sweep: NodeJS.Timeout | null = null;
  private draining: Promise<void> | null = null;
  private again = false;
  private closed = false;
  /** Requests carried out here, and notifications seen (for tests and benchmarks). */
  readonly stats = { served: 0, notified: 0, swept: 0 };

  constructor(
    private readonly h: HostsDb,
    private readonly opts: HostCallsOptions,
  ) {}

  async start(): Promise<this> {
    await this.listen();
    this.sweep = setInterval(() => void this.onSweep(), this.opts.sweepMs ?? 1_000);
    this.sweep.unref();
    this.kick();
    return this;
  }

  private async listen(): Promise<void> {
    if (this.closed) return;
    const c = await this.h.pool.connect();
    c.on('notification', (n) => {
      this.stats.notified++;
      if (n.channel === REQUESTS && n.payload === this.opts.host) this.kick();
      else if (n.channel === REPLIES && n.payload) {
        const [origin, id] = n.payload.split(':');
        if (origin === this.opts.host) void this.settle([Number(id)]);
      }
    });
    let dropped = false;
    c.on('error', () => {
      // a cut connection: drop it, listen again later; the sweep covers the gap
      if (dropped) return;
      dropped = true;
      if (this.listener === c) this.listener = null;
      c.release(true);
    });
    await c.query(`LISTEN ${REQUESTS}; LISTEN ${REPLIES}`);
    this.listener = c;
  }

  private async onSweep(): Promise<void> {
    this.stats.swept++;
    if (!this.listener) await this.listen().catch(() => undefined);
    this.kick();
    if (this.waiters.size) await this.settle([...this.waiters.keys()]).catch(() => undefined);
  }

  /**
   * Asks `target` to carry out `kind`; resolves with its result, or rejects with its error (the same code it would
   * have had here). `timeoutMs`: the request fails if not claimed by then, and the call gives up waiting.
   */
  async call<T = unknown>(target: string, kind: string, payload: unknown, timeoutMs = 30_000): Promise<T> {
    const deadline = sql`${dbNow} + ${timeoutMs}`;
    const inserted = await this.unsynced<{ id: string }>(sql`
      with r as (
        insert into ${hostRequests} (target, origin, kind, payload, created_at, deadline)
        values (${target}, ${this.opts.host}, ${kind}, ${JSON.stringify(payload ?? null)}::jsonb, ${dbNow}, ${deadline})
        returning id)
      select id, pg_notify(${REQUESTS}, ${target}) from r`);
    const id = Number(inserted.rows[0]!.id);
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters.delete(id);
        // not taken yet: never will be (a request taken already runs to its end; its result is not waited for)
        void this.h.db
          .update(hostRequests)
          .set({ state: 'failed', error: 'the caller gave up waiting', errorCode: 'timeout', doneAt: dbNow })
          .where(and(eq(hostRequests.id, id), eq(hostRequests.state, 'pending')))
          .catch(() => undefined)
          .then(() => reject(new CaoError('timeout', `host ${target} did not answer ${kind} within ${timeoutMs} ms`)));
      }, timeoutMs);
      this.waiters.set(id, { resolve: resolve as (v: unknown) => void, reject, timer });
      // answered before the waiter was there (a fast target): look once
      void this.settle([id]).catch(() => undefined);
    });
  }

  /** Resolves the waiters of requests that are answered. */
  private async settle(ids: number[]): Promise<void> {
    const mine = ids.filter((id) => this.waiters.has(id));
    if (!mine.length) return;
    const rows = await this.h.db
      .select()
      .from(hostRequests)
      .where(and(inArray(hostRequests.id, mine), inArray(hostRequests.state, ['done', 'failed'])));
    for (const r of rows) {
      const w = this.waiters.get(r.id);
      if (!w) continue;
      this.waiters.delete(r.id);
      clearTimeout(w.timer);
      if (r.state === 'done') w.resolve(r.result);
      else w.reject(new CaoError(asCode(r.errorCode), r.error ?? `host ${r.target} could not carry out ${r.kind}`));
    }
  }

  /** Claims and carries out this host's pending requests, one at a time, until none is left. */
  private kick(): void {
    if (!this.opts.handler || this.closed) return;
    if (this.draining) {
      this.again = true;
      return;
    }
    this.draining = (async () => {
      do {
        this.again = false;
        for (;;) {
          if (this.closed || (this.opts.canAct && !this.opts.canAct())) return;
          const rows = await this.claim().catch(() => []);
          if (!rows.length) break;
          // one claim for a batch, each carried out at once (a caller waits for each of its calls before the next)
          await Promise.all(rows.map((r) => this.serve(r)));
        }
      } while (this.again);
    })().finally(() => (this.draining = null));
  }

  /** Up to a batch of this host's pending requests, oldest first; rows another hub is claiming are skipped, not waited for. */
  private claim(): Promise<HostRequestRow[]> {
    const next = this.h.db
      .select({ id: hostRequests.id })
      .from(hostRequests)
      .where(and(eq(hostRequests.target, this.opts.host), eq(hostRequests.state, 'pending'), gt(hostRequests.deadline, dbNow)))
      .orderBy(hostRequests.id)
      .limit(this.opts.batch ?? 32)
      .for('update', { skipLocked: true });
    return this.h.db.update(hostRequests).set({ state: 'claimed', claimedAt: dbNow }).where(inArray(hostRequests.id, next)).returning();
  }

  private async serve(row: HostRequestRow): Promise<void> {
    let set: Partial<HostRequestRow>;
    try {
      const result = await this.opts.handler!(row.kind, row.payload, row.origin);
      set = { state: 'done', result: result ?? null };
    } catch (e) {
      set = { state: 'failed', error: messageOf(e), errorCode: e instanceof CaoError ? e.code : 'internal' };
    }
    this.stats.served++;
    await this.unsynced(sql`
      with u as (
        update ${hostRequests} set state = ${set.state}, result = ${set.result === undefined ? null : JSON.stringify(set.result)}::jsonb,
          error = ${set.error ?? null}, error_code = ${set.errorCode ?? null}, done_at = ${dbNow}
        where id = ${row.id} and state = 'claimed'
        returning origin, id)
      select pg_notify(${REPLIES}, origin || ':' || id) from u`);
  }

  /**
   * A request's row and its answer are written without waiting for the WAL's flush (one fsync less each): a database
   * crash may lose the last of them, and their callers then get a timeout. The claim is always flushed: a claim
   * lost to a crash would let a request be carried out twice.
   */
  private unsynced<T extends pg.QueryResultRow>(query: SQL): Promise<pg.QueryResult<T>> {
    return this.h.db.transaction(async (tx) => {
      await tx.execute(sql`set local synchronous_commit = off`);
      return (await tx.execute<T>(query)) as pg.QueryResult<T>;
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.sweep) clearInterval(this.sweep);
    await this.draining;
    for (const [, w] of this.waiters) {
      clearTimeout(w.timer);
      w.reject(new CaoError('shutting_down', 'the hub is stopping'));
    }
    this.waiters.clear();
    const c = this.listener;
    this.listener = null;
    if (c) {
      c.removeAllListeners('notification');
      c.removeAllListeners('error');
      c.on('error', () => undefined);
      // never back to the pool: a connection that listened is not a plain one
      c.release(true);
    }
  }
}

function asCode(code: string | null): ErrorCode {
  return code && (ERROR_CODES as readonly string[]).includes(code) ? (code as ErrorCode) : 'internal';
}
