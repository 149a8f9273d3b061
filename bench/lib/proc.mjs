// Process figures from /proc (Linux), read by the benchmark process, not by the process measured.
import { readFileSync, readdirSync } from 'node:fs';

const CLK_TCK = 100; // USER_HZ on Linux

/** CPU ms (user + system) of one process so far, or null when it is gone. */
export function cpuMsOf(pid) {
  try {
    const st = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = st.slice(st.lastIndexOf(')') + 2).split(' ');
    return ((Number(f[11]) + Number(f[12])) * 1000) / CLK_TCK;
  } catch {
    return null;
  }
}

/** Resident set size of one process in MB (VmRSS), or null when it is gone. */
export function rssMBOf(pid) {
  try {
    const m = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Math.round((Number(m[1]) / 1024) * 10) / 10 : null;
  } catch {
    return null;
  }
}

/** CPU ms of every live descendant of `root`, by pid. */
export function descendantsCpu(root) {
  const procs = new Map();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const st = readFileSync(`/proc/${d}/stat`, 'utf8');
      const f = st.slice(st.lastIndexOf(')') + 2).split(' ');
      procs.set(Number(d), { ppid: Number(f[1]), cpuMs: ((Number(f[11]) + Number(f[12])) * 1000) / CLK_TCK });
    } catch {
      /* exited meanwhile */
    }
  }
  const out = new Map();
  const seen = new Set([root]);
  let grew = true;
  while (grew) {
    grew = false;
    for (const [pid, p] of procs)
      if (!seen.has(pid) && seen.has(p.ppid)) {
        seen.add(pid);
        out.set(pid, p.cpuMs);
        grew = true;
      }
  }
  return out;
}

/** CPU ms the processes spent between two descendantsCpu() readings (those live at both). */
export function cpuBetween(a, b) {
  let ms = 0;
  for (const [pid, v] of b) if (a.has(pid)) ms += v - a.get(pid);
  return ms;
}

/** Least-squares line through (xs, ys): slope per unit of x, intercept, r². */
export function leastSquares(xs, ys) {
  const n = xs.length;
  const mx = xs.reduce((a, b) => a + b, 0) / n;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  const sxy = xs.reduce((a, x, i) => a + (x - mx) * (ys[i] - my), 0);
  const sxx = xs.reduce((a, x) => a + (x - mx) ** 2, 0);
  const slope = sxy / sxx;
  const icpt = my - slope * mx;
  const ssr = ys.reduce((a, y, i) => a + (y - (icpt + slope * xs[i])) ** 2, 0);
  const sst = ys.reduce((a, y) => a + (y - my) ** 2, 0);
  return { perUnit: Math.round(slope * 1000) / 1000, intercept: Math.round(icpt * 10) / 10, r2: sst ? Math.round((1 - ssr / sst) * 1000) / 1000 : 1 };
}
