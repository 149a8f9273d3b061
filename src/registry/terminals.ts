import { and, asc, eq, isNull, ne, or, sql, type SQL } from 'drizzle-orm';
import { announce, type Bus } from '../bus/bus.js';
import type { CaoDb, CaoDrizzle } from '../db/db.js';
import { terminals, type TerminalKind, type TerminalRow } from '../db/schema.js';
import type { AgentStatus } from '../status/types.js';
import { CaoError } from '../util/errors.js';
import { isExternalName, isWorkerId, newRunId } from './ids.js';

/** What a hub says about a new worker (or, rarely, an external row registered explicitly). */
export interface RegisterTerminalInput {
  id: string;
  kind?: TerminalKind; // default 'worker'
  provider?: string | null;
  profile?: string | null;
  creatorId?: string | null;
  workingDirectory?: string | null;
  pid?: number | null;
  hubId?: string | null;
  status?: AgentStatus; // default 'starting'
  createdAt?: number; // default now
  /** Default: the creator's run when the creator is a worker in one, else a new run (none for a spare or a supervisor). */
  runId?: string | null;
}

export interface RecoveryResult {
  /** Worker ids that were still marked alive under a previous hub, now ended. */
  endedTerminals: string[];
  /** Process-group leaders of those workers (to kill leftovers); nulls left out. */
  pids: number[];
  /** Messages to those workers moved to `failed`. */
  failedMessages: number;
}

/** A drizzle transaction (or the db itself) on the cao database. */
export type CaoTx = Pick<CaoDrizzle, 'select' | 'update' | 'insert'>;

/**
 * What must happen to a terminal's mail when it ends, inside the same transaction (the inbox attaches itself:
 * see MessageQueue). Returns the number of messages failed and what to announce once the transaction committed.
 */
export interface MailOfEnded {
  failInTx(tx: CaoTx, receiverId: string, inFlightToo: boolean, reason: string): { failed: number; announce: () => void };
}

const NOT_EXTERNAL_NAME = 'must be 1-64 characters of [A-Za-z0-9._:@-] and not look like a worker id';

/**
 * The terminal registry: one row per worker cao-mcp started and per external supervisor, with its owner
 * (creator), its hub and its last status. Synchronous (better-sqlite3); every change is announced on the bus
 * after it committed.
 */
export class TerminalRegistry {
  readonly cao: CaoDb;
  readonly db: CaoDrizzle;
  private readonly q: ReturnType<typeof prepareStatements>;
  private mail: MailOfEnded | null = null;

  constructor(
    cao: CaoDb,
    readonly bus?: Bus,
  ) {
    this.cao = cao;
    this.db = cao.db;
    this.q = prepareStatements(this.db);
  }

  /** The inbox, so that a terminal's pending mail is failed in the transaction that ends it. */
  attachMail(mail: MailOfEnded): void {
    this.mail = mail;
  }

  /** Inserts a terminal row. Worker ids must be 8 lowercase hex chars. */
  registerTerminal(input: RegisterTerminalInput): TerminalRow {
    const kind = input.kind ?? 'worker';
    if (kind === 'worker' ? !isWorkerId(input.id) : !isExternalName(input.id)) {
      throw new CaoError(
        'invalid_terminal_id',
        kind === 'worker'
          ? `worker terminal id "${input.id}" is not 8 lowercase hex characters`
          : `external supervisor name "${input.id}" ${NOT_EXTERNAL_NAME}`,
      );
    }
    const row = this.db
      .insert(terminals)
      .values({
        id: input.id,
        kind,
        provider: input.provider ?? null,
        profile: input.profile ?? null,
        creatorId: kind === 'external' ? null : (input.creatorId ?? null),
        workingDirectory: input.workingDirectory ?? null,
        pid: input.pid ?? null,
        hubId: input.hubId ?? null,
        status: input.status ?? (kind === 'external' ? 'idle' : 'starting'),
        createdAt: input.createdAt ?? Date.now(),
        runId: input.runId !== undefined ? input.runId : kind === 'external' ? null : this.runFor(input.creatorId ?? null),
      })
      .onConflictDoNothing()
      .returning()
      .get();
    if (!row) throw new CaoError('terminal_exists', `a terminal with id "${input.id}" already exists`);
    announce(this.bus, 'terminal:created', { terminalId: row.id });
    return row;
  }

