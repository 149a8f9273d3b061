// 5. Screen ingest: MB per CPU second through the hub's screen pipeline (bus -> ScreenFeed -> StatusMonitor), replaying
// the recorded raw streams (tests/fixtures/cao/*_raw.txt) in a loop, in 4 KiB chunks, beside the baseline of
// @xterm/headless alone on the same bytes, in alternating rounds: the ratio is our pipeline's cost per byte over the
// emulator's. CPU time (process.cpuUsage) is the denominator, so "per core" holds whatever else the machine runs.
import { readFileSync, readdirSync, existsSync } from 'node:fs';
import { StringDecoder } from 'node:string_decoder';
import { join } from 'node:path';
import xtermHeadless from '@xterm/headless';
import { REPO, args, dist, headline, line, log, pairedRatio, summarize, writeResult } from './lib/stats.mjs';

const { claudeCodeProvider } = await import(dist('providers/claude-code.js'));
const { codexProvider } = await import(dist('providers/codex.js'));
const { ScreenFeed } = await import(dist('screen/screen-feed.js'));
// agents/monitor.js since the restructure; status/monitor.js in builds before it (run-all.mjs --compare)
const { StatusMonitor } = await import(dist('agents/monitor.js')).catch(() => import(dist('status/monitor.js')));
const { createBus } = await import(dist('bus/bus.js'));
const { SnapshotCache } = await import(dist('screen/snapshot-cache.js'));
// The baseline is @xterm/headless from this checkout's node_modules, driven without any of our code: no change
// of ours (nor the build under test, with --compare) can make it faster or slower.
const { Terminal } = xtermHeadless;
/** The options src/screen/screen.ts creates its emulator with. */
const TERM_OPTS = { cols: 200, rows: 50, scrollback: 5000, allowProposedApi: true, convertEol: false };

const CHUNK = 4096;
/** The monitor gives detectors the visible rows plus this many lines above (src/agents/monitor.ts). */
const DETECT_EXTRA_LINES = 300;

// The captures lost their carriage returns when stored (see tests/providers-*.test.ts): put them back the same way.
const decodeInk = (raw) => raw.replace(/\n+/g, (m) => '\r\n'.repeat(m.length - 1) + '\r');
const crlf = (t) => t.replace(/\r?\n/g, '\r\n');

function streams() {
  const dir = join(REPO, 'tests', 'fixtures', 'cao');
  if (!existsSync(dir)) throw new Error(`fixtures not found: ${dir}`);
  const files = readdirSync(dir)
    .filter((f) => f.endsWith('_raw.txt'))
    .sort();
  if (!files.length) throw new Error(`no *_raw.txt fixtures in ${dir}`);
  return files.map((f) => {
    const raw = readFileSync(join(dir, f), 'utf8');
    if (f.startsWith('claude_code')) return { file: f, data: decodeInk(raw), provider: claudeCodeProvider, detector: 'claude_code' };
    if (f.startsWith('codex')) return { file: f, data: crlf(raw), provider: codexProvider, detector: 'codex' };
    // No kimi provider in this build: Claude Code's detector (same kind of work: bottom-anchored row scans) stands in.
    return { file: f, data: decodeInk(raw), provider: claudeCodeProvider, detector: 'claude_code (stand-in)' };
  });
}

/** A stream of at least 256 KiB (the capture repeated), in 4 KiB pieces split like pty reads (UTF-8 safe). */
function chunks(data) {
  const big = data.repeat(Math.ceil((256 * 1024) / Buffer.byteLength(data)));
  const buf = Buffer.from(big, 'utf8');
  const dec = new StringDecoder('utf8');
  const parts = [];
  for (let i = 0; i < buf.length; i += CHUNK) parts.push(dec.write(buf.subarray(i, i + CHUNK)));
  const tail = dec.end();
  if (tail) parts.push(tail);
  return { parts: parts.filter((p) => p.length), bytes: buf.length };
}

const cpuMsSince = (c0) => {
  const c = process.cpuUsage(c0);
  return (c.user + c.system) / 1000;
};

