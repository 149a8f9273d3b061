// Ratios to baselines, and the arithmetic of `run-all.mjs --compare`: pure functions (tests/bench-ratio.test.ts).

const r3 = (v) => (Number.isFinite(v) ? Math.round(v * 1000) / 1000 : null);

/** Median of a list of numbers, the mean of the middle two for an even count (null when empty). */
export function median(values) {
  const s = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  if (!s.length) return null;
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/**
 * Cost ratios of paired rounds: for each round, `figure / baseline` (both "lower is better" costs), and their
 * median. Pairing by round means a machine slowdown during one round hits both sides of that round's ratio.
 */
export function pairedRatio(figures, baselines) {
  const per = [];
  for (let i = 0; i < Math.min(figures.length, baselines.length); i++) {
    const f = figures[i];
    const b = baselines[i];
    if (Number.isFinite(f) && Number.isFinite(b) && b > 0) per.push(f / b);
  }
  return { ratio: r3(median(per)), perRound: per.map(r3) };
}

/**
 * One headline figure of a benchmark, as the runner's table and --compare show it.
 * `ratio` is figure cost / baseline cost ("1.07× the emulator alone"): lower is better, 1 = as cheap as the baseline.
 * `better` says which way the absolute `value` improves. `target` is a string for the table; `pass` its verdict.
 */
export function headline({ id, label, value, unit, better, baseline, ratio, ratioOf, target, pass }) {
  return {
    id,
    label,
    value: r3(value),
    unit,
    better,
    baseline: baseline ? { ...baseline, value: r3(baseline.value) } : null,
    ratio: r3(ratio),
    ratioOf: ratioOf ?? null,
    target: target ?? null,
    pass: pass ?? null,
  };
}

/** True when every round of `a` lies on one side of every round of `b` (their ranges do not overlap). */
export function beyondSpread(a, b) {
  const fa = a.filter(Number.isFinite);
  const fb = b.filter(Number.isFinite);
  if (!fa.length || !fb.length) return false;
  return Math.max(...fa) < Math.min(...fb) || Math.max(...fb) < Math.min(...fa);
}

/**
 * The chance that `n` rounds of A and `m` of B do not overlap when both come from the same distribution: all of one
 * side ranks below all of the other, 2·n!·m!/(n+m)! (2 rounds each: 1 in 3; 3: 1 in 10; 4: 1 in 35; 5: 1 in 126).
 */
export function chanceBeyondSpread(n, m) {
  if (n < 1 || m < 1) return 1;
  let c = 2;
  for (let i = 1; i <= m; i++) c *= i / (n + i); // n!·m!/(n+m)! = Π_{i=1..m} i/(n+i)
  return Math.min(1, c);
}

/**
 * Collates the headline rows of several runs of each side: `runs` is a list of { side: 'A' | 'B', summary: [...] }.
 * Returns one row per figure id (in first-seen order): label, unit, better, and per side the rounds' values and ratios.
 */
export function collate(runs) {
  const rows = new Map();
  for (const run of runs)
    for (const h of run.summary ?? []) {
      if (!rows.has(h.id))
        rows.set(h.id, {
          id: h.id,
          label: h.label,
          unit: h.unit,
          better: h.better,
          ratioOf: h.ratioOf,
          A: { values: [], ratios: [] },
          B: { values: [], ratios: [] },
        });
      const side = rows.get(h.id)[run.side];
      side.values.push(h.value);
      side.ratios.push(h.ratio);
    }
  return [...rows.values()];
}

/**
 * The verdict on one collated row: B/A of the medians (for the absolute value and for the ratio to the baseline),
 * whether the ratio's rounds (the value's where there is no ratio) do not overlap between the sides, and which side
 * that favours. B/A > 1 means B costs more when lower is better, and B does more when higher is better.
 */
export function judge(row) {
  const mA = median(row.A.values);
  const mB = median(row.B.values);
  const rA = median(row.A.ratios);
  const rB = median(row.B.ratios);
  const hasRatio = rA !== null && rB !== null;
  const valueBA = mA && mB !== null ? mB / mA : null;
  const ratioBA = hasRatio && rA ? rB / rA : null;
  const beyond = hasRatio ? beyondSpread(row.A.ratios, row.B.ratios) : beyondSpread(row.A.values, row.B.values);
  // ratios are costs (lower is better); values go the way `better` says
  const bBetter = hasRatio ? rB < rA : row.better === 'higher' ? mB > mA : mB < mA;
  const verdict = !beyond ? 'within spread' : bBetter ? 'B better' : 'B worse';
  const used = hasRatio ? [row.A.ratios, row.B.ratios] : [row.A.values, row.B.values];
  const chance = chanceBeyondSpread(used[0].filter(Number.isFinite).length, used[1].filter(Number.isFinite).length);
  return {
    medianA: mA,
    medianB: mB,
    valueBA: r3(valueBA),
    ratioA: r3(rA),
    ratioB: r3(rB),
    ratioBA: r3(ratioBA),
    beyond,
    verdict,
    chance: r3(chance),
  };
}