  /**
   * The row of an external supervisor (an agent cao-mcp did not start), created on first use.
   * Idempotent; an ended external row is opened again (its mail stayed readable meanwhile).
   */
  ensureExternal(name: string): TerminalRow {
    if (!isExternalName(name)) throw new CaoError('invalid_terminal_id', `external supervisor name "${name}" ${NOT_EXTERNAL_NAME}`);
    const { row, created } = this.db.transaction(
      (tx) => {
        const existing = tx.select().from(terminals).where(eq(terminals.id, name)).get();
        if (existing && existing.kind !== 'external') {
          throw new CaoError('name_taken', `"${name}" is a worker terminal id, not an external supervisor`);
        }
        if (existing && existing.endedAt === null) return { row: existing, created: false };
        if (existing) {
          const reopened = tx
            .update(terminals)
            .set({ endedAt: null, status: 'idle', lastError: null })
            .where(eq(terminals.id, name))
            .returning()
            .get()!;
          return { row: reopened, created: true };
        }
        const inserted = tx.insert(terminals).values({ id: name, kind: 'external', status: 'idle', createdAt: Date.now() }).returning().get();
        return { row: inserted, created: true };
      },
      { behavior: 'immediate' },
    );
    if (created) announce(this.bus, 'terminal:created', { terminalId: row.id });
    return row;
  }

  /** Records a live status (and optionally the last error). Ended rows are left alone. */
  updateTerminalStatus(id: string, status: AgentStatus, error?: string): boolean {
    const r = error === undefined ? this.q.setStatus.run({ id, status }) : this.q.setStatusError.run({ id, status, error });
    return r.changes > 0;
  }

  /**
   * Marks a terminal ended. For a worker, its pending mail can never be typed any more: it is failed
   * in the same transaction. A message being typed right now is left to its delivery loop.
   * Returns the ended row, or null when it did not exist or had already ended.
   */
  endTerminal(id: string, status: AgentStatus = 'exited', reason?: string): TerminalRow | null {
    const result = this.db.transaction(
      (tx) => {
        const row = tx
          .update(terminals)
          .set({ endedAt: Date.now(), status, ...(reason !== undefined ? { lastError: reason } : {}) })
          .where(and(eq(terminals.id, id), isNull(terminals.endedAt)))
          .returning()
          .get();
        if (!row) return null;
        const mail = row.kind === 'worker' ? this.mail?.failInTx(tx, id, false, endedReason(id, status, reason)) : undefined;
        return { row, mail };
      },
      { behavior: 'immediate' },
    );
    if (!result) return null;
    announce(this.bus, 'terminal:removed', { terminalId: id });
    result.mail?.announce();
    return result.row;
  }

  /** A live worker of a hub that died is taken over by this one (re-adoption from the pty host). */
  adoptTerminal(id: string, hubId: string): boolean {
    return (
      this.db
        .update(terminals)
        .set({ hubId })
        .where(and(eq(terminals.id, id), isNull(terminals.endedAt)))
        .run().changes > 0
    );
  }

  /** A warm spare (created by nobody) is taken by a caller: from now on it is that caller's worker. */
  setCreator(id: string, creatorId: string): boolean {
    const ok =
      this.db
        .update(terminals)
        .set({ creatorId, runId: this.runFor(creatorId) })
        .where(and(eq(terminals.id, id), isNull(terminals.endedAt)))
        .run().changes > 0;
    if (ok) announce(this.bus, 'terminal:created', { terminalId: id });
    return ok;
  }

