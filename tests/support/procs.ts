import { readdirSync, readFileSync } from 'node:fs';

/**
 * Pids of live processes whose environment holds `name=value` (how we find every process of one worker:
 * CLIs pass their environment on to their children, MCP servers included). Zombies are already dead.
 */
export function pidsWithEnv(name: string, value: string): number[] {
  const needle = `${name}=${value}\0`;
  const out: number[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d) || Number(d) === process.pid) continue;
    try {
      const env = readFileSync(`/proc/${d}/environ`, 'latin1');
      if (!env.startsWith(needle) && !env.includes(`\0${needle}`)) continue;
      const stat = readFileSync(`/proc/${d}/stat`, 'latin1');
      if (!/^\d+ \(.*\) Z /s.test(stat)) out.push(Number(d));
    } catch {
      /* gone, or not ours to read */
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

/** True while a process with this pid exists (a zombie not yet reaped counts: it still holds its pid). */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
