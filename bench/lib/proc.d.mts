// Types for tests/bench-proc.test.ts (the benchmarks are plain ESM).
export function cpuMsOf(pid: number): number | null;
export function rssMBOf(pid: number): number | null;
export function descendantsCpu(root: number): Map<number, number>;
export function cpuBetween(a: Map<number, number>, b: Map<number, number>): number;
export function leastSquares(xs: number[], ys: number[]): { perUnit: number; intercept: number; r2: number };
