#!/usr/bin/env node
// Runs the benchmark suite against the built dist/ (`npm run bench` builds first), each benchmark in a process of
// its own with a time limit, then prints one table of the latest figures, each beside the baseline measured in the
// same run and the ratio to it, and writes it to bench/results/SUMMARY.md.
//   node bench/run-all.mjs [--quick] [--only completion,delivery,scale,inbox,ingest,adopt,ptyhost,hop]
//   node bench/run-all.mjs --table      (only rebuild the table from the results on disk)
//   node bench/run-all.mjs --compare <git-ref> [--rounds 2] [--quick] [--only …]
//     builds <ref> in a temporary worktree and this checkout, runs each benchmark A B A B (A = <ref>, B = this
//     checkout) with the same benchmark code against each build's dist/, and prints B/A per figure.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BENCH_DIR, REPO, RESULTS_DIR, machine } from './lib/stats.mjs';
import { chanceBeyondSpread, collate, judge } from './lib/ratio.mjs';

// Every bench/<name>.mjs that exports run() and writes a `summary` is picked up, in this order first.
const KNOWN = ['completion', 'delivery', 'scale', 'inbox', 'ingest', 'adopt', 'ptyhost', 'hop'];
const ALL = [
  ...KNOWN,
  ...readdirSync(BENCH_DIR)
    .filter((f) => f.endsWith('.mjs') && f !== 'run-all.mjs')
    .map((f) => f.slice(0, -4))
    .filter((n) => !KNOWN.includes(n))
    .sort(),
];
// Benchmarks that run elsewhere (not by this runner) but whose results, when on disk, join the table:
// real-handoff needs root, the loopback-only namespace and the real CLIs (npm run bench:real).
const TABLE_ONLY = ['real-handoff'];
/** Wall-clock limits per benchmark (full mode); --quick uses half. */
// (hop runs completion and delivery twice per round, two rounds: 2 × 2 × their limits would be generous)
const LIMIT_S = { completion: 240, delivery: 200, scale: 240, inbox: 450, ingest: 240, adopt: 240, ptyhost: 240, hop: 1200 };
const DEFAULT_LIMIT_S = 300;

/** What comparable designs take, for the rows where there is something to compare with. */
const REFERENCE = {
  'completion.detected': '≥ 3 s (CAO: 3 idle polls, 1 s apart); 2 s (agentapi: stable screen); 1.5 s (ccmanager: idle debounce)',
  'completion.returned': 'as above, plus the poll interval',
  'delivery.idle': 'CAO: next 1 s status poll; a stranded message up to 60 s (30 s sweep + 30 s grace)',
  'delivery.busy': '≥ 3 s (CAO: idle must be seen by the poller)',
  'adopt.known': 'CAO, agentapi, ccmanager: no re-adoption (a restarted server has lost its tmux/pty sessions or re-lists them without their state)',
};

const argv = process.argv.slice(2);
const opt = (name) => {
  const at = argv.indexOf(name);
  return at >= 0 ? argv[at + 1] : undefined;
};
const quick = argv.includes('--quick');
const only = (opt('--only') ?? ALL.join(',')).split(',').filter(Boolean);
const unknown = only.filter((n) => !ALL.includes(n));
if (unknown.length) {
  process.stderr.write(`unknown benchmark(s): ${unknown.join(', ')} (known: ${ALL.join(', ')})\n`);
  process.exit(2);
}

/** The child benchmark now running, so that a Ctrl-C can stop it before cleaning up. */
let current = null;

function runOne(name, { env = {}, label = '' } = {}) {
  return new Promise((resolve) => {
    const limit = (LIMIT_S[name] ?? DEFAULT_LIMIT_S) * (quick ? 500 : 1000);
    const started = Date.now();
    process.stderr.write(`\n=== bench ${name}${label}${quick ? ' (quick)' : ''}\n`);
    const child = spawn(process.execPath, [join(BENCH_DIR, `${name}.mjs`), ...(quick ? ['--quick'] : [])], {
      stdio: ['ignore', 'inherit', 'inherit'],
      env: { ...process.env, ...env },
    });
    current = child;
    const timer = setTimeout(() => {
      process.stderr.write(`bench ${name}: over its ${limit / 1000} s limit, stopping it\n`);
      child.kill('SIGTERM');
      setTimeout(() => child.kill('SIGKILL'), 5000).unref();
    }, limit);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      current = null;
      resolve({ name, code, signal, seconds: Math.round((Date.now() - started) / 100) / 10 });
    });
  });
}

