#!/usr/bin/env node
// Runs the benchmark suite against the built dist/ (`npm run bench` builds first), each benchmark in a process of
// its own with a time limit, then prints one table of the latest figures and writes it to bench/results/SUMMARY.md.
//   node bench/run-all.mjs [--quick] [--only completion,delivery,scale,inbox,ingest]
//   node bench/run-all.mjs --table      (only rebuild the table from the results on disk)
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BENCH_DIR, RESULTS_DIR, machine, readResult } from './lib/stats.mjs';

const ALL = ['completion', 'delivery', 'scale', 'inbox', 'ingest'];
/** Wall-clock limits per benchmark (full mode); --quick uses half. */
const LIMIT_S = { completion: 180, delivery: 150, scale: 200, inbox: 300, ingest: 120 };

const argv = process.argv.slice(2);
const quick = argv.includes('--quick');
const onlyAt = argv.indexOf('--only');
const only = onlyAt >= 0 ? (argv[onlyAt + 1] ?? '').split(',').filter(Boolean) : ALL;
const unknown = only.filter((n) => !ALL.includes(n));
if (unknown.length) {
  process.stderr.write(`unknown benchmark(s): ${unknown.join(', ')} (known: ${ALL.join(', ')})\n`);
  process.exit(2);
}

function runOne(name) {
  return new Promise((resolve) => {
    const limit = (quick ? LIMIT_S[name] / 2 : LIMIT_S[name]) * 1000;
    const started = Date.now();
    const child = spawn(process.execPath, [join(BENCH_DIR, `${name}.mjs`), ...(quick ? ['--quick'] : [])], { stdio: ['ignore', 'inherit', 'inherit'] });
    const timer = setTimeout(() => {
      process.stderr.write(`bench ${name}: over its ${limit / 1000} s limit, stopping it\n`);
      child.kill('SIGTERM');
      setTimeout(() => child.kill('SIGKILL'), 5000).unref();
    }, limit);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      resolve({ name, code, signal, seconds: Math.round((Date.now() - started) / 100) / 10 });
    });
  });
}

if (argv.includes('--table')) {
  const table = summaryTable();
  writeFileSync(join(RESULTS_DIR, 'SUMMARY.md'), table + '\n');
  console.log(table);
  process.exit(0);
}

const t0 = Date.now();
const ran = [];
for (const name of only) {
  process.stderr.write(`\n=== bench ${name}${quick ? ' (quick)' : ''}\n`);
  ran.push(await runOne(name));
}
const table = summaryTable();
writeFileSync(join(RESULTS_DIR, 'SUMMARY.md'), table + '\n');
console.log('\n' + table);
console.log(`\n${ran.map((r) => `${r.name} ${r.seconds} s${r.code ? ` (exit ${r.code ?? r.signal})` : ''}`).join(', ')}; total ${Math.round((Date.now() - t0) / 1000)} s`);
process.exit(ran.some((r) => r.code !== 0) ? 1 : 0);

