import { parseArgs } from 'node:util';
import { openStore } from '../store/open.js';
import type { JournalEntry } from '../journal/events.js';
import { readTrace, type Trace, type TraceNode } from '../journal/queries.js';
import { describeCause } from '../status/cause.js';
import { snakeCaseKeys } from '../util/case.js';
import { duration, outcomeText, rootTask } from './runs.js';
import { paint, useColour } from './table.js';

export const TRACE_HELP = `Usage: cao-mcp trace <run-id|terminal-id|supervisor> [--json]

One run from the run journal: the tree of its agents (who started whom, by handoff or assign, and how
that ended), each with its timeline (seconds since the run began): created, ready, status changes and why,
input kinds and sizes, messages queued, claimed, delivered or failed, questions, handoff/assign start
and end, ended. Never the text of a message or task. A terminal id shows the run it belongs to; a
supervisor's name its last run.
  --json   the trace as JSON, for tools`;

export async function runTrace(argv: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args: argv,
    options: { json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
    allowPositionals: true,
    strict: true,
  });
  if (values.help) return void process.stdout.write(`${TRACE_HELP}\n`);
  const [id, ...extra] = positionals;
  if (!id || extra.length) throw new Error(`cao-mcp trace takes one run id, terminal id or supervisor name\n\n${TRACE_HELP}`);
  const store = await openStore();
  try {
    const trace = await readTrace(store, id);
    if (!trace) throw new Error(`no run in the journal is named by "${id}" (a run id, a terminal id, or a supervisor that started one)`);
    if (values.json) return void process.stdout.write(`${JSON.stringify(snakeCaseKeys(trace), null, 2)}\n`);
    process.stdout.write(formatTrace(trace, useColour()));
  } finally {
    await store.close();
  }
}

export function formatTrace(t: Trace, colour: boolean): string {
  const p = paint(colour);
  const r = t.run;
  const out = [
    `${p.bold(`run ${r.runId}`)}  ${rootTask(r)}, ${r.agents} agent${r.agents === 1 ? '' : 's'}, ${outcomeText(r.outcome, p)}, ${duration(r.durationMs)}`,
  ];
  const walk = (n: TraceNode, depth: number) => {
    const pad = '  '.repeat(depth);
    const how = n.via ? `${n.via} from ${n.createdBy ?? '?'}` : `from ${n.createdBy ?? '?'}`;
    const end = n.outcome ? ` → ${outcomeText(n.outcome, p)}` : '';
    out.push(`${pad}${p.bold(n.terminalId)} ${n.profile ?? '?'}${n.provider ? ` (${n.provider})` : ''}, ${how}${end}`);
    for (const e of n.events) out.push(`${pad}    ${p.dim(offset(e.at - r.startedAt))}  ${describeEntry(e)}`);
    for (const c of n.children) walk(c, depth + 1);
  };
  for (const n of t.tree) walk(n, 0);
  if (t.others.length) {
    out.push(p.bold('outside the tree'));
    for (const e of t.others) out.push(`    ${p.dim(offset(e.at - r.startedAt))}  ${e.terminalId ?? '-'}  ${describeEntry(e)}`);
  }
  if (t.truncated) out.push(p.dim('(more rows than a trace reads: the first ones are shown)'));
  return `${out.join('\n')}\n`;
}

function offset(ms: number): string {
  return `+${(ms / 1000).toFixed(3)}`.padStart(9);
}

/** One line of a timeline: the type, then what matters of its detail. */
export function describeEntry(e: JournalEntry): string {
  const by = e.callerId ? ` by ${e.callerId}` : '';
  const what = (() => {
    switch (e.type) {
      case 'terminal.created':
        return `${e.detail.spare ? 'warm spare' : (e.detail.kind ?? '')}${by}`;
      case 'terminal.taken':
        return `warm spare taken${by}`;
      case 'terminal.ready':
        return e.detail.status;
      case 'status.changed':
        return `${e.detail.previous} → ${e.detail.status} (${describeCause(e.detail.cause)})`;
      case 'question.raised':
        return `(${describeCause(e.detail.cause)})`;
      case 'question.answered':
        return `${e.detail.kind}, ${e.detail.bytes} B${by}`;
      case 'input.submitted':
        return `${e.detail.kind}, ${e.detail.bytes} B${e.detail.writes > 1 ? ` in ${e.detail.writes} writes` : ''}`;
      case 'message.queued':
        return `#${e.detail.messageId} ${e.detail.kind ?? ''}, ${e.detail.bytes ?? '?'} B${e.callerId ? ` from ${e.callerId}` : ''}`;
      case 'message.claimed':
      case 'message.delivered':
        return `#${e.detail.messageId}`;
      case 'message.failed':
        return `#${e.detail.messageId}: ${e.detail.error ?? ''}`;
      case 'message.requeued':
        return `#${e.detail.messageId} (${e.detail.why === 'retry' ? `retry: ${e.detail.error ?? ''}` : 'its hub died before typing it'})`;
      case 'handoff.started':
      case 'assign.started':
        return `${e.detail.profile} (${e.detail.provider}), task ${e.detail.bytes} B${e.detail.warm ? ', warm' : ''}${e.detail.worktree ? ', worktree' : ''}${by}`;
      case 'handoff.ended':
      case 'assign.ended':
        return `${e.detail.outcome} after ${duration(e.detail.durationMs)}`;
      case 'terminal.ended':
        return `${e.detail.status ?? ''}${e.detail.reason ? `: ${e.detail.reason}` : ''}`;
      case 'hub.started':
        return `${e.detail.mode} hub ${e.detail.hubId} (${e.detail.version})`;
      case 'hub.recovered':
        return `${e.detail.adopted} adopted, ${e.detail.ended} ended, ${e.detail.failedMessages} message(s) failed`;
      case 'hub.stopped':
        return `hub ${e.detail.hubId}, ${e.detail.workers} worker(s) ${e.detail.keepWorkers ? 'left running for the next hub' : 'ended'}`;
    }
  })();
  return `${e.type.padEnd(17)} ${what}`.trimEnd();
}
