// The /proc readings and the growth fit of the pty host benchmark (bench/lib/proc.mjs).
import { describe, expect, it } from 'vitest';
import { cpuBetween, cpuMsOf, leastSquares, rssMBOf } from '../bench/lib/proc.mjs';

describe('leastSquares', () => {
  it('fits a line exactly through points on it', () => {
    expect(leastSquares([0, 10, 50], [58, 74.5, 140.5])).toEqual({ perUnit: 1.65, intercept: 58, r2: 1 });
  });
  it('says how well the line fits (r²)', () => {
    const f = leastSquares([0, 10, 50], [0, 6.5, 13.7]);
    expect(f.perUnit).toBeCloseTo(0.247, 3);
    expect(f.r2).toBeGreaterThan(0.8);
    expect(f.r2).toBeLessThan(1);
  });
});

describe('/proc readings', () => {
  it("reads this process's CPU time and RSS, and null for a pid that does not exist", () => {
    expect(cpuMsOf(process.pid)).toBeGreaterThan(0);
    expect(rssMBOf(process.pid)).toBeGreaterThan(10);
    expect(cpuMsOf(2 ** 30)).toBeNull();
    expect(rssMBOf(2 ** 30)).toBeNull();
  });
  it('adds the CPU of processes live at both readings only', () => {
    const a = new Map([
      [1, 100],
      [2, 50],
    ]);
    const b = new Map([
      [1, 130],
      [3, 999],
    ]);
    expect(cpuBetween(a, b)).toBe(30);
  });
});