  /**
   * The run a worker created by `creatorId` belongs to: its creator's, when that is a worker in a run (a worker's
   * handoff that leads to an assign that leads to a handoff is one tree); a new one for a supervisor or the operator.
   */
  private runFor(creatorId: string | null): string | null {
    if (creatorId === null) return null;
    const creator = this.getTerminal(creatorId);
    return creator?.kind === 'worker' && creator.runId ? creator.runId : newRunId();
  }

  getTerminal(id: string): TerminalRow | undefined {
    return this.q.terminalById.get({ id });
  }

  listTerminals(opts: { includeEnded?: boolean; kind?: TerminalKind; hubId?: string } = {}): TerminalRow[] {
    const where: SQL[] = [];
    if (!opts.includeEnded) where.push(isNull(terminals.endedAt));
    if (opts.kind) where.push(eq(terminals.kind, opts.kind));
    if (opts.hubId !== undefined) where.push(eq(terminals.hubId, opts.hubId));
    return this.db
      .select()
      .from(terminals)
      .where(and(...where))
      .orderBy(asc(terminals.createdAt), asc(terminals.id))
      .all();
  }

  /**
   * At the start of a hub: workers still marked alive under another hub id lost their pty with it.
   * End them ("hub restarted") and fail their pending and in-flight mail (an in-flight message may
   * already have been typed, so it is never retried). External supervisors' mail is untouched.
   * `isHubAlive` lets a hub spare workers of another hub that is still running on the same file;
   * without it every other hub id counts as dead.
   */
  recoverAfterCrash(currentHubId: string, isHubAlive?: (hubId: string) => boolean): RecoveryResult {
    const now = Date.now();
    const { ended, failed, later } = this.db.transaction(
      (tx) => {
        const stale = tx
          .select({ id: terminals.id, pid: terminals.pid, hubId: terminals.hubId })
          .from(terminals)
          .where(and(eq(terminals.kind, 'worker'), isNull(terminals.endedAt), or(isNull(terminals.hubId), ne(terminals.hubId, currentHubId))))
          .all()
          .filter((t) => !(t.hubId !== null && isHubAlive?.(t.hubId)));
        let failed = 0;
        const later: (() => void)[] = [];
        for (const t of stale) {
          tx.update(terminals).set({ endedAt: now, status: 'exited', lastError: 'hub restarted' }).where(eq(terminals.id, t.id)).run();
          const mail = this.mail?.failInTx(tx, t.id, true, `receiver ${t.id} died with the previous hub`);
          if (mail) {
            failed += mail.failed;
            later.push(mail.announce);
          }
        }
        return { ended: stale, failed, later };
      },
      { behavior: 'immediate' },
    );
    for (const t of ended) announce(this.bus, 'terminal:removed', { terminalId: t.id });
    for (const f of later) f();
    return {
      endedTerminals: ended.map((t) => t.id),
      pids: ended.flatMap((t) => (t.pid === null ? [] : [t.pid])),
      failedMessages: failed,
    };
  }
}

function endedReason(id: string, status: AgentStatus, reason?: string): string {
  return `receiver ${id} ended (${status})${reason ? `: ${reason}` : ''}`;
}

const p = sql.placeholder;

function prepareStatements(db: CaoDrizzle) {
  return {
    terminalById: db
      .select()
      .from(terminals)
      .where(eq(terminals.id, p('id')))
      .prepare(),
    // status changes come with every turn of every agent
    setStatus: db
      .update(terminals)
      .set({ status: sql`${p('status')}` })
      .where(and(eq(terminals.id, p('id')), isNull(terminals.endedAt)))
      .prepare(),
    setStatusError: db
      .update(terminals)
      .set({ status: sql`${p('status')}`, lastError: sql`${p('error')}` })
      .where(and(eq(terminals.id, p('id')), isNull(terminals.endedAt)))
      .prepare(),
  };
}
