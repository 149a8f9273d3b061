// Figures, machine info and result files shared by every benchmark.
import { mkdirSync, writeFileSync, readFileSync } from 'node:fs';
import { cpus, totalmem, loadavg } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { performance } from 'node:perf_hooks';

export const BENCH_DIR = join(dirname(fileURLToPath(import.meta.url)), '..');
export const REPO = join(BENCH_DIR, '..');
// `run-all.mjs --compare` points the same benchmarks at another build and keeps each run's results apart.
export const RESULTS_DIR = process.env.CAO_BENCH_RESULTS ? resolve(process.env.CAO_BENCH_RESULTS) : join(BENCH_DIR, 'results');
export const DIST_DIR = process.env.CAO_BENCH_DIST ? resolve(process.env.CAO_BENCH_DIST) : join(REPO, 'dist');

/** URL of a module of the build under test, for `await import(dist('hub/hub.js'))`. */
export function dist(rel) {
  return pathToFileURL(join(DIST_DIR, rel)).href;
}

/** Wall-clock ms with sub-ms precision, comparable across processes (the mock agent records with the same clock). */
export function now() {
  return performance.timeOrigin + performance.now();
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Nearest-rank percentile of a sorted array. */
function pct(sorted, p) {
  if (!sorted.length) return null;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i];
}

const round = (v, d = 2) => (v === null || v === undefined ? null : Math.round(v * 10 ** d) / 10 ** d);

/** min, median, p95, p99, max, n (and mean) of a list of numbers. */
export function summarize(values, digits = 2) {
  const s = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  const mean = s.length ? s.reduce((a, b) => a + b, 0) / s.length : null;
  return {
    n: s.length,
    min: round(s[0] ?? null, digits),
    median: round(pct(s, 50), digits),
    p95: round(pct(s, 95), digits),
    p99: round(pct(s, 99), digits),
    max: round(s[s.length - 1] ?? null, digits),
    mean: round(mean, digits),
  };
}

export function machine() {
  const c = cpus();
  return {
    cpus: c.length,
    cpuModel: c[0]?.model ?? 'unknown',
    totalMemMB: Math.round(totalmem() / 2 ** 20),
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
    loadavg: loadavg().map((v) => round(v)),
  };
}

export function args(argv = process.argv.slice(2)) {
  return { quick: argv.includes('--quick') };
}

/** Writes bench/results/<name>.json with machine info and a timestamp. */
export function writeResult(name, body) {
  mkdirSync(RESULTS_DIR, { recursive: true });
  const out = { name, timestamp: new Date().toISOString(), machine: machine(), ...body };
  writeFileSync(join(RESULTS_DIR, `${name}.json`), JSON.stringify(out, null, 2) + '\n');
  return out;
}

export function readResult(name) {
  try {
    return JSON.parse(readFileSync(join(RESULTS_DIR, `${name}.json`), 'utf8'));
  } catch {
    return null;
  }
}

/** One line of figures: `label  n=.. min .. median .. p95 .. p99 .. max .. unit`. */
export function line(label, s, unit = 'ms') {
  const f = (v) => (v === null ? '-' : String(v));
  return `  ${label.padEnd(44)} n=${String(s.n).padEnd(5)} min ${f(s.min)}  median ${f(s.median)}  p95 ${f(s.p95)}  p99 ${f(s.p99)}  max ${f(s.max)} ${unit}`;
}

export function log(msg) {
  process.stderr.write(`${msg}\n`);
}

export { median, pairedRatio, headline } from './ratio.mjs';
