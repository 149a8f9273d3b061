// Re-adoption (issue 13, durable workers): a durable hub (BENCH_DURABLE=1: its workers' ptys in the pty host of its
// CAO_HOME) runs 50 idle mock workers; we kill -9 it, spawn a new hub process on the same CAO_HOME and time from the
// spawn to every adopted worker having a known status (not `starting`), read over the hub-host IPC. The adoption's
// own `ms` (hub.adoption.ms, inside Hub.start()) stands beside it. Every worker must keep its pid; none may end.
// Baseline, in the same run, interleaved round by round: the spawn → started time of a durable hub on a CAO_HOME
// whose pty host is up and holds no workers (the same process start, database, pty host connection and HTTP
// listen, nothing to adopt): figure / baseline is what adopting 50 workers adds to a hub's start.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { args, headline, line, log, now, sleep, summarize, writeResult } from './lib/stats.mjs';
import { startHub, stopPtyHost } from './lib/hub.mjs';

const SCRIPT = JSON.stringify({ default: { answer: 'ok', delayMs: 0 } });
const READY = new Set(['idle', 'completed']);

async function waitAll(hub, ids, pred, ms, every = 100) {
  const deadline = Date.now() + ms;
  for (;;) {
    const ws = new Map((await hub.workers()).map((w) => [w.id, w]));
    const ok = ids.filter((id) => ws.has(id) && pred(ws.get(id))).length;
    if (ok === ids.length) return ws;
    if (Date.now() > deadline) throw new Error(`only ${ok}/${ids.length} workers ready after ${ms} ms`);
    await sleep(every);
  }
}

