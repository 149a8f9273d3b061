import { createHash } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { CaoError } from '../util/errors.js';
import { runGit } from './git.js';

/** What a caller asks for: a branch name of its choosing (else one is made up) and the commit to start from. */
export interface WorktreeWish {
  branch?: string;
  /** A commit-ish; default the caller's HEAD (then a checkout with uncommitted changes is refused). */
  base?: string;
}

export interface CreatedWorktree {
  /** Top level of the repository's main checkout (where `git worktree` is run from later). */
  repoRoot: string;
  path: string;
  branch: string;
  baseCommit: string;
  /** Where the worker runs: the caller's directory, at the same place inside the new worktree. */
  workerCwd: string;
}

/**
 * Makes a new git worktree on a new branch for one worker, from the caller's repository: every check first (git
 * there, a work tree, a commit to start from, a clean base, a free and valid branch name), so that a refusal
 * leaves nothing behind. `root` is the folder worktrees go under ($CAO_HOME/worktrees): outside the checkout, so
 * the user's own builds and searches never walk into them.
 */
export async function createWorktree(
  callerDir: string,
  id: string,
  defaultBranch: string,
  wish: WorktreeWish,
  root: string,
): Promise<CreatedWorktree> {
  const probe = await runGit(callerDir, ['rev-parse', '--show-toplevel', '--show-prefix', '--path-format=absolute', '--git-common-dir']);
  if (probe.code !== 0)
    throw new CaoError(
      'not_a_git_repo',
      `working directory "${callerDir}" is not inside a git work tree, and worktree needs one (${firstLine(probe.stderr)}); run git init there, or leave worktree out`,
    );
  const [top, prefix, commonDir] = probe.stdout.split('\n');
  const repoRoot = basename(commonDir) === '.git' ? dirname(commonDir) : commonDir;
  const baseCommit = await baseOf(top, wish.base);
  const branch = wish.branch ?? defaultBranch;
  if ((await runGit(top, ['check-ref-format', '--branch', branch])).code !== 0)
    throw new CaoError('bad_request', `worktree branch "${branch}" is not a valid git branch name`);
  if ((await runGit(top, ['show-ref', '--verify', '--quiet', `refs/heads/${branch}`])).code === 0)
    throw new CaoError(
      'branch_exists',
      `branch "${branch}" already exists in ${repoRoot}; pick another name, or delete it first (git branch -D ${branch})`,
    );
  const path = join(root, `${basename(repoRoot)}-${createHash('sha256').update(repoRoot).digest('hex').slice(0, 8)}`, id);
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const add = await runGit(top, ['worktree', 'add', '--quiet', '-b', branch, path, baseCommit]);
  if (add.code !== 0) throw new CaoError('worktree_failed', `git worktree add failed in ${top}: ${add.stderr.trim()}`);
  const workerCwd = join(path, prefix);
  mkdirSync(workerCwd, { recursive: true });
  return { repoRoot, path, branch, baseCommit, workerCwd };
}

/** The commit a worktree starts from; the caller's HEAD only when its checkout has no uncommitted changes to tracked files. */
async function baseOf(top: string, base: string | undefined): Promise<string> {
  const want = base?.trim() || 'HEAD';
  if (/^-/.test(want) || /[\x00-\x20\x7f]/.test(want)) throw new CaoError('bad_request', `worktree_base "${want}" is not a commit name`);
  const r = await runGit(top, ['rev-parse', '--verify', '--quiet', `${want}^{commit}`]);
  if (r.code !== 0)
    throw new CaoError(
      'bad_request',
      want === 'HEAD'
        ? `the repository at ${top} has no commit yet, and a worktree starts from one; commit something first`
        : `worktree_base "${want}" is not a commit in ${top}`,
    );
  if (base === undefined) {
    // not trimmed: each line is "XY path", and X may be a space
    const dirty = (await runGit(top, ['status', '--porcelain', '--untracked-files=no'])).stdout.split('\n').filter(Boolean);
    if (dirty.length)
      throw new CaoError(
        'dirty_base',
        `your checkout ${top} has uncommitted changes to ${dirty.length} tracked file${dirty.length > 1 ? 's' : ''} (${dirty
          .slice(0, 5)
          .map((l) => l.slice(3))
          .join(
            ', ',
          )}${dirty.length > 5 ? ', …' : ''}), which a new worktree would not have: it starts from your last commit. Commit or stash them first, or pass worktree_base: "HEAD" to start from the last commit anyway`,
      );
  }
  return r.stdout.trim();
}

function firstLine(s: string): string {
  return s.trim().split('\n')[0] || 'git said nothing';
}
