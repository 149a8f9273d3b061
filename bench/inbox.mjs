// 4. Inbox throughput: 10,000 messages to 20 mock agents from several sender processes (MCP over HTTP).
// In = messages stored per second (senders' first call → last acknowledged); out = messages typed into the
// agents per second. Lost and duplicated are counted by what the agents themselves recorded receiving.
// The main run's senders speak MCP's JSON-RPC over HTTP with a lean client (lib/raw-mcp.mjs), so that on a
// 2-core machine they leave the hub its core; a second run uses the MCP SDK's client, as agents do.
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import Database from 'better-sqlite3';
import { BENCH_DIR, REPO, args, line, log, now, sleep, summarize, writeResult } from './lib/stats.mjs';
import { startHub } from './lib/hub.mjs';

const run_ = promisify(execFile);

export async function run({ quick }) {
  const AGENTS = 20;
  const SENDERS = 4;
  const TOTAL = quick ? 2000 : 10_000;
  const SDK_TOTAL = quick ? 1000 : 2000;
  const deliverWithinMs = quick ? 100_000 : 180_000;
  const hub = await startHub({ env: { CAO_MOCK_SCRIPT: JSON.stringify({ default: { answer: 'ok' } }) }, collect: false });
  let result;
  try {
    const boss = await hub.client('inbox-boss');
    const ids = [];
    for (let i = 0; i < AGENTS; i += 5)
      ids.push(
        ...(await Promise.all(
          Array.from({ length: 5 }, (_, k) => boss.call('assign', { agent_profile: 'developer', provider: 'mock', message: `warm up ${i + k}` }).then((r) => r.terminal_id)),
        )),
      );
    const db = new Database(join(hub.home, 'cao.db'), { readonly: true });
    const open = () => db.prepare(`select count(*) as n from messages where status in ('pending','delivering')`).get().n;
    // warm-up tasks delivered first
    for (let t = Date.now(); open() > 0 && Date.now() - t < 60_000; ) await sleep(100);
    const base = db.prepare(`select count(*) as n from messages where status = 'delivered'`).get().n;

    /** SENDERS processes send `total` messages (names prefixed `tag`) and we wait until all are delivered. */
    const phase = async (tag, total, client) => {
      const before = db.prepare(`select count(*) as n from messages where status = 'delivered'`).get().n;
      await hub.mark();
      const senders = await Promise.all(
        Array.from({ length: SENDERS }, (_, k) =>
          run_(process.execPath, [join(BENCH_DIR, 'lib', 'sender.mjs'), hub.url, hub.token, `${tag}${k}`, String(total / SENDERS), ids.join(','), client], {
            cwd: REPO,
            maxBuffer: 1 << 20,
          }).then((r) => JSON.parse(r.stdout)),
        ),
      );
      const sent = senders.reduce((a, s) => a + s.sent, 0);
      const failed = senders.reduce((a, s) => a + s.failed, 0);
      const inFirst = Math.min(...senders.map((s) => s.firstAt));
      const inLast = Math.max(...senders.map((s) => s.lastAt));
      const hubStats = await hub.stats();
      log(`  inbox ${tag}: ${sent} stored in ${((inLast - inFirst) / 1000).toFixed(2)} s (${failed} refused; ${client} clients)`);
      let left = open();
      const deadline = Date.now() + deliverWithinMs;
      while (left > 0 && Date.now() < deadline) {
        await sleep(250);
        left = open();
      }
      const outLast = db.prepare(`select max(delivered_at) as t from messages`).get().t;
      const delivered = db.prepare(`select count(*) as n from messages where status = 'delivered'`).get().n - before;
      log(`  inbox ${tag}: delivered ${delivered} in ${((outLast - inFirst) / 1000).toFixed(2)} s${left ? ` (${left} still open)` : ''}`);
      return { tag, sent, failed, inFirst, inLast, outLast, delivered, left, senders, hubStats };
    };
    const main = await phase('sender', TOTAL, 'raw');
    const sdk = await phase('sdk', SDK_TOTAL, 'sdk');
    const states = db.prepare(`select status, count(*) as n from messages group by status`).all();
    db.close();
    await sleep(500); // last inputs reach the record
    result = { main, sdk, states };
  } finally {
    await hub.stop().catch(() => undefined);
  }
  // What the agents received, by their own record.
  const seen = new Map();
  let misrouted = 0;
  for (const r of hub.recordCopy) {
    if (r.event !== 'input') continue;
    const m = /inbox s=(\S+) n=(\d+) r=([0-9a-f]{8})/.exec(r.text ?? '');
    if (!m) continue;
    if (m[3] !== r.terminal) misrouted++;
    const key = `${m[1]}/${m[2]}`;
    seen.set(key, (seen.get(key) ?? 0) + 1);
  }
  const duplicated = [...seen.values()].filter((c) => c > 1).length;
  const figuresOf = (p) => {
    const received = [...seen.keys()].filter((k) => k.startsWith(p.tag)).length;
    const outSecs = (p.outLast - p.inFirst) / 1000;
    return {
      messages: p.sent,
      refused: p.failed,
      inPerSec: Math.round(p.sent / ((p.inLast - p.inFirst) / 1000)),
      outPerSec: Math.round(p.delivered / outSecs),
      storedInSec: Math.round((p.inLast - p.inFirst) / 10) / 100,
      allDeliveredInSec: p.left === 0 ? Math.round(outSecs * 100) / 100 : null,
      notDeliveredInTime: p.left,
      lost: p.left === 0 ? p.sent - received : null,
      sendCallLatencyMs: {
        medianWorstSender: Math.max(...p.senders.map((s) => s.latencies.median)),
        p99WorstSender: Math.max(...p.senders.map((s) => s.latencies.p99)),
      },
      senderCpuMsPerMessage: Math.round((p.senders.reduce((a, s) => a + s.cpuMs, 0) / p.sent) * 1000) / 1000,
      // hub CPU while the senders were at work (it was typing messages into the agents meanwhile too)
      hubCpuMsPerMessageWhileStoring: Math.round((p.hubStats.cpuMs / p.sent) * 1000) / 1000,
      hubCpuShareWhileStoring: Math.round(p.hubStats.cpuShare * 1000) / 1000,
    };
  };
  const figures = { ...figuresOf(result.main), duplicated, misrouted, sdk: figuresOf(result.sdk), states: result.states };
  const target = { inPerSec: 2000, lost: 0, duplicated: 0 };
  const res = writeResult('inbox', {
    quick,
    agents: 20,
    senders: 4,
    note: 'main run: 4 sender processes speaking MCP (JSON-RPC tools/call over Streamable HTTP, one session each) with a lean client, so that the senders leave the hub its CPU on a 2-core machine. sdk run: the same with the MCP SDK client (as agents\' cao-mcp forwarders do); it costs each sender ~1.4 ms of CPU per call, so 4 of them cannot send 2,000/s on 2 cores whatever the hub does. in = messages acknowledged by the hub per second across all senders (first call → last acknowledgement); out = messages typed into the agents per second (first send → last delivered). Each agent answers every message at once ("ok"), so out is bounded by typing + one turn per message per agent.',
    figures,
    target,
    pass: figures.inPerSec >= target.inPerSec && figures.lost === 0 && figures.sdk.lost === 0 && figures.duplicated === 0 && misrouted === 0,
  });
  console.log(`inbox (${figures.messages} messages, 20 agents, 4 sender processes with a lean MCP client)`);
  console.log(`  in ${figures.inPerSec} msg/s (stored in ${figures.storedInSec} s); out ${figures.outPerSec} msg/s (all delivered in ${figures.allDeliveredInSec ?? 'n/a'} s)`);
  console.log(`  lost ${figures.lost ?? `? (${figures.notDeliveredInTime} not delivered in time)`}, duplicated ${figures.duplicated}, misrouted ${misrouted}, refused ${figures.refused}`);
  console.log(`  send_message round trip under load: median ${figures.sendCallLatencyMs.medianWorstSender} ms, p99 ${figures.sendCallLatencyMs.p99WorstSender} ms (worst sender); sender CPU ${figures.senderCpuMsPerMessage} ms per message; hub CPU ${figures.hubCpuMsPerMessageWhileStoring} ms per message (${Math.round(figures.hubCpuShareWhileStoring * 100)} % of a core) while storing`);
  const k = figures.sdk;
  console.log(`  ${k.messages} messages from MCP SDK clients: in ${k.inPerSec} msg/s, out ${k.outPerSec} msg/s, lost ${k.lost ?? '?'}; sender CPU ${k.senderCpuMsPerMessage} ms per message; hub CPU ${k.hubCpuMsPerMessageWhileStoring} ms per message (${Math.round(k.hubCpuShareWhileStoring * 100)} % of a core) while storing`);
  return res;
}

if (import.meta.url === `file://${process.argv[1]}`) await run(args());
