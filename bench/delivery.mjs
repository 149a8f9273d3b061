// 2. Delivery latency. Idle: `send_message` to an idle agent → the message's bytes written to its pty (the hub's bus
// `input` event of kind 'paste'). Busy: a message sent while the agent works → how soon after it goes idle it is
// pasted (from the agent's own `final_frame` record, and from the hub's status event).
import { args, line, log, now, sleep, summarize, writeResult } from './lib/stats.mjs';
import { startHub } from './lib/hub.mjs';
import { EventLog, isReadyStatus } from './lib/events.mjs';

const SCRIPT = JSON.stringify({
  rules: [{ match: '[busy]', answer: 'worked on {{input}}', delayMs: 1500 }],
  default: { answer: 'ok' },
});

export async function run({ quick }) {
  const AGENTS = 2;
  const idleN = quick ? 20 : 100;
  const busyN = quick ? 6 : 30;
  const hub = await startHub({ env: { CAO_MOCK_SCRIPT: SCRIPT } });
  const idle = [];
  const idleQueued = [];
  const busy = [];
  const busyStatus = [];
  let events;
  try {
    const boss = await hub.client('delivery-boss');
    events = new EventLog(hub);
    const ids = [];
    for (let i = 0; i < AGENTS; i++) ids.push((await boss.call('assign', { agent_profile: 'developer', provider: 'mock', message: `warm up ${i}` })).terminal_id);
    // every agent has taken its warm-up task and finished it
    for (const id of ids) {
      await events.waitFor((e) => e.ev === 'input' && e.id === id && e.kind === 'paste', 30_000);
      await events.waitFor((e) => e.ev === 'status' && e.id === id && isReadyStatus(e.status) && e.reason === 'detected', 30_000);
    }
    await sleep(300);

    /** Waits until `id` has been ready (and quiet) for `ms`: a truly idle receiver. */
    const settledIdle = async (id, ms = 150) => {
      for (;;) {
        const st = events.all.filter((e) => e.ev === 'status' && e.id === id);
        const last = st[st.length - 1];
        if (last && isReadyStatus(last.status) && now() - last.t >= ms) return;
        await sleep(20);
      }
    };

    const lane = async (id, k) => {
      for (let n = 0; n < idleN / AGENTS; n++) {
        await settledIdle(id);
        const from = events.length;
        const t0 = now();
        const r = await boss.call('send_message', { receiver_id: id, message: `idle probe ${k}/${n}` });
        const paste = await events.waitFor((e) => e.ev === 'input' && e.id === id && e.kind === 'paste', 30_000, from);
        const queued = await events.waitFor((e) => e.ev === 'queued' && e.mid === r.message_id, 5_000, from);
        idle.push(paste.t - t0);
        idleQueued.push(paste.t - queued.t);
        await events.waitFor((e) => e.ev === 'status' && e.id === id && isReadyStatus(e.status) && e.t > paste.t, 30_000, from);
      }
      for (let n = 0; n < busyN / AGENTS; n++) {
        await settledIdle(id);
        let from = events.length;
        await boss.call('send_message', { receiver_id: id, message: `[busy] job ${k}/${n}` });
        await events.waitFor((e) => e.ev === 'status' && e.id === id && e.status === 'processing', 30_000, from);
        await sleep(300); // well inside the 1.5 s of work
        const probeSentAt = now();
        from = events.length;
        await boss.call('send_message', { receiver_id: id, message: `busy probe ${k}/${n}` });
        const paste = await events.waitFor((e) => e.ev === 'input' && e.id === id && e.kind === 'paste', 30_000, from);
        const ready = events.all.slice(from).find((e) => e.ev === 'status' && e.id === id && isReadyStatus(e.status) && e.t <= paste.t);
        busy.push({ id, probeSentAt, pasteAt: paste.t, readyAt: ready?.t ?? NaN, job: `[busy] job ${k}/${n}` });
        await events.waitFor((e) => e.ev === 'status' && e.id === id && isReadyStatus(e.status) && e.t > paste.t, 30_000, from);
      }
    };
    await Promise.all(ids.map((id, k) => lane(id, k)));
    await events.stop();
  } finally {
    await events?.stop();
    await hub.stop().catch(() => undefined);
  }
  // Busy: the agent's own record says when the busy turn's final frame was flushed.
  const rec = hub.recordCopy;
  const afterFinal = [];
  for (const b of busy) {
    const input = rec.find((r) => r.terminal === b.id && r.event === 'input' && r.text?.includes(b.job));
    const final = input && rec.find((r) => r.terminal === b.id && r.event === 'final_frame' && r.t > input.t);
    afterFinal.push(final ? b.pasteAt - final.t : NaN);
    busyStatus.push(b.pasteAt - b.readyAt);
  }
  const figures = {
    idleSendToPasteMs: summarize(idle),
    idleQueuedToPasteMs: summarize(idleQueued),
    busyFinalFrameToPasteMs: summarize(afterFinal),
    busyStatusToPasteMs: summarize(busyStatus),
  };
  const target = { idleP99Ms: 25, busyAfterIdleMs: 250 };
  const res = writeResult('delivery', {
    quick,
    agents: AGENTS,
    note: 'idle: from the client calling send_message to the hub writing the paste into the pty; busy: a message queued while the agent works, pasted after its turn ends (from the mock\'s final_frame record, and from the hub\'s ready status event).',
    figures,
    target,
    pass: figures.idleSendToPasteMs.p99 <= target.idleP99Ms && figures.busyFinalFrameToPasteMs.max <= target.busyAfterIdleMs,
  });
  console.log('delivery');
  console.log(line('idle: send_message -> paste written', figures.idleSendToPasteMs));
  console.log(line('idle: stored (queued) -> paste written', figures.idleQueuedToPasteMs));
  console.log(line('busy: final frame -> paste written', figures.busyFinalFrameToPasteMs));
  console.log(line('busy: status ready -> paste written', figures.busyStatusToPasteMs));
  return res;
}

if (import.meta.url === `file://${process.argv[1]}`) await run(args());