export async function run({ quick }) {
  const N = 50;
  const rounds = quick ? 3 : 6;
  const home = mkdtempSync(join(tmpdir(), 'cao-bench-adopt-'));
  const emptyHome = mkdtempSync(join(tmpdir(), 'cao-bench-adopt0-'));
  const env = { CAO_MOCK_SCRIPT: SCRIPT, BENCH_DURABLE: '1', CAO_PTYHOST_IDLE_SECONDS: '600' };
  const opts = { env, collect: false, keepHome: true };
  const hostPids = new Set();
  const per = [];
  let hub = null;
  try {
    hub = await startHub({ ...opts, home });
    if (!hub.durable) {
      log('  adopt: this build has no durable mode (no pty host): nothing to measure');
      return writeResult('adopt', { quick, skipped: 'build without a durable hub', summary: [] });
    }
    hostPids.add(hub.hostPid);
    const boss = await hub.client('adopt-boss');
    const ids = [];
    while (ids.length < N) {
      const batch = Math.min(5, N - ids.length);
      const got = await Promise.all(
        Array.from({ length: batch }, async (_, i) => {
          const r = await boss.call('assign', { agent_profile: 'developer', provider: 'mock', message: `warm up ${ids.length + i}` });
          return r.terminal_id;
        }),
      );
      ids.push(...got);
    }
    const before = await waitAll(hub, ids, (w) => READY.has(w.status), 180_000, 250);
    await boss.close();
    log(`  adopt: ${N} mock workers idle in the pty host`);
    // the empty home's pty host, started once (not timed): the baseline's hubs find it up, as the figure's do
    const warm = await startHub({ ...opts, home: emptyHome });
    hostPids.add(warm.hostPid);
    await warm.stop();
    for (let round = 1; round <= rounds; round++) {
      await sleep(1000);
      const b = await startHub({ ...opts, home: emptyHome });
      const baseMs = b.readyAt - b.spawnedAt;
      await b.stop();
      await sleep(500);
      await hub.kill9();
      hub = await startHub({ ...opts, home });
      const startedMs = hub.readyAt - hub.spawnedAt;
      const importedMs = hub.times.imported - hub.spawnedAt; // node's start + loading the build
      const after = await waitAll(hub, ids, (w) => w.status !== 'starting', 30_000, 5);
      const knownMs = now() - hub.spawnedAt;
      const a = hub.adoption ?? { adopted: [], ended: [], ms: null };
      const samePid = ids.filter((id) => after.get(id)?.pid === before.get(id).pid).length;
      const ready = ids.filter((id) => READY.has(after.get(id)?.status)).length;
      per.push({
        round,
        spawnToStatusesKnownMs: Math.round(knownMs * 10) / 10,
        spawnToStartedMs: Math.round(startedMs * 10) / 10,
        spawnToImportedMs: Math.round(importedMs * 10) / 10,
        importedToStatusesKnownMs: Math.round((knownMs - importedMs) * 10) / 10,
        adoptionMs: a.ms,
        adopted: a.adopted.length,
        ended: a.ended.length,
        samePid,
        ready,
        baselineSpawnToStartedMs: Math.round(baseMs * 10) / 10,
        baselineImportedToStartedMs: Math.round((b.times.started - b.times.imported) * 10) / 10,
        hostPid: hub.hostPid,
      });
      const p = per.at(-1);
      log(
        `  adopt round ${round}/${rounds}: spawn → ${N} statuses known ${p.spawnToStatusesKnownMs} ms (node + loading the build ${p.spawnToImportedMs} ms, then ${p.importedToStatusesKnownMs} ms; adoption ${p.adoptionMs} ms; adopted ${p.adopted}, ended ${p.ended}, same pid ${p.samePid}, ready ${p.ready}); a hub with nothing to adopt: ${p.baselineSpawnToStartedMs} ms, Hub.start() ${p.baselineImportedToStartedMs} ms`,
      );
    }
  } finally {
    await hub?.stop().catch(() => undefined); // ends the workers
    for (const pid of hostPids) if (pid) stopPtyHost(pid);
    await sleep(300);
    rmSync(home, { recursive: true, force: true });
    rmSync(emptyHome, { recursive: true, force: true });
  }
  const known = summarize(per.map((p) => p.spawnToStatusesKnownMs));
  const adoption = summarize(per.map((p) => p.adoptionMs));
  const base = summarize(per.map((p) => p.baselineSpawnToStartedMs));
  const boot = summarize(per.map((p) => p.spawnToImportedMs));
  const afterBoot = summarize(per.map((p) => p.importedToStatusesKnownMs));
  const baseStart = summarize(per.map((p) => p.baselineImportedToStartedMs));
  const kept = per.every((p) => p.adopted === N && p.ended === 0 && p.samePid === N && p.ready === N);
  // the issue's own figure: a restart budget a person or a supervisor waits through, so it stays in ms
  const target = { spawnToStatusesKnownMedianMaxMs: 1000 };
  // on the median of the rounds: on 2 shared cores one round in a few meets a load spike (the max is printed beside)
  const pass = known.median !== null && known.median <= target.spawnToStatusesKnownMedianMaxMs;
  const res = writeResult('adopt', {
    quick,
    workers: N,
    rounds,
    note: 'figure: from spawning a new durable hub process (node bench/lib/hub-host.mjs, BENCH_DURABLE=1) on the CAO_HOME of a hub killed -9 with 50 idle mock workers in its pty host, to every one of them being live in the new hub with a status other than `starting` (polled over IPC every 5 ms). adoptionMs = hub.adoption.ms (adoptWorkers inside Hub.start()). baseline: spawn → started of a durable hub on another CAO_HOME whose pty host is up and holds no workers, one per round right before the kill; ratio = median figure / median baseline. The target is in ms: it is the issue’s restart budget, what a person or a supervisor waits through, not a machine cost.',
    perRound: per,
    figures: {
      spawnToStatusesKnownMs: known,
      spawnToImportedMs: boot,
      importedToStatusesKnownMs: afterBoot,
      adoptionMs: adoption,
      baselineSpawnToStartedMs: base,
      baselineImportedToStartedMs: baseStart,
    },
    kept,
    target,
    pass: pass && kept,
    summary: [
      headline({
        id: 'adopt.known',
        label: `Re-adoption of ${N} live workers after kill -9: hub spawn → every status known (median of ${per.length} rounds; max ${known.max} ms)`,
        value: known.median,
        unit: 'ms',
        better: 'lower',
        baseline: { label: 'spawn → started of a durable hub with nothing to adopt (median)', value: base.median, unit: 'ms' },
        ratio: known.median / base.median,
        ratioOf: 'start (medians)',
        target: `≤ ${target.spawnToStatusesKnownMedianMaxMs} ms (the issue's restart budget)`,
        pass,
      }),
      headline({
        id: 'adopt.afterBoot',
        label: `Re-adoption of ${N} workers: build loaded → every status known (Hub construction + start() + first statuses, median)`,
        value: afterBoot.median,
        unit: 'ms',
        better: 'lower',
        baseline: { label: 'the same for a durable hub with nothing to adopt (median)', value: baseStart.median, unit: 'ms' },
        ratio: afterBoot.median / baseStart.median,
        ratioOf: 'start (medians)',
      }),
      headline({
        id: 'adopt.ms',
        label: `Re-adoption of ${N} workers: adoptWorkers() itself (hub.adoption.ms, median)`,
        value: adoption.median,
        unit: 'ms',
        better: 'lower',
      }),
      headline({
        id: 'adopt.kept',
        label: `Workers not kept (pid changed, ended, or not ready after adoption), over ${per.length} rounds`,
        value: per.reduce((a, p) => a + (N - Math.min(p.adopted, p.samePid, p.ready)) + p.ended, 0),
        unit: `of ${N * per.length}`,
        better: 'lower',
        target: '0',
        pass: kept,
      }),
    ],
  });
  console.log(`adopt (${N} idle mock workers, durable hub killed -9 and started again, ${per.length} rounds)`);
  console.log(line('hub spawn -> every adopted status known', known));
  console.log(line('  of which: node start + loading the build', boot));
  console.log(line('  of which: build loaded -> statuses known', afterBoot));
  console.log(line('adoptWorkers() (hub.adoption.ms)', adoption));
  console.log(line('baseline: spawn -> started, nothing to adopt', base));
  console.log(line('baseline: Hub construction + start()', baseStart));
  console.log(
    `  every worker kept its pid, none ended: ${kept ? 'yes' : 'NO'}; median ${known.median} ms, max ${known.max} ms (target: median ≤ ${target.spawnToStatusesKnownMedianMaxMs} ms)${pass ? ' ✓' : ' ✗'}`,
  );
  return res;
}

if (import.meta.url === `file://${process.argv[1]}`) await run(args());
