import { desc, eq, inArray } from 'drizzle-orm';
import type { CaoDrizzle } from '../../db/db.js';
import { worktrees, type WorktreeRow, type WorktreeState } from '../../db/schema.js';
import type { WorktreeRows } from '../types.js';

/** The worktrees table on SQLite. */
export class SqliteWorktrees implements WorktreeRows {
  constructor(private readonly db: CaoDrizzle) {}

  async insert(row: Pick<WorktreeRow, 'terminalId' | 'repoRoot' | 'path' | 'branch' | 'baseCommit' | 'createdAt'>): Promise<void> {
    this.db.insert(worktrees).values(row).run();
  }

  async get(terminalId: string): Promise<WorktreeRow | undefined> {
    return this.db.select().from(worktrees).where(eq(worktrees.terminalId, terminalId)).get();
  }

  async list(states: WorktreeState[]): Promise<WorktreeRow[]> {
    return this.db.select().from(worktrees).where(inArray(worktrees.state, states)).orderBy(desc(worktrees.createdAt)).all();
  }

  async update(
    terminalId: string,
    patch: Partial<Pick<WorktreeRow, 'state' | 'endedAt' | 'filesChanged' | 'insertions' | 'deletions' | 'commits' | 'uncommittedFiles'>>,
  ): Promise<void> {
    if (!Object.keys(patch).length) return;
    this.db.update(worktrees).set(patch).where(eq(worktrees.terminalId, terminalId)).run();
  }
}
