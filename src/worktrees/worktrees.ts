import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { WorktreeRow, WorktreeState } from '../db/schema.js';
import type { Store, WorktreeRows } from '../store/types.js';
import { CaoError, messageOf } from '../util/errors.js';
import { caoHome } from '../util/paths.js';
import { createWorktree, type CreatedWorktree, type WorktreeWish } from './create.js';
import { runGit } from './git.js';
import { diffSummary } from './summary.js';
import { logger } from '../util/log.js';

export type { WorktreeWish, CreatedWorktree } from './create.js';

/** Where worktrees are made: `$CAO_WORKTREES_DIR`, default `$CAO_HOME/worktrees`. */
export function worktreesRoot(): string {
  return process.env.CAO_WORKTREES_DIR || join(caoHome(), 'worktrees');
}

/**
 * The worktrees of workers: made before a worker starts, recorded, and settled when it ends: a worktree its
 * worker changed nothing in is removed with its branch; one with changes or commits is kept (state `kept`) and
 * listed until the user removes it (`cao-mcp worktrees rm`, or git itself: a vanished one is noticed).
 */
export class Worktrees {
  /** Settlements in progress, by terminal (a worker that ends twice is settled once; shutdown waits for them). */
  private readonly settling = new Map<string, Promise<WorktreeRow | undefined>>();

  private readonly rows: WorktreeRows;

  constructor(store: Pick<Store, 'worktrees'>) {
    this.rows = store.worktrees;
  }

  async create(terminalId: string, callerDir: string, defaultBranch: string, wish: WorktreeWish): Promise<CreatedWorktree> {
    const w = await createWorktree(callerDir, terminalId, defaultBranch, wish, worktreesRoot());
    await this.rows.insert({ terminalId, repoRoot: w.repoRoot, path: w.path, branch: w.branch, baseCommit: w.baseCommit, createdAt: Date.now() });
    return w;
  }

  get(terminalId: string): Promise<WorktreeRow | undefined> {
    return this.rows.get(terminalId);
  }

  /** Rows by state (newest first); kept ones whose folder is gone are marked removed first. */
  async list(states: WorktreeState[] = ['active', 'kept']): Promise<WorktreeRow[]> {
    const rows = await this.rows.list(states);
    const out: WorktreeRow[] = [];
    for (const r of rows) {
      if (r.state !== 'kept' || existsSync(r.path)) out.push(r);
      else {
        await this.setState(r.terminalId, 'removed');
        if (states.includes('removed')) out.push(r);
      }
    }
    return out;
  }

  /** The worker of `terminalId` ended: records what it changed, then removes the worktree if that is nothing. */
  settle(terminalId: string): Promise<WorktreeRow | undefined> {
    let p = this.settling.get(terminalId);
    if (!p) {
      // registered before the read: a second settle of the same worker while the first reads joins it
      p = this.rows
        .get(terminalId)
        .then((row) => (!row || row.state !== 'active' ? row : this.settleNow(row)))
        .finally(() => this.settling.delete(terminalId));
      this.settling.set(terminalId, p);
    }
    return p;
  }

  /** Settles every active worktree whose worker is not among `live` (a hub that died left them). */
  async settleOrphans(live: (terminalId: string) => boolean | Promise<boolean>): Promise<void> {
    for (const r of await this.list(['active'])) if (!(await live(r.terminalId))) await this.settle(r.terminalId);
  }

  /** Waits for the settlements in progress. */
  async idle(): Promise<void> {
    await Promise.allSettled([...this.settling.values()]);
  }

  private async settleNow(row: WorktreeRow): Promise<WorktreeRow | undefined> {
    let d;
    try {
      d = await diffSummary(row.path, row.baseCommit);
    } catch (e) {
      // It cannot be read: keep it, the user decides.
      logger('worktrees').warn({ terminalId: row.terminalId, path: row.path, error: messageOf(e) }, 'could not take the diff of a worktree; kept');
      await this.rows.update(row.terminalId, { state: 'kept', endedAt: Date.now() });
      return this.get(row.terminalId);
    }
    let changed = d !== null && (d.commits > 0 || d.uncommittedFiles > 0);
    if (d && !changed) {
      try {
        await removeCheckout(row, true);
      } catch (e) {
        logger('worktrees').warn({ terminalId: row.terminalId, path: row.path, error: messageOf(e) }, 'could not remove a clean worktree; kept');
        changed = true;
      }
    }
    await this.rows.update(row.terminalId, { state: changed ? 'kept' : 'removed', endedAt: Date.now(), ...(d ?? {}) });
    return this.get(row.terminalId);
  }

  /**
   * The user is done with a kept worktree (`cao-mcp worktrees rm`): its folder goes; its branch stays (it holds
   * the commits). Uncommitted changes are refused unless `force`.
   */
  async remove(ref: string, force = false): Promise<WorktreeRow> {
    const row = (await this.list(['active', 'kept'])).find((r) => r.terminalId === ref || r.branch === ref || r.path === ref);
    if (!row) throw new CaoError('not_found', `no kept worktree "${ref}" (give its terminal id, branch or path; cao-mcp worktrees lists them)`);
    if (row.state === 'active')
      throw new CaoError('bad_request', `worktree ${row.path} is in use by worker ${row.terminalId}; stop the worker first`);
    const d = await diffSummary(row.path, row.baseCommit);
    if (d && d.uncommittedFiles > 0 && !force)
      throw new CaoError(
        'bad_request',
        `worktree ${row.path} has ${d.uncommittedFiles} uncommitted file${d.uncommittedFiles > 1 ? 's' : ''}; commit them on branch ${row.branch} first, or remove it with --force to lose them`,
      );
    await removeCheckout(row, d !== null && d.commits === 0 && d.uncommittedFiles === 0);
    await this.setState(row.terminalId, 'removed');
    return (await this.get(row.terminalId))!;
  }

  private setState(terminalId: string, state: WorktreeState): Promise<void> {
    return this.rows.update(terminalId, { state });
  }
}

/** `git worktree remove --force` (ignored files such as build output go with it) and, when asked, its branch. */
async function removeCheckout(row: WorktreeRow, dropBranch: boolean): Promise<void> {
  const r = await runGit(row.repoRoot, ['worktree', 'remove', '--force', row.path]);
  if (r.code !== 0 && existsSync(row.path)) throw new CaoError('worktree_failed', `git worktree remove ${row.path} failed: ${r.stderr.trim()}`);
  await runGit(row.repoRoot, ['worktree', 'prune']);
  if (dropBranch) await runGit(row.repoRoot, ['branch', '-D', row.branch]);
}
