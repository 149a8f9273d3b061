import { readdirSync, readFileSync } from 'node:fs';

/**
 * Pids of live processes whose environment holds `KEY=value` (a throwaway HOME is unique per run, and CLIs pass
 * it on to their children, MCP servers included): used to prove that killing a CLI left nothing behind.
 */
export function pidsWithEnv(key: string, value: string): number[] {
  const needle = `${key}=${value}\0`;
  const out: number[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d) || Number(d) === process.pid) continue;
    try {
      const env = readFileSync(`/proc/${d}/environ`, 'latin1');
      if (env.startsWith(needle) || env.includes(`\0${needle}`)) {
        const stat = readFileSync(`/proc/${d}/stat`, 'latin1');
        if (!/^\d+ \(.*\) Z /s.test(stat)) out.push(Number(d)); // zombies are already dead
      }
    } catch {
      /* gone, or not ours to read */
    }
  }
  return out;
}

/** Waits until no live process carries `KEY=value`; returns the ones still there after `timeoutMs`. */
export async function waitNoProcessesWithEnv(key: string, value: string, timeoutMs = 5000): Promise<number[]> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const left = pidsWithEnv(key, value);
    if (!left.length || Date.now() > until) return left;
    await new Promise((r) => setTimeout(r, 100));
  }
}
