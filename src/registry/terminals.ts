import { announce, type Bus } from '../bus/bus.js';
import type { TerminalKind, TerminalRow } from '../db/schema.js';
import type { AgentStatus } from '../status/types.js';
import type { FailedMail, Store } from '../store/types.js';
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

const NOT_EXTERNAL_NAME = 'must be 1-64 characters of [A-Za-z0-9._:@-] and not look like a worker id';

/** Rows kept for synchronous readers (cached()) at most; beyond, the cache starts over. */
const CACHE_MAX = 10_000;

/**
 * The terminal registry: one row per worker cao-mcp started and per external supervisor, with its owner
 * (creator), its hub and its last status. Over the store (async); every change is announced on the bus after it
 * committed. The mail of a terminal that ends is failed by the store in the same transaction, and announced here.
 */
export class TerminalRegistry {
  /** The last rows this registry wrote or read, by id, for readers that cannot wait (telemetry on the bus). */
  private readonly rows = new Map<string, TerminalRow>();

  constructor(
    readonly store: Store,
    readonly bus?: Bus,
  ) {}

  /**
   * The row as this registry last wrote or read it (no database read): for consumers of the bus that must answer in
   * the same tick. A terminal announced by this registry is always there.
   */
  cached(id: string): TerminalRow | undefined {
    return this.rows.get(id);
  }

  private remember<T extends TerminalRow | undefined | null>(row: T): T {
    if (row) {
      if (this.rows.size >= CACHE_MAX && !this.rows.has(row.id)) this.rows.clear();
      this.rows.set(row.id, row);
    }
    return row;
  }

  private patch(id: string, fields: Partial<TerminalRow>): void {
    const row = this.rows.get(id);
    if (row) this.rows.set(id, { ...row, ...fields });
  }

  /** Inserts a terminal row. Worker ids must be 8 lowercase hex chars. */
  async registerTerminal(input: RegisterTerminalInput): Promise<TerminalRow> {
    const kind = input.kind ?? 'worker';
    if (kind === 'worker' ? !isWorkerId(input.id) : !isExternalName(input.id)) {
      throw new CaoError(
        'invalid_terminal_id',
        kind === 'worker'
          ? `worker terminal id "${input.id}" is not 8 lowercase hex characters`
          : `external supervisor name "${input.id}" ${NOT_EXTERNAL_NAME}`,
      );
    }
    const runId = input.runId !== undefined ? input.runId : kind === 'external' ? null : await this.runFor(input.creatorId ?? null);
    const row = await this.store.terminals.insert({
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
      runId,
    });
    if (!row) throw new CaoError('terminal_exists', `a terminal with id "${input.id}" already exists`);
    this.remember(row);
    announce(this.bus, 'terminal:created', { terminalId: row.id });
    return row;
  }

  /**
   * The row of an external supervisor (an agent cao-mcp did not start), created on first use.
   * Idempotent; an ended external row is opened again (its mail stayed readable meanwhile).
   */
  async ensureExternal(name: string): Promise<TerminalRow> {
    if (!isExternalName(name)) throw new CaoError('invalid_terminal_id', `external supervisor name "${name}" ${NOT_EXTERNAL_NAME}`);
    const { row, created } = await this.store.terminals.ensureExternal(name, Date.now());
    this.remember(row);
    if (created) announce(this.bus, 'terminal:created', { terminalId: row.id });
    return row;
  }

  /** Records a live status (and optionally the last error), with the question it waits on or null. Ended rows are left alone. */
  async updateTerminalStatus(id: string, status: AgentStatus, error?: string, question: string | null = null): Promise<boolean> {
    const ok = await this.store.terminals.setStatus(id, status, error, question);
    if (ok) this.patch(id, error === undefined ? { status, question } : { status, lastError: error, question });
    return ok;
  }

  /**
   * Marks a terminal ended. For a worker, its pending mail can never be typed any more: the store fails it
   * in the same transaction. A message being typed right now is left to its delivery loop.
   * Returns the ended row, or null when it did not exist or had already ended.
   */
  async endTerminal(id: string, status: AgentStatus = 'exited', reason?: string): Promise<TerminalRow | null> {
    const result = await this.store.terminals.end(id, status, Date.now(), reason, endedReason(id, status, reason));
    if (!result) return null;
    this.remember(result.row);
    announce(this.bus, 'terminal:removed', { terminalId: id });
    this.announceFailed(result.failed);
    return result.row;
  }

  /** A live worker of a hub that died is taken over by this one (re-adoption from the pty host). */
  async adoptTerminal(id: string, hubId: string): Promise<boolean> {
    const ok = await this.store.terminals.adopt(id, hubId);
    if (ok) this.patch(id, { hubId });
    return ok;
  }

  /** A warm spare (created by nobody) is taken by a caller: from now on it is that caller's worker. */
  async setCreator(id: string, creatorId: string): Promise<boolean> {
    const runId = await this.runFor(creatorId);
    const ok = await this.store.terminals.setCreator(id, creatorId, runId);
    if (ok) {
      this.patch(id, { creatorId, runId });
      announce(this.bus, 'terminal:created', { terminalId: id });
    }
    return ok;
  }

  /**
   * The run a worker created by `creatorId` belongs to: its creator's, when that is a worker in a run (a worker's
   * handoff that leads to an assign that leads to a handoff is one tree); a new one for a supervisor or the operator.
   */
  private async runFor(creatorId: string | null): Promise<string | null> {
    if (creatorId === null) return null;
    const creator = await this.getTerminal(creatorId);
    return creator?.kind === 'worker' && creator.runId ? creator.runId : newRunId();
  }

  async getTerminal(id: string): Promise<TerminalRow | undefined> {
    const row = await this.store.terminals.get(id);
    return this.remember(row);
  }

  async listTerminals(opts: { includeEnded?: boolean; kind?: TerminalKind; hubId?: string } = {}): Promise<TerminalRow[]> {
    const rows = await this.store.terminals.list(opts);
    for (const r of rows) this.remember(r);
    return rows;
  }

  /**
   * At the start of a hub: workers still marked alive under another hub id lost their pty with it.
   * End them ("hub restarted") and fail their pending and in-flight mail (an in-flight message may
   * already have been typed, so it is never retried). External supervisors' mail is untouched.
   * `isHubAlive` lets a hub spare workers of another hub that is still running on the same file;
   * without it every other hub id counts as dead.
   */
  async recoverAfterCrash(currentHubId: string, isHubAlive?: (hubId: string) => boolean): Promise<RecoveryResult> {
    const { ended, failed } = await this.store.terminals.recover(currentHubId, Date.now(), isHubAlive);
    for (const t of ended) {
      this.rows.delete(t.id);
      announce(this.bus, 'terminal:removed', { terminalId: t.id });
    }
    this.announceFailed(failed);
    return {
      endedTerminals: ended.map((t) => t.id),
      pids: ended.flatMap((t) => (t.pid === null ? [] : [t.pid])),
      failedMessages: failed.length,
    };
  }

  private announceFailed(failed: FailedMail[]): void {
    for (const f of failed)
      announce(this.bus, 'message:state', { messageId: f.messageId, receiverId: f.receiverId, state: 'failed', error: f.error });
  }
}

function endedReason(id: string, status: AgentStatus, reason?: string): string {
  return `receiver ${id} ended (${status})${reason ? `: ${reason}` : ''}`;
}
