// The pty host's own cost (issue 13, durable workers): a durable hub (BENCH_DURABLE=1) whose workers' ptys live in
// the pty host of its CAO_HOME, with 0, 10 and 50 busy mock terminals (as scale.mjs makes them busy: 400 lines of
// history, then a spinner at 10 frames/s and a piece of text every 200 ms). Over a steady window with every terminal
// busy we read, from /proc in this process, the pty host's CPU (share of one core) and RSS, and the hub process's
// own over the same window; least-squares growth per terminal of each.
// Baseline: the hub's own figures, same window. Both processes see the same bytes of the same terminals at the same
// time on the same cores; the host's work per byte (read the pty, feed its headless screen, forward over the
// socket) is a part of the hub's (which also renders, settles, detects and serves), so host / hub is what durable
// mode adds over what the hub already costs, and a slower machine slows both. (The raw pty cost, node-pty reading
// the bytes with none of our code, would be a floor, but no process here reads these bytes without our code; the
// mock agents' own CPU, scale.mjs's baseline, is recorded beside.)
import { args, headline, log, now, sleep, writeResult } from './lib/stats.mjs';
import { startHub } from './lib/hub.mjs';
import { EventLog } from './lib/events.mjs';
import { busyScript, startBusyAgents, waitStreaming } from './lib/busy.mjs';
import { cpuBetween, cpuMsOf, descendantsCpu, leastSquares, rssMBOf } from './lib/proc.mjs';

/** CPU share (% of one core) and RSS of the pty host, the hub and the agents over `windowMs`. */
async function window(hub, windowMs) {
  const t0 = now();
  const host0 = cpuMsOf(hub.hostPid);
  const hub0 = cpuMsOf(hub.pid);
  const agents0 = descendantsCpu(hub.hostPid);
  await sleep(windowMs);
  const wall = now() - t0;
  const pct = (ms) => Math.round((ms / wall) * 1000) / 10;
  return {
    hostCpuPct: pct(cpuMsOf(hub.hostPid) - host0),
    hubCpuPct: pct(cpuMsOf(hub.pid) - hub0),
    agentsCpuPct: pct(cpuBetween(agents0, descendantsCpu(hub.hostPid))),
    hostRssMB: rssMBOf(hub.hostPid),
    hubRssMB: rssMBOf(hub.pid),
    wallMs: Math.round(wall),
  };
}

/** Targets (set from the first runs, with headroom: see bench/README.md). */
const TARGET_CPU = 1;
const TARGET_RSS = 1.5;