/**
 * Replays `s` until `seconds` of CPU are spent; returns MB per CPU second.
 * mode 'xterm' (the baseline): @xterm/headless alone, as src/screen/screen.ts configures it, each piece written and
 * the last one awaited. 'pipeline': what the hub runs — bus `output` events → ScreenFeed (emulator, quiet-window
 * settling) → StatusMonitor (snapshot + provider detector on every settle). 'chunk': the emulator, and the
 * detector on the detection snapshot (the monitor's, cached) after every chunk (the worst case).
 */
async function replay(s, seconds, mode) {
  const { parts, bytes } = chunks(s.data);
  let total = 0;
  let term;
  let feed;
  let monitor;
  let feedOnce;
  const drain = () => new Promise((resolve) => term.write('', resolve));
  if (mode === 'pipeline') {
    const bus = createBus();
    feed = new ScreenFeed(bus, 't', { cols: TERM_OPTS.cols, rows: TERM_OPTS.rows, reply: () => undefined });
    monitor = new StatusMonitor(bus, 't', feed, s.provider);
    monitor.markStarted();
    term = feed.screen.term;
    feedOnce = async () => {
      for (const p of parts) bus.emit('output', { terminalId: 't', data: p });
      await drain();
    };
  } else if (mode === 'chunk') {
    feed = new ScreenFeed(createBus(), 't', { cols: TERM_OPTS.cols, rows: TERM_OPTS.rows, reply: () => undefined });
    term = feed.screen.term;
    // the detector runs inside the emulator's parse loop right after each piece (as the monitor's frame watch does)
    const cache = new SnapshotCache(term);
    const detect = () => s.provider.detect(cache.snapshot(term.rows + DETECT_EXTRA_LINES));
    feedOnce = async () => {
      for (const p of parts) {
        term.write(p);
        term.write('', detect);
      }
      await drain();
    };
  } else {
    term = new Terminal(TERM_OPTS);
    feedOnce = async () => {
      for (const p of parts) term.write(p);
      await drain();
    };
  }
  await feedOnce(); // warm-up: JIT, a full scrollback
  const c0 = process.cpuUsage();
  while (cpuMsSince(c0) < seconds * 1000) {
    await feedOnce();
    total += bytes;
  }
  const cpu = cpuMsSince(c0);
  monitor?.dispose();
  if (feed) feed.dispose();
  else term.dispose();
  return total / 2 ** 20 / (cpu / 1000);
}

