// Types for tests/bench-ratio.test.ts (the benchmarks are plain ESM).
export interface Headline {
  id: string;
  label: string;
  value: number | null;
  unit: string;
  better: 'lower' | 'higher';
  baseline: { label: string; value: number | null; unit: string } | null;
  ratio: number | null;
  ratioOf: string | null;
  target: string | null;
  pass: boolean | null;
}
export interface Side {
  values: (number | null)[];
  ratios: (number | null)[];
}
export interface Collated {
  id: string;
  label: string;
  unit: string;
  better: 'lower' | 'higher';
  ratioOf: string | null;
  A: Side;
  B: Side;
}
export function median(values: (number | null)[]): number | null;
export function pairedRatio(figures: number[], baselines: number[]): { ratio: number | null; perRound: (number | null)[] };
export function headline(h: Omit<Headline, 'baseline' | 'ratio' | 'ratioOf' | 'target' | 'pass'> & Partial<Headline>): Headline;
export function chanceBeyondSpread(n: number, m: number): number;
export function beyondSpread(a: (number | null)[], b: (number | null)[]): boolean;
export function collate(runs: { side: 'A' | 'B'; summary?: Headline[] }[]): Collated[];
export function judge(row: Collated): {
  medianA: number | null;
  medianB: number | null;
  valueBA: number | null;
  ratioA: number | null;
  ratioB: number | null;
  ratioBA: number | null;
  beyond: boolean;
  verdict: 'within spread' | 'B better' | 'B worse';
  /** how often the rounds would fail to overlap by luck alone */
  chance: number;
};
