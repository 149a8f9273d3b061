import { readdirSync, readFileSync } from 'node:fs';

/** Pids of live processes whose environment has `name=value` (how we find every process of one worker). */
export function pidsWithEnv(name: string, value: string): number[] {
  const needle = `${name}=${value}`;
  const out: number[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const env = readFileSync(`/proc/${d}/environ`, 'utf8').split('\0');
      if (!env.includes(needle)) continue;
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      if (/\) Z /.test(stat)) continue; // zombie: already dead, waiting to be reaped
      out.push(Number(d));
    } catch {
      /* gone, or not ours */
    }
  }
  return out;
}

export async function waitFor<T>(fn: () => T | Promise<T>, ok: (v: T) => boolean, ms = 5000, every = 50): Promise<T> {
  const deadline = Date.now() + ms;
  let v = await fn();
  while (!ok(v) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, every));
    v = await fn();
  }
  return v;
}
