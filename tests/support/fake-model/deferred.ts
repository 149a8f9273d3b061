import { resolveToolName } from './script.js';

/**
 * Deferred tools (Factory Droid): MCP tools are not in the request's `tools`; a system reminder lists them under
 * "Deferred tools:", and the model loads one with the `ToolSearch` tool (`select:<name>`) before calling it. The
 * fake model does the same: a scripted call of a deferred tool is answered first with that ToolSearch call, and
 * its result with the real call (see ScriptRunner).
 */
export interface DeferredTool {
  /** The search tool to call first, and its arguments. */
  search: { name: string; arguments: Record<string, unknown> };
  /** The deferred tool's name as the model must call it once loaded. */
  name: string;
}

const SEARCH_TOOLS = ['ToolSearch'];

export function deferredResolver(offered: string[], requestText: string): ((wanted: string) => DeferredTool | undefined) | undefined {
  const search = offered.find((n) => SEARCH_TOOLS.includes(n));
  if (!search) return undefined;
  const m = /Deferred tools:\n([\s\S]*?)(?:\n\s*\n|<\/system-reminder>|$)/.exec(requestText);
  if (!m) return undefined;
  const deferred = m[1]
    .split('\n')
    .map((s) => s.trim())
    .filter((s) => /^[\w.-]+$/.test(s));
  return (wanted) => {
    if (offered.includes(wanted) || offered.some((n) => n.endsWith(wanted))) return undefined;
    const name = resolveToolName(wanted, deferred);
    if (!deferred.includes(name)) return undefined;
    return { search: { name: search, arguments: { query: `select:${name}` } }, name };
  };
}
