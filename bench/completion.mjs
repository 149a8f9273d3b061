// 1. Completion-detection latency: the mock agent records when it has flushed a turn's final frame
// (`final_frame`); we measure how long until the hub publishes the turn as done (status event) and until
// `handoff` returns to the MCP client. Scripted turns with pauses mid-answer (a long tool call, a silent second
// of thinking, a pause in a streamed answer) must never be reported done early: every turn is checked.
import { args, line, log, now, summarize, writeResult } from './lib/stats.mjs';
import { startHub, readRecord } from './lib/hub.mjs';

const WORDS = 'alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu nu xi omicron pi rho sigma tau upsilon';
const long = (n) => Array.from({ length: n }, (_, i) => `${i + 1}. ${WORDS}`).join('\n');

/** Turn kinds, matched by the task text. `answer` is what handoff must return, whole. */
const KINDS = {
  quick: { rule: { answer: 'quick answer to {{input}}' }, expect: (input) => `quick answer to ${input}` },
  think: { rule: { answer: 'thought about {{input}}', delayMs: 1200 }, expect: (input) => `thought about ${input}` },
  stream: { rule: { answer: `streamed {{input}}\n${long(12)}`, stream: { chunks: 12, intervalMs: 100 } }, expect: (input) => `streamed ${input}\n${long(12)}` },
  // a streamed answer that stops for 1.5 s after its 3rd piece (the spinner keeps turning)
  pause: {
    rule: { answer: `paused {{input}}\n${long(8)}`, stream: { chunks: 6, intervalMs: 60 }, pauses: [{ afterChunk: 3, ms: 1500 }] },
    expect: (input) => `paused ${input}\n${long(8)}`,
  },
  // a long tool call: a nested handoff to another mock worker (~1-2 s of "Running…")
  tool: {
    rule: {
      answer: 'after the tool: {{input}}',
      toolCalls: [{ server: 'cao', tool: 'handoff', arguments: { agent_profile: 'developer', provider: 'mock', message: 'nested quick job' } }],
    },
    expect: (input) => `after the tool: ${input}`,
  },
};
/** Silent kinds: run with the spinner stopped (spinnerIntervalMs 60 s): the screen is frozen on a busy frame. */
const SILENT = {
  'silent-think': { rule: { answer: 'silently thought about {{input}}', delayMs: 1000 }, expect: (input) => `silently thought about ${input}` },
  'silent-pause': {
    rule: { answer: `silent pause {{input}}\n${long(6)}`, stream: { chunks: 4, intervalMs: 50 }, pauses: [{ afterChunk: 2, ms: 1000 }] },
    expect: (input) => `silent pause ${input}\n${long(6)}`,
  },
};

function script(kinds, spinnerIntervalMs) {
  return JSON.stringify({
    spinnerIntervalMs,
    rules: [
      { match: 'nested quick', answer: 'nested done' },
      ...Object.entries(kinds).map(([k, v]) => ({ match: `[${k}]`, ...v.rule })),
    ],
  });
}

async function lanes(n, jobs, fn) {
  const out = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: n }, async () => {
      while (next < jobs.length) {
        const j = jobs[next++];
        out.push(await fn(j));
      }
    }),
  );
  return out;
}

export async function run({ quick }) {
  const per = quick ? 3 : 10;
  const hub = await startHub({ env: { CAO_MOCK_SCRIPT: script(KINDS, 100) } });
  const runs = [];
  let events = [];
  try {
    const boss = await hub.client('completion-boss');
    const handoff = async ({ kind, i, expect }) => {
      const input = `[${kind}] task ${i}`;
      const t0 = now();
      const r = await boss.callRaw('handoff', { agent_profile: 'developer', provider: 'mock', message: input, timeout: 120 }, 180_000);
      const returnedAt = now();
      return { kind, input, expected: expect(input), t0, returnedAt, r };
    };
    const phase = async (kinds) => {
      const jobs = [];
      for (let i = 0; i < per; i++) for (const [kind, v] of Object.entries(kinds)) jobs.push({ kind, i, expect: v.expect });
      runs.push(...(await lanes(3, jobs, handoff)));
    };
    await phase(KINDS);
    await hub.setEnv({ CAO_MOCK_SCRIPT: script(SILENT, 60_000) });
    await phase(SILENT);
    events = await hub.events();
  } finally {
    await hub.stop().catch(() => undefined);
  }
  // the record file is removed with the hub's home: read it first
  return analyse(runs, events, hub.recordCopy, quick);
}