function readResultIn(dir, name) {
  try {
    return JSON.parse(readFileSync(join(dir, `${name}.json`), 'utf8'));
  } catch {
    return null;
  }
}

if (argv.includes('--table')) {
  const table = summaryTable();
  writeFileSync(join(RESULTS_DIR, 'SUMMARY.md'), table + '\n');
  console.log(table);
  process.exit(0);
}

if (argv.includes('--compare')) {
  const ref = opt('--compare');
  if (!ref || ref.startsWith('--')) {
    process.stderr.write('--compare needs a git ref (e.g. --compare HEAD~1)\n');
    process.exit(2);
  }
  process.exit(await compare(ref, Math.max(1, Number(opt('--rounds') ?? 2))));
}

const t0 = Date.now();
const ran = [];
for (const name of only) ran.push(await runOne(name));
const table = summaryTable();
writeFileSync(join(RESULTS_DIR, 'SUMMARY.md'), table + '\n');
console.log('\n' + table);
console.log(
  `\n${ran.map((r) => `${r.name} ${r.seconds} s${r.code ? ` (exit ${r.code ?? r.signal})` : ''}`).join(', ')}; total ${Math.round((Date.now() - t0) / 1000)} s`,
);
process.exit(ran.some((r) => r.code !== 0) ? 1 : 0);

// ---- the table ----

// (function declarations: the top-level code above calls them before this point)
function num(v) {
  return v === null || v === undefined ? 'n/a' : Math.abs(v) >= 100 ? String(Math.round(v)) : String(Math.round(v * 100) / 100);
}
function withUnit(v, unit) {
  return v === null || v === undefined ? 'n/a' : `${num(v)} ${unit === '% of a core' ? '%' : unit}`;
}

/** The README's Performance table, from whatever results are on disk: figure, baseline, ratio, target. */
function summaryTable() {
  const names = [...ALL, ...TABLE_ONLY];
  const r = Object.fromEntries(names.map((n) => [n, readResultIn(RESULTS_DIR, n)]));
  const rows = [];
  for (const n of names) {
    if (!r[n]?.summary) continue;
    for (const h of r[n].summary) {
      const mark = h.pass === null ? '' : h.pass ? ' ✓' : ' ✗';
      const base = h.baseline ? `${withUnit(h.baseline.value, h.baseline.unit)} (${h.baseline.label})` : '—';
      const ratio = h.ratio === null ? '—' : `${h.ratio}×${h.ratioOf ? ` ${h.ratioOf}` : ''}`;
      rows.push([h.label, withUnit(h.value, h.unit), base, ratio, `${h.target ?? '—'}${mark}`, REFERENCE[h.id] ?? '—']);
    }
  }
  const m = machine();
  // each benchmark's figures are from its latest run: where those ran on other machines, the table says which
  const where = new Map();
  for (const n of names) {
    const rm = r[n]?.summary ? r[n].machine : undefined;
    if (!rm) continue;
    const key = `${rm.cpus} × ${rm.cpuModel}`;
    where.set(key, [...(where.get(key) ?? []), n]);
  }
  const machines = where.size > 1 ? ` Each benchmark's latest run was on ${[...where].map(([k, ns]) => `${k} (${ns.join(', ')})`).join('; ')}.` : '';
  const when = ALL.map((n) => r[n]?.timestamp)
    .filter(Boolean)
    .sort()
    .at(-1);
  const mode = names.some((n) => r[n]?.quick) ? ' (some figures from --quick runs)' : '';
  const real = r['real-handoff']?.timestamp ? ` The real-CLI rows are from \`npm run bench:real\`, ${r['real-handoff'].timestamp}.` : '';
  return [
    `Figures from \`npm run bench\` on ${where.size > 1 ? 'more than one machine (below)' : `${m.cpus} × ${m.cpuModel}, ${Math.round(m.totalMemMB / 1024)} GB`}, Node ${m.node}, ${when ?? 'never'}${mode}.${real}${machines}`,
    "Ratio = our cost / the baseline's, both measured in the same run (lower is better; for latencies, figure / floor).",
    '',
    '| Measure | cao-mcp | Baseline, same run | Ratio | Target | Reference designs |',
    '|---|---|---|---|---|---|',
    ...rows.map((x) => `| ${x.join(' | ')} |`),
  ].join('\n');
}

// ---- --compare ----

