import type { McpServerSpec } from '../types.js';

/** One stdio server entry in the `mcpServers` JSON shape most CLIs read (Claude Code, Kiro, Gemini CLI…). */
export interface McpJsonEntry {
  type?: 'stdio';
  command: string;
  args: string[];
  env: Record<string, string>;
  [extra: string]: unknown;
}

/** `{ mcpServers: { <name>: { command, args, env, ...extra } } }` for the server cao-mcp gives a worker. */
export function mcpServersJson(spec: McpServerSpec, extra: Record<string, unknown> = {}): { mcpServers: Record<string, McpJsonEntry> } {
  return {
    mcpServers: {
      [spec.name]: { command: spec.command, args: [...spec.args], env: { ...spec.env }, ...extra },
    },
  };
}

/**
 * The per-request MCP timeout written into a CLI's config, in milliseconds: the worker's own tool timeout
 * (a nested handoff can take that long), at least one second.
 */
export function mcpTimeoutMs(toolTimeoutSec: number): number {
  return Math.max(1, toolTimeoutSec) * 1000;
}