/** The README's Performance table, from whatever results are on disk. */
function summaryTable() {
  const r = Object.fromEntries(ALL.map((n) => [n, readResult(n)]));
  const ms = (v) => (v === null || v === undefined ? 'n/a' : `${Math.round(v)} ms`);
  const ok = (pass) => (pass === undefined ? '' : pass ? ' ✓' : ' ✗');
  const rows = [];
  const c = r.completion;
  if (c) {
    const d = c.figures.detectedAfterFinalFrameMs;
    const h = c.figures.handoffReturnedAfterFinalFrameMs;
    rows.push([`Completion detected after the final frame (p95 / p99, n=${d.n})`, `${ms(d.p95)} / ${ms(d.p99)}${ok(d.p95 <= 250)}`, '≤ 250 ms p95', '≥ 3 s (CAO: 3 idle polls, 1 s apart); 2 s (agentapi: stable screen); 1.5 s (ccmanager: idle debounce)']);
    rows.push([`handoff returned after the final frame (p95)`, `${ms(h.p95)}`, '—', 'as above, plus the poll interval']);
    rows.push([`False completions (turns with a long tool call, silent thinking, pauses mid-answer)`, `${c.falseCompletions} of ${c.turns}${ok(c.falseCompletions === 0)}`, '0', '—']);
  }
  const d = r.delivery;
  if (d) {
    const f = d.figures;
    rows.push([`Idle delivery: send_message → bytes in the pty (p99, n=${f.idleSendToPasteMs.n})`, `${ms(f.idleSendToPasteMs.p99)}${ok(f.idleSendToPasteMs.p99 <= 25)}`, '≤ 25 ms p99', 'CAO: next 1 s status poll; a stranded message up to 60 s (30 s sweep + 30 s grace)']);
    rows.push([`Busy delivery: agent's final frame → message pasted (max, n=${f.busyFinalFrameToPasteMs.n})`, `${ms(f.busyFinalFrameToPasteMs.max)} (p95 ${ms(f.busyFinalFrameToPasteMs.p95)})${ok(f.busyFinalFrameToPasteMs.max <= 250)}`, '≤ 250 ms', '≥ 3 s (CAO: idle must be seen by the poller)']);
  }
  const s = r.scale;
  if (s) {
    for (const p of s.points.filter((x) => x.agents > 0)) {
      const pass = p.agents === 100 ? ok(p.cpuPct <= 30 && p.eldP99Ms <= 20) : '';
      rows.push([`${p.agents} busy agents (10 fps spinner + streaming): hub CPU / event-loop delay p99 / RSS`, `${p.cpuPct} % of a core / ${p.eldP99Ms} ms / ${p.rssMB} MB${pass}`, p.agents === 100 ? '≤ 30 % / ≤ 20 ms' : '—', '—']);
    }
    rows.push([`Hub RSS growth per agent (least squares over 0–${s.points.at(-1).agents} agents)`, `${s.rssMBPerAgent.perAgent} MB (r² ${s.rssMBPerAgent.r2})`, 'roughly linear', '—']);
  }
  const i = r.inbox;
  if (i) {
    const f = i.figures;
    rows.push([`Inbox: ${f.messages} messages, 20 agents, 4 sender processes (MCP over HTTP, lean client): in / out; hub CPU per message`, `${f.inPerSec} / ${f.outPerSec} msg/s; ${f.hubCpuMsPerMessageWhileStoring} ms${ok(f.inPerSec >= 2000)}`, '≥ 2,000 msg/s in', '—']);
    if (f.sdk)
      rows.push([
        `Inbox, ${f.sdk.messages} messages from 4 MCP SDK client processes (as agents send): in / out`,
        `${f.sdk.inPerSec} / ${f.sdk.outPerSec} msg/s (each client spends ${f.sdk.senderCpuMsPerMessage} ms of CPU per call)`,
        '—',
        '—',
      ]);
    rows.push([`Inbox: lost / duplicated`, `${f.lost ?? 'n/a'} / ${f.duplicated}${ok(f.lost === 0 && f.duplicated === 0)}`, '0 / 0', '—']);
  }
  const g = r.ingest;
  if (g) {
    rows.push([`Screen ingest, recorded raw streams, 4 KiB chunks: emulator + hub-style detection (median)`, `${g.figures.pipelineMBps?.median ?? 'n/a'} MB/s per core${ok(g.pass)}`, '≥ 20 MB/s per core', '—']);
    rows.push([`… emulator alone / detector after every 4 KiB chunk (median)`, `${g.figures.emulatorMBps.median} / ${g.figures.emulatorPlusDetectorMBps.median} MB/s per core`, '—', '—']);
  }
  const m = machine();
  const when = ALL.map((n) => r[n]?.timestamp).filter(Boolean).sort().at(-1);
  const mode = ALL.some((n) => r[n]?.quick) ? ' (some figures from --quick runs)' : '';
  return [
    `Figures from \`npm run bench\` on ${m.cpus} × ${m.cpuModel}, ${Math.round(m.totalMemMB / 1024)} GB, Node ${m.node}, ${when ?? 'never'}${mode}.`,
    '',
    '| Measure | cao-mcp | Target | Reference designs |',
    '|---|---|---|---|',
    ...rows.map((x) => `| ${x.join(' | ')} |`),
  ].join('\n');
}
