import { pidsWithEnv } from '../procs.js';

export { pidsWithEnv };

/** Waits until no live process carries `KEY=value`; returns the ones still there after `timeoutMs`. */
export async function waitNoProcessesWithEnv(key: string, value: string, timeoutMs = 5000): Promise<number[]> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const left = pidsWithEnv(key, value);
    if (!left.length || Date.now() > until) return left;
    await new Promise((r) => setTimeout(r, 100));
  }
}
