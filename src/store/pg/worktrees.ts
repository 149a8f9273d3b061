import { desc, eq, inArray } from 'drizzle-orm';
import { worktrees } from '../../db/schema-pg.js';
import type { WorktreeRow, WorktreeState } from '../../db/schema.js';
import type { WorktreeRows } from '../types.js';
import type { PgDb } from './db.js';

/** Worktree rows on PostgreSQL: one row per worker's worktree, each change one statement. */
export class PgWorktreeRows implements WorktreeRows {
  constructor(private readonly db: PgDb) {}

  async insert(row: Pick<WorktreeRow, 'terminalId' | 'repoRoot' | 'path' | 'branch' | 'baseCommit' | 'createdAt'>): Promise<void> {
    await this.db.insert(worktrees).values(row);
  }

  async get(terminalId: string): Promise<WorktreeRow | undefined> {
    return (await this.db.select().from(worktrees).where(eq(worktrees.terminalId, terminalId)))[0];
  }

  list(states: WorktreeState[]): Promise<WorktreeRow[]> {
    return this.db.select().from(worktrees).where(inArray(worktrees.state, states)).orderBy(desc(worktrees.createdAt));
  }

  async update(
    terminalId: string,
    patch: Partial<Pick<WorktreeRow, 'state' | 'endedAt' | 'filesChanged' | 'insertions' | 'deletions' | 'commits' | 'uncommittedFiles'>>,
  ): Promise<void> {
    // only the fields given (an undefined one is left as it is, as drizzle does on SQLite)
    const set = Object.fromEntries(Object.entries(patch).filter(([, v]) => v !== undefined));
    if (!Object.keys(set).length) return;
    await this.db.update(worktrees).set(set).where(eq(worktrees.terminalId, terminalId));
  }
}
