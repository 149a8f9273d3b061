import { mkdirSync, chmodSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The data directory: `$CAO_HOME`, default `~/.cao-mcp`. Created 0700 on first use. */
export function caoHome(): string {
  const dir = resolve(process.env.CAO_HOME || join(homedir(), '.cao-mcp'));
  ensureDir(dir);
  return dir;
}

export function ensureDir(dir: string, mode = 0o700): string {
  mkdirSync(dir, { recursive: true, mode });
  try {
    chmodSync(dir, mode);
  } catch {
    /* not ours to change (e.g. a shared dir); permissions stay as they are */
  }
  return dir;
}

export function logsDir(): string {
  return ensureDir(join(caoHome(), 'logs'));
}

/** `$CAO_HOME/run/<id>/`: files given to one worker CLI (created 0700). */
export function runtimeDir(terminalId: string): string {
  return ensureDir(runtimeDirPath(terminalId));
}

/** Where runtimeDir() is, without creating it (to remove it when the worker ends). */
export function runtimeDirPath(terminalId: string): string {
  return join(caoHome(), 'run', terminalId);
}

/** Root of the installed package (holds dist/, profiles/, drizzle/). */
export function packageRoot(): string {
  // this file is dist/util/paths.js (or src/util/paths.ts under vitest)
  return resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
}

/** Absolute path of a built entry point inside the package, e.g. `dist/cli/main.js`. */
export function distFile(rel: string): string {
  return join(packageRoot(), 'dist', rel);
}