export async function run({ quick }) {
  // CPU seconds per stream, mode and round: 5 rounds × 7 streams × 3 modes × 0.3 s, which on a loaded machine
  // takes several times as long in wall time
  const seconds = quick ? 0.15 : 0.3;
  const rounds = quick ? 3 : 5;
  const list = streams();
  const MODES = { xterm: 'xtermMBps', pipeline: 'pipelineMBps', chunk: 'emulatorPlusDetectorMBps' };
  const per = list.map((s) => ({
    file: s.file,
    bytes: Buffer.byteLength(s.data),
    detector: s.detector,
    rates: { xterm: [], pipeline: [], chunk: [] },
  }));
  const mix = { xterm: [], pipeline: [], chunk: [] };
  for (const mode of Object.keys(MODES)) for (const s of list) await replay(s, 0.05, mode); // warm-up (JIT), not counted
  for (let r = 0; r < rounds; r++) {
    // baseline and pipeline alternate stream by stream, so a slowdown of the machine hits both within a round;
    // every stream gets the same CPU time; the round's figure is the mean over streams
    const sum = { xterm: 0, pipeline: 0, chunk: 0 };
    for (const [k, s] of list.entries())
      for (const mode of Object.keys(MODES)) {
        const rate = await replay(s, seconds, mode);
        per[k].rates[mode].push(rate);
        sum[mode] += rate;
      }
    for (const mode of Object.keys(MODES)) mix[mode].push(sum[mode] / list.length);
  }
  // cost per byte relative to the emulator alone: baseline rate / our rate, round by round
  const costRatio = (mode) => pairedRatio(mix.xterm, mix[mode]);
  for (const row of per) {
    const ratio = pairedRatio(row.rates.xterm, row.rates.pipeline).ratio;
    for (const [mode, key] of Object.entries(MODES)) row[key] = summarize(row.rates[mode]);
    row.pipelineCostRatio = ratio;
    delete row.rates;
    log(
      `  ingest ${row.file}: xterm alone ${row.xtermMBps.median}, pipeline ${row.pipelineMBps.median} (${ratio}× the emulator's cost), detector every chunk ${row.emulatorPlusDetectorMBps.median} MB/s per core`,
    );
  }
  const figures = Object.fromEntries(Object.entries(MODES).map(([mode, key]) => [key, summarize(mix[mode])]));
  const pipelineCost = costRatio('pipeline');
  const chunkCost = costRatio('chunk');
  figures.pipelineCostRatio = pipelineCost;
  figures.chunkCostRatio = chunkCost;
  const target = { pipelineCostRatioMax: 1.25 };
  const pass = pipelineCost.ratio <= target.pipelineCostRatioMax;
  const baseline = { label: '@xterm/headless alone, same bytes', value: figures.xtermMBps.median, unit: 'MB/s per CPU s' };
  const res = writeResult('ingest', {
    quick,
    chunkBytes: CHUNK,
    detectSnapshotLines: `rows + ${DETECT_EXTRA_LINES}`,
    note: 'MB/s per core = bytes fed / CPU seconds of this process; each capture is repeated to 256 KiB and fed in 4 KiB pieces. xterm (the baseline): @xterm/headless alone with the options src/screen/screen.ts uses, none of our code. pipeline: what the hub runs (bus output events -> ScreenFeed -> StatusMonitor: detection snapshot + provider detector on every settled screen; a stream that never pauses settles every 250 ms). detector every chunk: the monitor detection snapshot (rows + 300 lines, cached) + the detector after every 4 KiB piece (the worst case: a screen that settles after every piece). Cost ratio = baseline rate / our rate (CPU per byte relative to the emulator alone), per round, median over rounds. Kimi streams use the claude_code detector as a stand-in (no kimi provider in this build).',
    figures,
    perStream: per,
    target,
    pass,
    summary: [
      headline({
        id: 'ingest.pipeline',
        label: 'Screen ingest: hub pipeline (emulator + detection on settle), recorded streams, 4 KiB chunks',
        value: figures.pipelineMBps.median,
        unit: 'MB/s per CPU s',
        better: 'higher',
        baseline,
        ratio: pipelineCost.ratio,
        ratioOf: 'CPU per byte',
        target: `≤ ${target.pipelineCostRatioMax}×`,
        pass,
      }),
      headline({
        id: 'ingest.chunk',
        label: '… worst case: detector after every 4 KiB chunk',
        value: figures.emulatorPlusDetectorMBps.median,
        unit: 'MB/s per CPU s',
        better: 'higher',
        baseline,
        ratio: chunkCost.ratio,
        ratioOf: 'CPU per byte',
      }),
    ],
  });
  console.log('ingest (MB/s per core; mean over the recorded raw streams, one figure per round)');
  console.log(line('baseline: @xterm/headless alone', figures.xtermMBps, 'MB/s'));
  console.log(line('hub pipeline (emulator + detection on settle)', figures.pipelineMBps, 'MB/s'));
  console.log(line('emulator + detector after every 4 KiB', figures.emulatorPlusDetectorMBps, 'MB/s'));
  console.log(
    `  pipeline cost = ${pipelineCost.ratio}× the emulator alone (per round ${pipelineCost.perRound.join(', ')}; target ≤ ${target.pipelineCostRatioMax}×)${pass ? ' ✓' : ' ✗'}`,
  );
  console.log(`  detector after every chunk = ${chunkCost.ratio}× the emulator alone`);
  return res;
}

if (import.meta.url === `file://${process.argv[1]}`) await run(args());
