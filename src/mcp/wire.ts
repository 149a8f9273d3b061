import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import { PROVIDER_IDS, type HandoffResult, type WorktreeInfo } from '../flows/index.js';
import { snakeCaseKeys } from '../util/case.js';
import { isCaoError } from '../util/errors.js';
import { logger } from '../util/log.js';

// The wire shapes and helpers the tool files (tools.ts, handoff-tool.ts) share.

const providerArg = z.enum(PROVIDER_IDS).optional().describe('Worker CLI to use; overrides the profile and CAO_PROVIDER.');
export const workerArgs = {
  agent_profile: z.string().describe('Name of the agent profile (see list_profiles), e.g. "developer".'),
  working_directory: z.string().optional().describe("Directory the worker runs in (default: the caller's)."),
  provider: providerArg,
  model: z.string().optional().describe('Model for the worker CLI (overrides the profile).'),
  worktree: z
    .union([z.boolean(), z.string()])
    .optional()
    .describe(
      "Run the worker in a new git worktree of your repository, on a new branch from your HEAD: true (branch cao/<profile>-<id>) or the branch name. Default: the profile's. A worktree it changed nothing in is removed when it ends; one with changes is kept (path, branch and diff summary in the result and in list_agents).",
    ),
  worktree_base: z
    .string()
    .optional()
    .describe('Commit the worktree starts from (default your HEAD; needed when your checkout has uncommitted changes).'),
  host: z
    .string()
    .optional()
    .describe(
      "Many machines only (hubs sharing one PostgreSQL): the host to run the worker on (see list_hosts). Default: a live host with room, preferring the profile's host_labels, then the least loaded. Its working_directory is a path on that host.",
    ),
};

export function workerRequest(args: {
  agent_profile: string;
  working_directory?: string;
  provider?: string;
  model?: string;
  worktree?: boolean | string;
  worktree_base?: string;
  host?: string;
}) {
  return {
    agentProfile: args.agent_profile,
    workingDirectory: args.working_directory,
    provider: args.provider,
    model: args.model,
    worktree: args.worktree,
    worktreeBase: args.worktree_base,
    host: args.host,
  };
}

/** A worktree as the tools show it (null fields: not known until its worker has ended), plus whether it was committed to. */
export function worktreeWire(w: WorktreeInfo | null): Record<string, unknown> | null {
  if (!w) return null;
  return snakeCaseKeys({ ...w, committed: w.commits === null ? null : w.commits > 0 }) as Record<string, unknown>;
}

export const worktreeOutput = z
  .object({
    path: z.string(),
    branch: z.string(),
    base_commit: z.string(),
    state: z.enum(['active', 'kept', 'removed']),
    files_changed: z.number().nullable(),
    insertions: z.number().nullable(),
    deletions: z.number().nullable(),
    commits: z.number().nullable(),
    committed: z.boolean().nullable(),
    uncommitted_files: z.number().nullable(),
  })
  .nullable();

export function handoffWire(r: HandoffResult): Record<string, unknown> {
  return {
    success: r.success,
    output: r.output,
    terminal_id: r.terminalId,
    provider: r.provider,
    duration_ms: r.durationMs,
    message: r.message,
    ...(r.status !== undefined ? { status: r.status } : {}),
    warm: r.warm,
    timings: {
      spawn_ms: r.timings.spawnMs,
      first_output_ms: r.timings.firstOutputMs,
      ready_ms: r.timings.readyMs,
      tools_ms: r.timings.startedMs,
      submitted_ms: r.timings.submittedMs,
      finished_ms: r.timings.finishedMs,
    },
    worktree: worktreeWire(r.worktree),
    ...(r.host !== undefined ? { host: r.host } : {}),
  };
}

export function structured(data: Record<string, unknown>, isError = false): CallToolResult {
  return { content: [{ type: 'text', text: JSON.stringify(data, null, 2) }], structuredContent: data, ...(isError ? { isError: true } : {}) };
}

/**
 * Runs a tool body. A refusal (CaoError) becomes an error result that starts with its code, then says what was
 * wrong: `Error: [worker_limit] worker limit reached: …`; anything else is an internal error (logged on stderr).
 */
export async function run(fn: () => Promise<CallToolResult>): Promise<CallToolResult> {
  try {
    return await fn();
  } catch (e) {
    const known = isCaoError(e);
    if (!known) logger('mcp').error({ err: e }, 'a tool call failed with an internal error');
    const text = known ? `Error: [${e.code}] ${e.message}` : `Error: [internal] internal error: ${(e as Error).message}`;
    return { content: [{ type: 'text', text }], isError: true };
  }
}
