// Types for the TypeScript benchmarks (bench/real-handoff.ts); the module itself is plain ESM.
export interface Summary {
  n: number;
  min: number | null;
  median: number | null;
  p95: number | null;
  p99: number | null;
  max: number | null;
  mean: number | null;
}
export const BENCH_DIR: string;
export const REPO: string;
export const RESULTS_DIR: string;
export function summarize(values: number[], digits?: number): Summary;
export function machine(): { cpus: number; cpuModel: string; totalMemMB: number; node: string; platform: string; loadavg: number[] };
export function writeResult(name: string, body: Record<string, unknown>): Record<string, unknown>;
export function line(label: string, s: Summary, unit?: string): string;
export function log(msg: string): void;
export { headline, median } from './ratio.mjs';
