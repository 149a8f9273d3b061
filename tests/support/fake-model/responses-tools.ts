import type { ParsedRequest } from './types.js';
import { resolveToolName } from './script.js';

/**
 * The tools a Responses client (Codex) offers, and how to call each.
 *
 * Codex 0.169 with a current model (`tool_mode: code_mode_only`) sends no `tools` field: its tools come in an
 * `additional_tools` input item, grouped in namespaces (`functions`, `collaboration`, …). MCP tools are not
 * offered directly at all: a developer message lists them as "Deferred tool namespaces: - mcp__cao", and a model
 * reaches them only through the `functions.exec` custom tool, by running JavaScript such as
 * `await tools.mcp__cao__send_message({...})`. Older models get plain `function` tools in `tools`.
 */
export interface ResponsesTools {
  /** Exposed name → how to call it directly as a `function_call`. */
  direct: Map<string, { name: string; namespace?: string }>;
  /** Names callable from inside `exec` (declared in its description). */
  codeNames: Set<string>;
  /** The code-mode `exec` tool, when offered. */
  exec?: { namespace?: string };
  /** Namespaces whose tools are deferred (reachable from `exec` only). */
  deferredNamespaces: string[];
}

const joinNs = (ns: string, name: string) => (ns.endsWith('_') ? `${ns}${name}` : `${ns}__${name}`);

export function collectResponsesTools(body: any): ResponsesTools {
  const out: ResponsesTools = { direct: new Map(), codeNames: new Set(), deferredNamespaces: [] };
  const input: any[] = Array.isArray(body?.input) ? body.input : [];
  const lists: any[][] = [Array.isArray(body?.tools) ? body.tools : []];
  for (const item of input) if (item?.type === 'additional_tools' && Array.isArray(item.tools)) lists.push(item.tools);
  const add = (t: any, ns?: string) => {
    if (typeof t?.name !== 'string') return;
    if (t.type === 'custom' && t.name === 'exec') {
      out.exec = { namespace: ns };
      for (const m of String(t.description ?? '').matchAll(/declare const tools: \{ (\w+)\(/g)) out.codeNames.add(m[1]);
      return;
    }
    const exposed = ns && ns !== 'functions' ? joinNs(ns, t.name) : t.name;
    out.direct.set(exposed, { name: t.name, namespace: ns });
  };
  for (const list of lists) {
    for (const t of list) {
      if (t?.type === 'namespace' && Array.isArray(t.tools)) for (const sub of t.tools) add(sub, t.name);
      else add(t);
    }
  }
  for (const item of input) {
    for (const c of Array.isArray(item?.content) ? item.content : []) {
      const m = typeof c?.text === 'string' ? /Deferred tool namespaces:\n((?:- .+\n?)+)/.exec(c.text) : null;
      if (m) for (const line of m[1].split('\n')) if (line.startsWith('- ')) out.deferredNamespaces.push(line.slice(2).trim());
    }
  }
  return out;
}

export const toolNamesOf = (t: ResponsesTools) => [...new Set([...t.direct.keys(), ...t.codeNames])];

/** Marker for "the MCP tool whose name ends in `__<base>`, looked up at run time inside exec". */
export const RUNTIME_LOOKUP = 'mcp__*__';

/** Resolves a scripted tool name: offered names first (MCP ones preferred), then a deferred MCP tool via exec. */
export function resolveResponsesTool(t: ResponsesTools, wanted: string): string | undefined {
  const names = toolNamesOf(t);
  // a tool offered under exactly the scripted name (Codex's functions.request_user_input_async) is called directly
  if (t.direct.has(wanted)) return wanted;
  const hit = resolveToolName(wanted, names);
  if (names.includes(hit) && (/^mcp_/.test(hit) || !t.exec || !t.deferredNamespaces.some((ns) => ns.startsWith('mcp__')))) return hit;
  if (t.exec && t.deferredNamespaces.some((ns) => ns.startsWith('mcp__'))) {
    return wanted.startsWith('mcp__') ? wanted : `${RUNTIME_LOOKUP}${wanted}`;
  }
  return names.includes(hit) ? hit : undefined;
}

/** True when a call to `name` must go through the code-mode `exec` tool. */
export function viaCodeMode(t: ResponsesTools, name: string): boolean {
  return !t.direct.has(name) && !!t.exec;
}

/** JavaScript for `exec` that calls one nested tool and returns its result. */
export function execSource(name: string, args: Record<string, unknown>, yieldMs: number): string {
  const lookup = name.startsWith(RUNTIME_LOOKUP)
    ? `const base = ${JSON.stringify(name.slice(RUNTIME_LOOKUP.length))};\n` +
      `const name = ALL_TOOLS.map((t) => t.name).find((n) => n.startsWith("mcp__") && n.endsWith("__" + base)) ?? base;\n`
    : `const name = ${JSON.stringify(name)};\n`;
  return `// @exec: {"yield_time_ms": ${yieldMs}}\n` + lookup + `const result = await tools[name](${JSON.stringify(args)});\n` + `text(result);\n`;
}

export function parsedResponsesTools(p: ParsedRequest): ResponsesTools {
  return collectResponsesTools(p.raw);
}