function git(args, cwd = REPO) {
  return execFileSync('git', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
}
function sh(cmd, args, cwd) {
  execFileSync(cmd, args, { cwd, stdio: ['ignore', 'ignore', 'inherit'] });
}

async function compare(ref, rounds) {
  const sha = git(['rev-parse', '--verify', `${ref}^{commit}`]);
  const short = sha.slice(0, 10);
  const head = git(['rev-parse', '--short=10', 'HEAD']);
  // (results on disk do not count: every run rewrites them)
  const dirty = git(['status', '--porcelain', '--untracked-files=no', '--', '.', ':!bench/results']) ? ' + uncommitted changes' : '';
  const tmp = mkdtempSync(join(tmpdir(), 'cao-bench-compare-'));
  const tree = join(tmp, 'tree');
  let cleaned = false;
  const cleanup = () => {
    if (cleaned) return;
    cleaned = true;
    current?.kill('SIGKILL');
    try {
      git(['worktree', 'remove', '--force', tree]);
    } catch {
      /* not added yet, or already gone */
    }
    rmSync(tmp, { recursive: true, force: true });
  };
  const onSignal = (sig) => {
    process.stderr.write(`\n--compare: ${sig}, removing the temporary worktree\n`);
    cleanup();
    process.exit(130);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    process.stderr.write(`--compare: A = ${ref} (${short}), B = this checkout (${head}${dirty}); ${rounds} rounds, A B A B\n`);
    git(['worktree', 'add', '--detach', tree, sha]);
    const ours = join(REPO, 'package-lock.json');
    const sameLock = existsSync(ours) && readFileSync(ours, 'utf8').trim() === git(['show', `${sha}:package-lock.json`]);
    if (sameLock) symlinkSync(join(REPO, 'node_modules'), join(tree, 'node_modules'), 'dir');
    else {
      process.stderr.write('--compare: package-lock.json differs, npm ci in the temporary worktree\n');
      sh('npm', ['ci', '--ignore-scripts', '--no-audit', '--no-fund'], tree);
    }
    process.stderr.write('--compare: building A and B\n');
    sh('npm', ['run', 'build'], tree);
    sh('npm', ['run', 'build'], REPO);
    const sides = { A: join(tree, 'dist'), B: join(REPO, 'dist') };
    const runs = [];
    const failed = [];
    for (let round = 1; round <= rounds; round++)
      for (const name of only)
        for (const side of ['A', 'B']) {
          const out = join(tmp, 'results', `${side}${round}`);
          mkdirSync(out, { recursive: true });
          const r = await runOne(name, {
            env: { CAO_BENCH_DIST: sides[side], CAO_BENCH_RESULTS: out },
            label: ` [${side} round ${round}/${rounds}]`,
          });
          const res = readResultIn(out, name);
          if (r.code !== 0 && !res) failed.push(`${name} ${side}${round}`);
          if (res) runs.push({ side, name, round, summary: res.summary });
        }
    const table = compareTable(collate(runs), { ref, short, head: head + dirty, rounds });
    console.log('\n' + table);
    if (failed.length) console.log(`\nno result from: ${failed.join(', ')}`);
    return failed.length ? 1 : 0;
  } finally {
    cleanup();
  }
}

function compareTable(rows, { ref, short, head, rounds }) {
  const m = machine();
  const lines = [
    `A = ${ref} (${short}), B = this checkout (${head}); ${rounds} rounds each, interleaved A B A B, on ${m.cpus} × ${m.cpuModel}, Node ${m.node}${quick ? ', --quick' : ''}.`,
    "Values and ratios are medians over the rounds. B/A of the value: > 1 = B higher. Ratio = cost over the same run's baseline (lower is better);",
    'B/A of the ratio < 1 = B cheaper. A verdict other than "within spread" means no round of A overlaps any round of B (on the ratio',
    `where there is one); two sides that do not differ at all still do that 1 time in ${Math.round(1 / chanceBeyondSpread(rounds, rounds))} with ${rounds} rounds each${rounds < 4 ? ': take a verdict as a lead, not a finding (--rounds 4: 1 in 35)' : ''}.`,
    '',
    '| Figure | A | B | B/A | ratio A | ratio B | B/A of ratio | verdict |',
    '|---|---|---|---|---|---|---|---|',
  ];
  for (const row of rows) {
    const j = judge(row);
    lines.push(
      `| ${row.label} (${row.unit}) | ${num(j.medianA)} | ${num(j.medianB)} | ${j.valueBA ?? '—'} | ${j.ratioA ?? '—'} | ${j.ratioB ?? '—'} | ${j.ratioBA ?? '—'} | ${j.verdict}${j.beyond ? ` (by chance: 1 in ${Math.round(1 / j.chance)})` : ''} |`,
    );
  }
  return lines.join('\n');
}