export async function run({ quick }) {
  const steps = [10, 50];
  const windowMs = quick ? 4000 : 10_000;
  const hub = await startHub({ env: { CAO_MOCK_SCRIPT: busyScript(), BENCH_DURABLE: '1' } });
  if (!hub.durable) {
    await hub.stop();
    log('  ptyhost: this build has no pty host: nothing to measure');
    return writeResult('ptyhost', { quick, skipped: 'build without a pty host', summary: [] });
  }
  const points = [];
  const events = new EventLog(hub, 100);
  try {
    const boss = await hub.client('ptyhost-boss');
    await sleep(quick ? 1000 : 2000);
    points.push({ terminals: 0, ...(await window(hub, windowMs)) });
    log(`  ptyhost: 0 terminals: ${JSON.stringify(points[0])}`);
    const ids = [];
    for (const n of steps) {
      const t0 = Date.now();
      await startBusyAgents(boss, ids, n, 'terminal');
      await waitStreaming(hub, events, ids, 180_000);
      log(`  ptyhost: ${n} terminals busy after ${((Date.now() - t0) / 1000).toFixed(1)} s`);
      await sleep(2000); // let start-up work drain
      const w = await window(hub, windowMs);
      const st = await hub.statuses();
      points.push({ terminals: n, busy: ids.filter((id) => st[id] === 'processing').length, ...w });
      log(`  ptyhost: ${n} terminals: ${JSON.stringify(points.at(-1))}`);
    }
  } finally {
    await events.stop();
    await hub.stop();
  }
  const xs = points.map((p) => p.terminals);
  const fit = (k) =>
    leastSquares(
      xs,
      points.map((p) => p[k]),
    );
  const fits = { hostCpu: fit('hostCpuPct'), hubCpu: fit('hubCpuPct'), hostRss: fit('hostRssMB'), hubRss: fit('hubRssMB') };
  const top = points.at(-1);
  const target = { terminals: 50, hostOverHubCpuMax: TARGET_CPU, hostOverHubRssPerTerminalMax: TARGET_RSS };
  const cpuRatio = top.hostCpuPct / top.hubCpuPct;
  const rssRatio = fits.hostRss.perUnit / fits.hubRss.perUnit;
  const cpuPass = cpuRatio <= target.hostOverHubCpuMax;
  const rssPass = rssRatio <= target.hostOverHubRssPerTerminalMax;
  const res = writeResult('ptyhost', {
    quick,
    windowMs,
    workload:
      'as scale.mjs: each mock terminal first answers a 400-line task, then streams: spinner at 10 frames/s, a piece of a 400-line answer every 200 ms',
    note: "cpu = CPU time (utime + stime, /proc/<pid>/stat) / wall time of the window, share of one core; rss = VmRSS (/proc/<pid>/status) at the window's end; both read by the benchmark process. baseline: the hub process's own figures over the same window (it sees the same bytes and does more with them); agentsCpuPct = the mock agents' own CPU (children of the pty host), scale.mjs's baseline, for reference.",
    points,
    perTerminal: fits,
    target,
    pass: cpuPass && rssPass,
    summary: [
      ...points
        .filter((p) => p.terminals > 0)
        .map((p) =>
          headline({
            id: `ptyhost.cpu${p.terminals}`,
            label: `${p.terminals} busy terminals (10 fps spinner + streaming): pty host CPU`,
            value: p.hostCpuPct,
            unit: '% of a core',
            better: 'lower',
            baseline: { label: "the hub process's own CPU, same window", value: p.hubCpuPct, unit: '% of a core' },
            ratio: p.hostCpuPct / p.hubCpuPct,
            ratioOf: 'CPU',
            target: p.terminals === target.terminals ? `≤ ${target.hostOverHubCpuMax}×` : null,
            pass: p.terminals === target.terminals ? cpuPass : null,
          }),
        ),
      headline({
        id: 'ptyhost.cpuPerTerminal',
        label: `Pty host CPU growth per busy terminal (least squares over 0–${top.terminals}, r² ${fits.hostCpu.r2})`,
        value: fits.hostCpu.perUnit,
        unit: '% of a core',
        better: 'lower',
        baseline: { label: "the hub's own growth per terminal", value: fits.hubCpu.perUnit, unit: '% of a core' },
        ratio: fits.hostCpu.perUnit / fits.hubCpu.perUnit,
        ratioOf: 'CPU',
      }),
      headline({
        id: 'ptyhost.rss',
        label: `${top.terminals} busy terminals: pty host RSS`,
        value: top.hostRssMB,
        unit: 'MB',
        better: 'lower',
        baseline: { label: "the hub process's own RSS", value: top.hubRssMB, unit: 'MB' },
        ratio: top.hostRssMB / top.hubRssMB,
        ratioOf: 'RSS',
      }),
      headline({
        id: 'ptyhost.rssPerTerminal',
        label: `Pty host RSS growth per terminal (least squares over 0–${top.terminals}, r² ${fits.hostRss.r2})`,
        value: fits.hostRss.perUnit,
        unit: 'MB',
        better: 'lower',
        baseline: { label: "the hub's own growth per terminal", value: fits.hubRss.perUnit, unit: 'MB' },
        ratio: rssRatio,
        ratioOf: 'RSS',
        target: `≤ ${target.hostOverHubRssPerTerminalMax}×`,
        pass: rssPass,
      }),
    ],
  });
  console.log('ptyhost (durable hub: the pty host process beside the hub; steady window with every terminal busy)');
  for (const p of points)
    console.log(
      `  ${String(p.terminals).padStart(3)} terminals   pty host cpu ${p.hostCpuPct.toFixed(1).padStart(5)} %  rss ${String(p.hostRssMB).padStart(6)} MB   hub cpu ${p.hubCpuPct.toFixed(1).padStart(5)} %  rss ${String(p.hubRssMB).padStart(6)} MB   agents cpu ${p.agentsCpuPct} %`,
    );
  console.log(
    `  per terminal: pty host ${fits.hostCpu.perUnit} % cpu (r² ${fits.hostCpu.r2}), ${fits.hostRss.perUnit} MB (r² ${fits.hostRss.r2}); hub ${fits.hubCpu.perUnit} % cpu, ${fits.hubRss.perUnit} MB`,
  );
  return res;
}

if (import.meta.url === `file://${process.argv[1]}`) await run(args());
