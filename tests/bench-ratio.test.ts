// The arithmetic behind the benchmarks' ratios and `run-all.mjs --compare` (bench/lib/ratio.mjs).
import { describe, expect, it } from 'vitest';
import { beyondSpread, chanceBeyondSpread, collate, headline, judge, median, pairedRatio, type Headline } from '../bench/lib/ratio.mjs';

const row = (id: string, value: number, ratio: number | null, better: 'lower' | 'higher' = 'lower'): Headline =>
  headline({ id, label: id, value, unit: 'ms', better, ratio });

describe('median', () => {
  it('takes the middle value, or the mean of the middle two, ignoring non-numbers', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([null, 5, NaN, 1])).toBe(3);
    expect(median([])).toBeNull();
  });
});

describe('pairedRatio', () => {
  it('divides round by round and takes the median of the ratios, not the ratio of the medians', () => {
    // a slow round (both sides halved) leaves its ratio unchanged
    const r = pairedRatio([2, 4, 30], [1, 2, 10]);
    expect(r.perRound).toEqual([2, 2, 3]);
    expect(r.ratio).toBe(2);
  });
  it('skips rounds with a missing or zero baseline', () => {
    expect(pairedRatio([2, 3, 4], [0, NaN, 2]).perRound).toEqual([2]);
    expect(pairedRatio([], []).ratio).toBeNull();
  });
});

describe('beyondSpread', () => {
  it('is true only when the ranges of the rounds do not overlap', () => {
    expect(beyondSpread([1, 1.1], [1.2, 1.3])).toBe(true);
    expect(beyondSpread([1.4, 1.5], [1.2, 1.3])).toBe(true);
    expect(beyondSpread([1, 1.25], [1.2, 1.3])).toBe(false);
    expect(beyondSpread([1], [])).toBe(false);
  });
});

describe('chanceBeyondSpread', () => {
  it('is 2·n!·m!/(n+m)!, the chance that identical sides fail to overlap', () => {
    expect(chanceBeyondSpread(2, 2)).toBeCloseTo(1 / 3, 10);
    expect(chanceBeyondSpread(3, 3)).toBeCloseTo(1 / 10, 10);
    expect(chanceBeyondSpread(4, 4)).toBeCloseTo(1 / 35, 10);
    expect(chanceBeyondSpread(2, 3)).toBeCloseTo(1 / 5, 10);
    expect(chanceBeyondSpread(1, 1)).toBe(1);
    expect(chanceBeyondSpread(0, 3)).toBe(1);
  });
});

describe('collate and judge', () => {
  const runs = [
    {
      side: 'A' as const,
      summary: [row('cpu', 10, 2.0), row('rate', 100, null, 'higher')],
    },
    {
      side: 'B' as const,
      summary: [row('cpu', 8, 1.5), row('rate', 130, null, 'higher')],
    },
    {
      side: 'A' as const,
      summary: [row('cpu', 20, 2.2), row('rate', 110, null, 'higher')],
    },
    {
      side: 'B' as const,
      summary: [row('cpu', 16, 1.6), row('rate', 120, null, 'higher')],
    },
  ];
  const [cpu, rate] = collate(runs);

  it('gathers each figure per side in run order', () => {
    expect(cpu.id).toBe('cpu');
    expect(cpu.A.values).toEqual([10, 20]);
    expect(cpu.B.ratios).toEqual([1.5, 1.6]);
  });

  it('judges on the ratio when there is one, so a machine that slowed down between rounds does not decide', () => {
    const j = judge(cpu);
    expect(j.valueBA).toBe(0.8); // 12 / 15
    expect(j.ratioBA).toBe(0.738); // 1.55 / 2.1
    expect(j.beyond).toBe(true);
    expect(j.verdict).toBe('B better');
    expect(j.chance).toBe(0.333);
  });

  it('judges on the value, in the direction `better` says, when there is no ratio', () => {
    const j = judge(rate);
    expect(j.ratioBA).toBeNull();
    expect(j.beyond).toBe(true); // A 100..110, B 120..130
    expect(j.verdict).toBe('B better');
    const worse = judge({ ...rate, better: 'lower' });
    expect(worse.verdict).toBe('B worse');
  });

  it('calls overlapping rounds within the spread', () => {
    const j = judge(
      collate([
        { side: 'A', summary: [row('x', 1, 1.0)] },
        { side: 'B', summary: [row('x', 1, 1.1)] },
        { side: 'A', summary: [row('x', 1, 1.2)] },
        { side: 'B', summary: [row('x', 1, 0.9)] },
      ])[0],
    );
    expect(j.verdict).toBe('within spread');
  });
});
