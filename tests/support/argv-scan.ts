import { readdirSync, readFileSync } from 'node:fs';
import { pidsWithEnv } from './procs.js';

/** The CAO_TOKEN in the environment of a live process of terminal `id` (how a same-user sibling could read it). */
export function tokenOfTerminal(id: string): string | undefined {
  for (const pid of pidsWithEnv('CAO_TERMINAL_ID', id)) {
    try {
      const env = readFileSync(`/proc/${pid}/environ`, 'latin1').split('\0');
      const hit = env.find((e) => e.startsWith('CAO_TOKEN='));
      if (hit) return hit.slice('CAO_TOKEN='.length);
    } catch {
      /* gone */
    }
  }
  return undefined;
}

/** Every live process whose command line (`/proc/<pid>/cmdline`, what `ps` shows any user) holds `secret`. */
export function processesWithArgvContaining(secret: string): Array<{ pid: number; argv: string }> {
  const out: Array<{ pid: number; argv: string }> = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const argv = readFileSync(`/proc/${d}/cmdline`, 'latin1');
      if (argv.includes(secret)) out.push({ pid: Number(d), argv: argv.replace(/\0/g, ' ').slice(0, 300) });
    } catch {
      /* gone */
    }
  }
  return out;
}
