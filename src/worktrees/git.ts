import { execFile } from 'node:child_process';
import { CaoError } from '../util/errors.js';

/** What a git command printed; `code` is its exit status (0 = success). */
export interface GitResult {
  stdout: string;
  stderr: string;
  code: number;
}

/** Git for cao-mcp's own bookkeeping: never a pager, a prompt, an editor, or the user's hooks asking questions. */
const QUIET_ENV = { GIT_TERMINAL_PROMPT: '0', GIT_PAGER: 'cat', GIT_EDITOR: 'true', GIT_OPTIONAL_LOCKS: '0', LC_ALL: 'C' };

/**
 * Runs `git <args>` in `cwd` (argv, no shell) and resolves with its output whatever its exit status; rejects only
 * when git cannot be run at all (then with code git_missing when it is not installed).
 */
export function runGit(cwd: string, args: string[], env: Record<string, string> = {}): Promise<GitResult> {
  return new Promise((resolve, reject) => {
    execFile(
      process.env.CAO_GIT_BIN || 'git',
      args,
      { cwd, env: { ...process.env, ...QUIET_ENV, ...env }, maxBuffer: 64 * 1024 * 1024, timeout: 120_000 },
      (err, stdout, stderr) => {
        const e = err as (NodeJS.ErrnoException & { killed?: boolean; signal?: string | null }) | null;
        if (e?.code === 'ENOENT')
          return reject(new CaoError('git_missing', 'worktree needs git, and git was not found on PATH (install git, or leave worktree out)'));
        if (e && (typeof e.code === 'string' || e.killed || e.signal))
          return reject(new CaoError('worktree_failed', `git ${args[0]} could not run to its end: ${e.message}`));
        resolve({ stdout: String(stdout), stderr: String(stderr), code: e ? Number(e.code) || 1 : 0 });
      },
    );
  });
}

/** Runs git and returns its stdout, trimmed; a non-zero exit is a CaoError worktree_failed with git's own words. */
export async function git(cwd: string, args: string[], env?: Record<string, string>): Promise<string> {
  const r = await runGit(cwd, args, env);
  if (r.code !== 0) throw new CaoError('worktree_failed', `git ${args.join(' ')} failed in ${cwd}: ${r.stderr.trim() || `exit ${r.code}`}`);
  return r.stdout.trim();
}
