import type { WorktreeRow } from '../db/schema.js';
import type { WorktreeInfo } from './types.js';

/** A worktree row as the flows hand it out. */
export function worktreeInfo(row: WorktreeRow | undefined): WorktreeInfo | null {
  if (!row) return null;
  return {
    path: row.path,
    branch: row.branch,
    baseCommit: row.baseCommit,
    state: row.state,
    filesChanged: row.filesChanged,
    insertions: row.insertions,
    deletions: row.deletions,
    commits: row.commits,
    uncommittedFiles: row.uncommittedFiles,
  };
}
