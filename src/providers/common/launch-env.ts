import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, isAbsolute, join } from 'node:path';

/** Copy of `env` without the given keys. */
export function withoutKeys(env: Record<string, string>, keys: Iterable<string>): Record<string, string> {
  const out = { ...env };
  for (const k of keys) delete out[k];
  return out;
}

export function runningAsRoot(): boolean {
  return typeof process.getuid === 'function' && process.getuid() === 0;
}

/**
 * The binary to run: `env[overrideVar]` when set, else `name` found on `env.PATH` (absolute path), else
 * `name` itself (the spawn then fails with a clear ENOENT).
 */
export function resolveBinary(name: string, overrideVar: string, env: Record<string, string | undefined>): string {
  const override = env[overrideVar] ?? process.env[overrideVar];
  if (override && override.trim()) return override.trim();
  if (isAbsolute(name)) return name;
  const path = env.PATH ?? process.env.PATH ?? '';
  for (const dir of path.split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, name);
    try {
      if (!statSync(candidate).isFile()) continue;
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      /* not here */
    }
  }
  return name;
}
