// Busy mock agents, as scale.mjs and ptyhost.mjs make them: 400 lines of history, then a turn that keeps the agent
// busy for minutes (spinner at 10 fps, one piece of text every 200 ms).
import { sleep } from './stats.mjs';

/** The mock script: the first task answers 400 lines at once; any later one streams for minutes. */
export function busyScript() {
  const lines = (tag) =>
    Array.from({ length: 400 }, (_, i) => `${tag} ${i}: the quick brown fox jumps over the lazy dog while the build runs and tests pass`);
  return JSON.stringify({
    spinnerIntervalMs: 100,
    rules: [{ match: '[history]', answer: lines('earlier line').join('\n') }],
    default: { answer: lines('line').join('\n'), delayMs: 0, stream: { chunks: 1500, intervalMs: 200 } },
  });
}

/**
 * Starts agents until `ids` holds `n`, a few at a time (a burst of node start-ups would measure the machine, not
 * the hub): each gets its history task, then the streaming one.
 */
export async function startBusyAgents(boss, ids, n, what) {
  while (ids.length < n) {
    const batch = Math.min(5, n - ids.length);
    const got = await Promise.all(
      Array.from({ length: batch }, async (_, i) => {
        const { terminal_id: id } = await boss.call('assign', {
          agent_profile: 'developer',
          provider: 'mock',
          message: `[history] for ${what} ${ids.length + i}`,
        });
        await boss.call('send_message', { receiver_id: id, message: `stream for the ${what} benchmark` });
        return id;
      }),
    );
    ids.push(...got);
  }
}

/** Waits until every agent in `ids` has taken its second message (the streaming turn) and is busy with it. */
export async function waitStreaming(hub, events, ids, ms) {
  const deadline = Date.now() + ms;
  for (;;) {
    const pastes = new Map();
    for (const e of events.all) if (e.ev === 'input' && e.kind === 'paste') pastes.set(e.id, (pastes.get(e.id) ?? 0) + 1);
    const st = await hub.statuses();
    const ready = ids.filter((id) => (pastes.get(id) ?? 0) >= 2 && st[id] === 'processing').length;
    if (ready === ids.length) return;
    if (Date.now() > deadline) throw new Error(`only ${ready}/${ids.length} agents streaming after ${ms} ms`);
    await sleep(250);
  }
}
