import { execFile } from 'node:child_process';
import { statSync } from 'node:fs';

const cache = new Map<string, Promise<string>>();

/**
 * The `--help` text of a CLI (stdout + stderr), cached per binary and modification time, '' when it
 * cannot be run within `timeoutMs`. Lets a provider use a flag only when the installed version has it.
 */
export function helpText(bin: string, args: string[] = ['--help'], env?: Record<string, string>, timeoutMs = 10_000): Promise<string> {
  let stamp = '';
  try {
    stamp = String(statSync(bin).mtimeMs);
  } catch {
    /* bare name on PATH or missing: cache by name */
  }
  const key = `${bin}\u0000${stamp}\u0000${args.join('\u0000')}`;
  let p = cache.get(key);
  if (!p) {
    p = new Promise<string>((resolve) => {
      execFile(bin, args, { env: env ?? (process.env as Record<string, string>), timeout: timeoutMs, maxBuffer: 4 << 20 }, (_err, stdout, stderr) =>
        resolve(`${stdout ?? ''}\n${stderr ?? ''}`),
      );
    });
    cache.set(key, p);
  }
  return p;
}

/** True when the CLI's help text lists `flag` (e.g. `--no-alt-screen`). */
export async function helpMentions(bin: string, flag: string, env?: Record<string, string>): Promise<boolean> {
  const text = await helpText(bin, ['--help'], env);
  const escaped = flag.replace(/[.*+?^${}()|[\]\\]/gu, '\\$&');
  return new RegExp(`(^|[\\s,])${escaped}(?=[\\s,=]|$)`, 'mu').test(text);
}
