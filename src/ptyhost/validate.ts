import { constants } from 'node:os';
import type { SpawnRequest } from './protocol.js';

type Kind = 'string' | 'size';

/** A request's field, checked: 'size' is an integer 1..10000 (columns, rows). */
export function field(m: Record<string, unknown>, name: string, kind: 'string'): string;
export function field(m: Record<string, unknown>, name: string, kind: 'size'): number;
export function field(m: Record<string, unknown>, name: string, kind: Kind): string | number {
  const v = m[name];
  if (kind === 'string' && typeof v === 'string') return v;
  if (kind === 'size' && Number.isInteger(v) && (v as number) >= 1 && (v as number) <= 10_000) return v as number;
  throw new Error(`${name} must be ${kind === 'string' ? 'a string' : 'an integer from 1 to 10000'}`);
}

export function optStr(m: Record<string, unknown>, name: string): string | undefined {
  return m[name] === undefined ? undefined : field(m, name, 'string');
}

export function optInt(m: Record<string, unknown>, name: string): number | undefined {
  const v = m[name];
  if (v === undefined) return undefined;
  if (!Number.isInteger(v) || (v as number) < 0) throw new Error(`${name} must be a non-negative integer`);
  return v as number;
}

export function signalName(m: Record<string, unknown>): NodeJS.Signals {
  const s = field(m, 'signal', 'string');
  if (!Object.hasOwn(constants.signals, s)) throw new Error(`unknown signal ${JSON.stringify(s)}`);
  return s as NodeJS.Signals;
}

export function spawnRequest(m: Record<string, unknown>): SpawnRequest {
  const args = m.args ?? [];
  if (!Array.isArray(args) || !args.every((a) => typeof a === 'string')) throw new Error('args must be an array of strings');
  const env = m.env;
  if (!env || typeof env !== 'object' || Array.isArray(env) || !Object.values(env).every((v) => typeof v === 'string'))
    throw new Error('env must be an object of strings');
  const tid = field(m, 'tid', 'string');
  if (!tid) throw new Error('tid must not be empty');
  return {
    tid,
    command: field(m, 'command', 'string'),
    args: args as string[],
    env: env as Record<string, string>,
    cwd: field(m, 'cwd', 'string'),
    cols: field(m, 'cols', 'size'),
    rows: field(m, 'rows', 'size'),
    meta: m.meta ?? null,
  };
}
