/** How a client starts cao-mcp, and how long it lets one tool call run. */
export interface ServerSpec {
  name: string;
  command: string;
  args: string[];
  /** Per tool call, in seconds: longer than handoff's longest wait (3600 s), so cao-mcp's own timeout answers first. */
  timeoutSec: number;
}

/** One supervisor client: where its config lives and how cao-mcp's entry is merged into it. */
export interface ClientSetup {
  id: string;
  label: string;
  /** The config file to edit, from the environment (HOME, CODEX_HOME, XDG_CONFIG_HOME…). */
  file(env: NodeJS.ProcessEnv): string;
  /** The whole new file, given the current text (undefined: no file yet). Throws SetupError on a file it cannot read. */
  merge(current: string | undefined, file: string, s: ServerSpec): string;
  /** Told to the user once the file is written. */
  after?: (s: ServerSpec) => string;
}

/** An error for the user: the message names the file (and line) and says what to do. */
export class SetupError extends Error {}

/** 1-based line and column of `offset` in `text`. */
export function lineCol(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, offset);
  const line = before.split('\n').length;
  return { line, column: offset - before.lastIndexOf('\n') };
}

/** Deep equality of parsed config values (key order ignored; dates by value). */
export function sameValue(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (a instanceof Date || b instanceof Date) return a instanceof Date && b instanceof Date && String(a) === String(b);
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  if (ka.length !== kb.length) return false;
  return ka.every((k) => Object.hasOwn(b, k) && sameValue((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}

/** A copy of `tree` with `value` at `path` (what an edit must produce: that entry changed, nothing else). */
export function withEntry(tree: Record<string, unknown>, path: string[], value: unknown): Record<string, unknown> {
  const [head, ...rest] = path;
  const copy: Record<string, unknown> = { ...tree };
  const child = copy[head];
  copy[head] = rest.length ? withEntry(typeof child === 'object' && child !== null ? (child as Record<string, unknown>) : {}, rest, value) : value;
  return copy;
}
