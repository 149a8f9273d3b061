import { copyFileSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { git, runGit } from './git.js';

/** What a worker did in its worktree, against the commit it started from. */
export interface WorktreeDiff {
  /** Files that differ from the base: committed, staged, unstaged and untracked (not ignored) alike. */
  filesChanged: number;
  insertions: number;
  deletions: number;
  /** Commits on its branch since the base. */
  commits: number;
  /** Paths `git status` shows as not committed (untracked included). */
  uncommittedFiles: number;
}

/**
 * The diff of everything in the worktree against `base`. Untracked files count too, so it is taken through a
 * copy of the worktree's index (`git add -A` into the copy): the worktree's own index is never touched. Null when
 * the worktree is gone (removed by hand).
 */
export async function diffSummary(path: string, base: string): Promise<WorktreeDiff | null> {
  if (!existsSync(path)) return null;
  const status = await runGit(path, ['status', '--porcelain', '--untracked-files=all']);
  if (status.code !== 0) return null;
  const uncommittedFiles = status.stdout.split('\n').filter(Boolean).length;
  const commits = Number(await git(path, ['rev-list', '--count', `${base}..HEAD`]));
  const tmp = mkdtempSync(join(tmpdir(), 'cao-index-'));
  try {
    const index = join(tmp, 'index');
    const real = resolve(path, await git(path, ['rev-parse', '--git-path', 'index']));
    if (existsSync(real)) copyFileSync(real, index);
    const env = { GIT_INDEX_FILE: index };
    await git(path, ['add', '-A', '.'], env);
    const numstat = await git(path, ['diff', '--cached', '--numstat', '--no-renames', base], env);
    let insertions = 0;
    let deletions = 0;
    const lines = numstat.split('\n').filter(Boolean);
    for (const l of lines) {
      const [a, d] = l.split('\t');
      insertions += Number(a) || 0; // "-" for a binary file
      deletions += Number(d) || 0;
    }
    return { filesChanged: lines.length, insertions, deletions, commits, uncommittedFiles };
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}
