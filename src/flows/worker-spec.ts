import { statSync } from 'node:fs';
import { resolve } from 'node:path';
import { loadProfile, resolveProviderId, type AgentProfile } from '../profiles/profile.js';
import { CaoError } from '../util/errors.js';
import type { WorktreeWish } from '../worktrees/worktrees.js';
import { requireText } from './checks.js';
import type { WorkerRequest } from './types.js';
import type { WorkerSpec } from './warm.js';
import { checkModel } from './worker-args.js';

/** A request, resolved and checked (before anything is started): what to start, and the worktree to start it in, if any. */
export interface ResolvedRequest {
  spec: WorkerSpec;
  worktree: WorktreeWish | null;
}

/** Profile, provider, model and worktree of a request, every field checked, relative to the directory `base`. */
export function resolveRequest(base: string, req: WorkerRequest): ResolvedRequest {
  const cwd = directoryFrom(base, req.workingDirectory);
  const profile = loadProfile(requireText(req.agentProfile, 'agent_profile'), cwd);
  const providerId = resolveProviderId(req.provider, profile);
  const model = checkModel(req.model, 'model') ?? checkModel(profile.model, `the model of profile "${profile.name}"`);
  return { spec: { cwd, profile, providerId, model }, worktree: worktreeWish(req, profile) };
}

/** `worktree` of the call beats the profile's; `worktree_base` only goes with a worktree. */
function worktreeWish(req: WorkerRequest, profile: AgentProfile): WorktreeWish | null {
  const w = req.worktree ?? profile.worktree ?? false;
  if (typeof w === 'string' && !w.trim()) throw new CaoError('bad_request', 'worktree must be true, false or a branch name (got an empty string)');
  if (req.worktreeBase !== undefined && (typeof req.worktreeBase !== 'string' || !req.worktreeBase.trim()))
    throw new CaoError('bad_request', 'worktree_base must be a commit name such as "HEAD" or "main"');
  if (w === false) {
    if (req.worktreeBase !== undefined)
      throw new CaoError('bad_request', 'worktree_base was given without worktree; pass worktree: true (or a branch name) too');
    return null;
  }
  return { branch: typeof w === 'string' ? w.trim() : undefined, base: req.worktreeBase };
}

/** An existing directory, `wd` taken relative to `base`. */
export function directoryFrom(base: string, wd: string | undefined): string {
  if (wd && /[\x00-\x1f\x7f]/.test(wd)) throw new CaoError('bad_request', 'working_directory holds a control character');
  const dir = resolve(base, wd?.trim() ? wd : '.');
  let st;
  try {
    st = statSync(dir);
  } catch {
    throw new CaoError('bad_request', `working_directory "${dir}" does not exist`);
  }
  if (!st.isDirectory()) throw new CaoError('bad_request', `working_directory "${dir}" is not a directory`);
  return dir;
}
