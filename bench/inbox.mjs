// 4. Inbox throughput: 10,000 messages to 20 mock agents from several sender processes (MCP over HTTP).
// In = messages stored per second (senders' first call → last acknowledged); out = messages typed into the
// agents per second. Lost and duplicated are counted by what the agents themselves recorded receiving.
// The main run's senders speak MCP's JSON-RPC over HTTP with a lean client (lib/raw-mcp.mjs), so that on a
// 2-core machine they leave the hub its core; a second run uses the MCP SDK's client, as agents do.
// Baseline: the same senders, before and after the main run, against a bare HTTP server that stores each message with
// one SQLite insert (lib/baseline-host.mjs): hub CPU per message and intake are reported as ratios to it.
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import Database from 'better-sqlite3';
import { BENCH_DIR, REPO, args, headline, log, median, sleep, writeResult } from './lib/stats.mjs';
import { startHub } from './lib/hub.mjs';
import { startBaselineServer } from './lib/baselines.mjs';

const run_ = promisify(execFile);

export async function run({ quick }) {
  const AGENTS = 20;
  const SENDERS = 4;
  const TOTAL = quick ? 2000 : 10_000;
  const SDK_TOTAL = quick ? 1000 : 2000;
  const deliverWithinMs = quick ? 100_000 : 180_000;
  const hub = await startHub({ env: { CAO_MOCK_SCRIPT: JSON.stringify({ default: { answer: 'ok' } }) }, collect: false });
  const bare = await startBaselineServer();
  let result;
  /** Starts SENDERS sender processes against `url` and returns what each of them reports. */
  const send = (url, token, tag, total, ids, client) =>
    Promise.all(
      Array.from({ length: SENDERS }, (_, k) =>
        run_(process.execPath, [join(BENCH_DIR, 'lib', 'sender.mjs'), url, token, `${tag}${k}`, String(total / SENDERS), ids.join(','), client], {
          cwd: REPO,
          maxBuffer: 1 << 20,
        }).then((r) => JSON.parse(r.stdout)),
      ),
    );
  /** The same senders against the bare server: its CPU per message and the intake rate. */
  const baselinePhase = async (ids) => {
    await bare.mark();
    const senders = await send(bare.url, bare.token, 'bare', TOTAL, ids, 'raw');
    const st = await bare.stats();
    const sent = senders.reduce((a, s) => a + s.sent, 0);
    const secs = (Math.max(...senders.map((s) => s.lastAt)) - Math.min(...senders.map((s) => s.firstAt))) / 1000;
    const b = { sent, inPerSec: sent / secs, cpuMsPerMessage: st.cpuMs / st.inserts };
    log(
      `  inbox baseline (bare HTTP + SQLite insert): ${sent} stored in ${secs.toFixed(2)} s, ${b.cpuMsPerMessage.toFixed(3)} ms of server CPU per message`,
    );
    return b;
  };
  try {
    const boss = await hub.client('inbox-boss');
    const ids = [];
    for (let i = 0; i < AGENTS; i += 5)
      ids.push(
        ...(await Promise.all(
          Array.from({ length: 5 }, (_, k) =>
            boss.call('assign', { agent_profile: 'developer', provider: 'mock', message: `warm up ${i + k}` }).then((r) => r.terminal_id),
          ),
        )),
      );
    const db = new Database(join(hub.home, 'cao.db'), { readonly: true });
    const open = () => db.prepare(`select count(*) as n from messages where status in ('pending','delivering')`).get().n;
    // warm-up tasks delivered first
    for (let t = Date.now(); open() > 0 && Date.now() - t < 60_000;) await sleep(100);

    /** SENDERS processes send `total` messages (names prefixed `tag`) and we wait until all are delivered. */
    const phase = async (tag, total, client) => {
      const before = db.prepare(`select count(*) as n from messages where status = 'delivered'`).get().n;
      await hub.mark();
      const senders = await send(hub.url, hub.token, tag, total, ids, client);
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
    // warm-up of both servers' send paths (JIT), not counted
    await send(bare.url, bare.token, 'bare', 400, ids, 'raw');
    await phase('warm', 400, 'raw');
    // baseline rounds on either side of the main run, so a change of the machine's speed meanwhile hits both
    const baselines = [await baselinePhase(ids)];
    const main = await phase('sender', TOTAL, 'raw');
    baselines.push(await baselinePhase(ids));
    const sdk = await phase('sdk', SDK_TOTAL, 'sdk');
    const states = db.prepare(`select status, count(*) as n from messages group by status`).all();
    db.close();
    await sleep(500); // last inputs reach the record
    result = { main, sdk, states, baselines };
  } finally {
    await bare.stop().catch(() => undefined);
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
  const bl = result.baselines;
  const baseline = {
    rounds: bl.map((b) => ({ inPerSec: Math.round(b.inPerSec), cpuMsPerMessage: Math.round(b.cpuMsPerMessage * 1000) / 1000 })),
    inPerSec: Math.round(median(bl.map((b) => b.inPerSec))),
    cpuMsPerMessage: Math.round(median(bl.map((b) => b.cpuMsPerMessage)) * 1000) / 1000,
  };
  // costs over the baseline's: CPU per message, and time per message (the inverse of intake)
  const cpuRatio = figures.hubCpuMsPerMessageWhileStoring / baseline.cpuMsPerMessage;
  const intakeRatio = baseline.inPerSec / figures.inPerSec;
  figures.baseline = baseline;
  figures.hubCpuPerMessageRatio = Math.round(cpuRatio * 1000) / 1000;
  figures.intakeTimeRatio = Math.round(intakeRatio * 1000) / 1000;
  const target = { hubCpuPerMessageRatioMax: 3, lost: 0, duplicated: 0 };
  const cpuPass = cpuRatio <= target.hubCpuPerMessageRatioMax;
  const intactPass = figures.lost === 0 && figures.sdk.lost === 0 && figures.duplicated === 0 && misrouted === 0;
  const res = writeResult('inbox', {
    quick,
    agents: 20,
    senders: 4,
    note: 'main run: 4 sender processes speaking MCP (JSON-RPC tools/call over Streamable HTTP, one session each) with a lean client, so that the senders leave the hub its CPU on a 2-core machine. sdk run: the same with the MCP SDK client (as agents\' cao-mcp forwarders do); it costs each sender ~1.4 ms of CPU per call, so 4 of them cannot send 2,000/s on 2 cores whatever the hub does. in = messages acknowledged by the hub per second across all senders (first call → last acknowledgement); out = messages typed into the agents per second (first send → last delivered). Each agent answers every message at once ("ok"), so out is bounded by typing + one turn per message per agent. baseline: the same 4 lean senders, just before and just after the main run, against a bare node:http server that stores each message with one prepared SQLite insert (WAL, autocommit) and answers JSON; its CPU per message (median of the two rounds) is what storing one message over HTTP costs at the least on this machine now. Ratios: hub CPU per message / baseline CPU per message; baseline intake / hub intake.',
    figures,
    target,
    pass: cpuPass && intactPass,
    summary: [
      headline({
        id: 'inbox.hubCpu',
        label: `Inbox: hub CPU per send_message (${figures.messages} messages, 20 agents, 4 lean MCP senders)`,
        value: figures.hubCpuMsPerMessageWhileStoring,
        unit: 'ms',
        better: 'lower',
        baseline: { label: 'bare HTTP JSON round trip + SQLite insert, same senders', value: baseline.cpuMsPerMessage, unit: 'ms' },
        ratio: cpuRatio,
        ratioOf: 'CPU per message',
        target: `≤ ${target.hubCpuPerMessageRatioMax}×`,
        pass: cpuPass,
      }),
      headline({
        id: 'inbox.in',
        label: 'Inbox: intake (messages acknowledged per second)',
        value: figures.inPerSec,
        unit: 'msg/s',
        better: 'higher',
        baseline: { label: 'the bare server, same senders', value: baseline.inPerSec, unit: 'msg/s' },
        ratio: intakeRatio,
        ratioOf: 'time per message',
      }),
      headline({
        id: 'inbox.out',
        label: 'Inbox: out (typed into the agents per second)',
        value: figures.outPerSec,
        unit: 'msg/s',
        better: 'higher',
      }),
      headline({
        id: 'inbox.sdkIn',
        label: `Inbox: intake from 4 MCP SDK client processes (${figures.sdk.messages} messages, as agents send)`,
        value: figures.sdk.inPerSec,
        unit: 'msg/s',
        better: 'higher',
        baseline: { label: 'the bare server, lean senders', value: baseline.inPerSec, unit: 'msg/s' },
        ratio: baseline.inPerSec / figures.sdk.inPerSec,
        ratioOf: 'time per message',
      }),
      headline({
        id: 'inbox.lostDup',
        label: 'Inbox: lost + duplicated + misrouted',
        value: (figures.lost ?? NaN) + (figures.sdk.lost ?? NaN) + figures.duplicated + misrouted,
        unit: 'messages',
        better: 'lower',
        target: '0',
        pass: intactPass,
      }),
    ],
  });
  console.log(`inbox (${figures.messages} messages, 20 agents, 4 sender processes with a lean MCP client)`);
  console.log(
    `  in ${figures.inPerSec} msg/s (stored in ${figures.storedInSec} s); out ${figures.outPerSec} msg/s (all delivered in ${figures.allDeliveredInSec ?? 'n/a'} s)`,
  );
  console.log(
    `  lost ${figures.lost ?? `? (${figures.notDeliveredInTime} not delivered in time)`}, duplicated ${figures.duplicated}, misrouted ${misrouted}, refused ${figures.refused}`,
  );
  console.log(
    `  send_message round trip under load: median ${figures.sendCallLatencyMs.medianWorstSender} ms, p99 ${figures.sendCallLatencyMs.p99WorstSender} ms (worst sender); sender CPU ${figures.senderCpuMsPerMessage} ms per message; hub CPU ${figures.hubCpuMsPerMessageWhileStoring} ms per message (${Math.round(figures.hubCpuShareWhileStoring * 100)} % of a core) while storing`,
  );
  const k = figures.sdk;
  console.log(
    `  baseline (bare HTTP + SQLite insert, same senders): ${baseline.cpuMsPerMessage} ms of CPU per message, ${baseline.inPerSec} msg/s in (rounds ${baseline.rounds.map((b) => `${b.cpuMsPerMessage} ms / ${b.inPerSec} msg/s`).join('; ')})`,
  );
  console.log(
    `  hub CPU per message = ${figures.hubCpuPerMessageRatio}× the baseline's (target ≤ ${target.hubCpuPerMessageRatioMax}×)${cpuPass ? ' ✓' : ' ✗'}; time per message in = ${figures.intakeTimeRatio}× the baseline's`,
  );
  console.log(
    `  ${k.messages} messages from MCP SDK clients: in ${k.inPerSec} msg/s, out ${k.outPerSec} msg/s, lost ${k.lost ?? '?'}; sender CPU ${k.senderCpuMsPerMessage} ms per message; hub CPU ${k.hubCpuMsPerMessageWhileStoring} ms per message (${Math.round(k.hubCpuShareWhileStoring * 100)} % of a core) while storing`,
  );
  return res;
}

if (import.meta.url === `file://${process.argv[1]}`) await run(args());
