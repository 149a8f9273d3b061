import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import { PROVIDER_IDS, type HandoffResult } from '../flows/index.js';
import { isCaoError } from '../util/errors.js';

// The wire shapes and helpers the tool files (tools.ts, handoff-tool.ts) share.

const providerArg = z.enum(PROVIDER_IDS).optional().describe('Worker CLI to use; overrides the profile and CAO_PROVIDER.');
export const workerArgs = {
  agent_profile: z.string().describe('Name of the agent profile (see list_profiles), e.g. "developer".'),
  working_directory: z.string().optional().describe("Directory the worker runs in (default: the caller's)."),
  provider: providerArg,
  model: z.string().optional().describe('Model for the worker CLI (overrides the profile).'),
};

export function workerRequest(args: { agent_profile: string; working_directory?: string; provider?: string; model?: string }) {
  return { agentProfile: args.agent_profile, workingDirectory: args.working_directory, provider: args.provider, model: args.model };
}

export function handoffWire(r: HandoffResult): Record<string, unknown> {
  return {
    success: r.success,
    output: r.output,
    terminal_id: r.terminalId,
    provider: r.provider,
    duration_ms: r.durationMs,
    message: r.message,
    ...(r.status !== undefined ? { status: r.status } : {}),
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
    if (!known) process.stderr.write(`cao-mcp: ${(e as Error).stack}\n`);
    const text = known ? `Error: [${e.code}] ${e.message}` : `Error: [internal] internal error: ${(e as Error).message}`;
    return { content: [{ type: 'text', text }], isError: true };
  }
}