function analyse(runs, events, record, quick) {
  const byTerminal = new Map();
  for (const r of record) {
    if (!r.terminal) continue;
    if (!byTerminal.has(r.terminal)) byTerminal.set(r.terminal, []);
    byTerminal.get(r.terminal).push(r);
  }
  const detect = {};
  const ret = {};
  const falseCompletions = [];
  const failures = [];
  for (const run of runs) {
    const id = run.r.terminal_id;
    const rec = byTerminal.get(id) ?? [];
    const input = rec.find((e) => e.event === 'input' && e.text === run.input);
    const final = rec.find((e) => e.event === 'final_frame' && input && e.t >= input.t);
    if (!run.r.success || !final) {
      failures.push({ kind: run.kind, id, message: run.r.message ?? run.r.text, success: run.r.success });
      continue;
    }
    const st = events.filter((e) => e.ev === 'status' && e.id === id);
    // the turn begins when cao-mcp submits it (status processing, reason "input submitted")
    const submitted = st.find((e) => e.status === 'processing' && e.reason === 'input submitted');
    const early = st.filter((e) => submitted && e.t > submitted.t && e.t < final.t && (e.status === 'idle' || e.status === 'completed'));
    const done = st.find((e) => e.t >= final.t && (e.status === 'idle' || e.status === 'completed'));
    const wrongAnswer = run.r.output !== run.expected;
    if (early.length || wrongAnswer || run.returnedAt < final.t) {
      falseCompletions.push({ kind: run.kind, id, early: early.map((e) => ({ status: e.status, beforeFinalMs: Math.round(final.t - e.t) })), wrongAnswer, returnedBeforeFinal: run.returnedAt < final.t });
    }
    (detect[run.kind] ??= []).push(done ? done.t - final.t : NaN);
    (ret[run.kind] ??= []).push(run.returnedAt - final.t);
  }
  const all = (m) => Object.values(m).flat();
  const figures = {
    detectedAfterFinalFrameMs: summarize(all(detect)),
    handoffReturnedAfterFinalFrameMs: summarize(all(ret)),
    byKind: Object.fromEntries(Object.keys(detect).map((k) => [k, { detectedMs: summarize(detect[k]), returnedMs: summarize(ret[k]) }])),
  };
  const target = { detectedP95Ms: 250, falseCompletions: 0 };
  const res = writeResult('completion', {
    quick,
    turns: runs.length,
    kinds: [...Object.keys(KINDS), ...Object.keys(SILENT)],
    note: 'detected = hub status event (idle/completed) after the mock flushed its final frame; returned = the MCP client got the handoff result (the worker is stopped before handoff returns). 3 handoffs run at a time.',
    figures,
    falseCompletions: falseCompletions.length,
    falseCompletionDetails: falseCompletions,
    failures,
    target,
    pass: figures.detectedAfterFinalFrameMs.p95 !== null && figures.detectedAfterFinalFrameMs.p95 <= target.detectedP95Ms && falseCompletions.length === 0 && failures.length === 0,
  });
  console.log(`completion (${runs.length} handoffs; false completions ${falseCompletions.length}; failures ${failures.length})`);
  console.log(line('final frame -> status done (hub)', figures.detectedAfterFinalFrameMs));
  console.log(line('final frame -> handoff returned (client)', figures.handoffReturnedAfterFinalFrameMs));
  for (const [k, v] of Object.entries(figures.byKind)) console.log(line(`  ${k}: detected`, v.detectedMs));
  if (failures.length) log(`  failures: ${JSON.stringify(failures).slice(0, 2000)}`);
  if (falseCompletions.length) log(`  false completions: ${JSON.stringify(falseCompletions).slice(0, 2000)}`);
  return res;
}

if (import.meta.url === `file://${process.argv[1]}`) await run(args());
