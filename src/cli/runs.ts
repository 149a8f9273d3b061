import { parseArgs } from 'node:util';
import { openStore } from '../store/open.js';
import { listRuns, type RunSummary } from '../journal/queries.js';
import { snakeCaseKeys } from '../util/case.js';
import { ago, paint, table, useColour, type Paint } from './table.js';

export const RUNS_HELP = `Usage: cao-mcp runs [--limit N] [--json]

Recent runs from the run journal, newest first. A run is one tree of delegations: a supervisor's (or your)
handoff or assign, and everything the workers it started went on to start. For each: its root task (how
it started, the profile, who asked), its agents, its outcome (the root's: completed, timeout, reported...;
running while an agent of it runs; unfinished when none does and none was recorded, as after a crash) and
its duration. \`cao-mcp trace <run-id>\` shows one.
  --limit N   how many (default 20)
  --json      {"runs": [...]} for scripts`;

export async function runRuns(argv: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args: argv,
    options: { limit: { type: 'string', short: 'n' }, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
    allowPositionals: true,
    strict: true,
  });
  if (values.help) return void process.stdout.write(`${RUNS_HELP}\n`);
  if (positionals.length) throw new Error(`cao-mcp runs takes no argument\n\n${RUNS_HELP}`);
  const limit = values.limit === undefined ? 20 : Number(values.limit);
  if (!Number.isInteger(limit) || limit < 1) throw new Error(`--limit must be a positive whole number (got "${values.limit}")`);
  const store = await openStore();
  try {
    const runs = await listRuns(store, { limit });
    if (values.json) return void process.stdout.write(`${JSON.stringify({ runs: snakeCaseKeys(runs) }, null, 2)}\n`);
    process.stdout.write(formatRuns(runs, useColour()));
  } finally {
    await store.close();
  }
}

/** `1.23 s`, `4m 10s`. */
export function duration(ms: number): string {
  return ms < 60_000 ? `${(ms / 1000).toFixed(2)} s` : ago(Math.round(ms / 1000));
}

export function outcomeText(outcome: string, p: Paint): string {
  if (outcome === 'completed' || outcome === 'reported') return p.green(outcome);
  if (outcome === 'running') return p.blue(outcome);
  if (outcome === 'ended') return outcome;
  return p.red(outcome);
}

/** `handoff developer (mock) from boss`. */
export function rootTask(r: RunSummary): string {
  const what = `${r.profile ?? '?'}${r.provider ? ` (${r.provider})` : ''}`;
  return `${r.via ?? 'worker'} ${what}${r.callerId ? ` from ${r.callerId}` : ''}`;
}

export function formatRuns(runs: RunSummary[], colour: boolean, now = Date.now()): string {
  if (!runs.length) return 'no runs in the journal\n';
  const p = paint(colour);
  const rows = runs.map((r) => [
    r.runId,
    `${ago(Math.max(0, Math.round((now - r.startedAt) / 1000)))} ago`,
    rootTask(r),
    String(r.agents),
    outcomeText(r.outcome, p),
    duration(r.durationMs),
    r.rootTerminalId ?? '',
  ]);
  return table(['RUN', 'STARTED', 'ROOT TASK', 'AGENTS', 'OUTCOME', 'DURATION', 'ROOT'], rows, p);
}
