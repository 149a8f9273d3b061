import { mkdirSync, writeFileSync, chmodSync, renameSync } from 'node:fs';
import { dirname, join, basename } from 'node:path';

/** Writes a file only its owner can read (0600), atomically (temp file + rename). Creates the directory. */
export function writePrivateFile(path: string, content: string): string {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${Date.now()}.tmp`);
  writeFileSync(tmp, content, { mode: 0o600 });
  chmodSync(tmp, 0o600);
  renameSync(tmp, path);
  return path;
}

export function writePrivateJson(path: string, value: unknown): string {
  return writePrivateFile(path, JSON.stringify(value, null, 2) + '\n');
}
