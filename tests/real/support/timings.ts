import { appendFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { RESULTS_DIR } from './hub.js';

/** Appends one measured duration to test-results/real/timings.jsonl (test files run in separate processes). */
export function recordTiming(cli: string, what: string, ms: number): void {
  mkdirSync(RESULTS_DIR, { recursive: true });
  appendFileSync(path.join(RESULTS_DIR, 'timings.jsonl'), JSON.stringify({ cli, what, ms, at: new Date().toISOString() }) + '\n');
}
