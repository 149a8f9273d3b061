// The OpenTelemetry export of runs, on a real hub in this process with mock workers making real tool calls (the
// three-level chain of journal.test.ts), its spans caught by the SDK's InMemorySpanExporter: the exact tree, names,
// key attributes, and nothing secret anywhere in them.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { SpanStatusCode } from '@opentelemetry/api';
import { InMemorySpanExporter, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Hub as HubType } from '../src/hub/hub.js';
import type { Telemetry } from '../src/telemetry/index.js';
import { traceIdOfRun } from '../src/telemetry/ids.js';
import { connectHttp, type HttpCaller } from './support/http-client.js';
import { waitFor } from './support/procs.js';
import { CHAIN_RULES, mock } from './support/chain.js';

// supervisor → handoff A; A assigns B; B hands off to C, then reports to the supervisor by name
const SCRIPT = {
  rules: [
    ...CHAIN_RULES,
    { match: 'ask-me', question: { text: 'Allow the secret write?', options: ['Yes', 'No'] }, answer: 'ASKED-DONE' },
    { match: 'crash-me', crash: { afterMs: 50, exitCode: 3, partial: 'CRASH-PARTIAL' } },
  ],
  default: { answer: 'OK' },
};
const SECRETS = ['level-A', 'level-B', 'level-C', 'A-DONE', 'B-DONE', 'C-DONE', 'ask-me', 'ASKED-DONE', 'secret write', 'crash-me', 'CRASH-PARTIAL'];

type Json = Record<string, any>;
const json = (r: { structuredContent?: unknown }) => r.structuredContent as Json;

let home: string;
let hub: HubType;
let telemetry: Telemetry;
let boss: HttpCaller;
const exporter = new InMemorySpanExporter();

beforeAll(async () => {
  home = mkdtempSync(path.join(tmpdir(), 'cao-otel-'));
  process.env.CAO_HOME = home;
  process.env.CAO_MOCK_SCRIPT = JSON.stringify(SCRIPT);
  process.env.CAO_WARM_POOL = '0';
  const { Hub } = await import('../src/hub/hub.js');
  const { startTelemetry } = await import('../src/telemetry/index.js');
  hub = new Hub({ mode: 'serve', port: 0 });
  telemetry = (await startTelemetry(hub.bus, (id) => hub.registry.cached(id), { exporter, env: {} }))!;
  await hub.start();
  boss = await connectHttp({ url: hub.url, token: hub.clientToken, pid: process.pid }, 'boss');
});
afterAll(async () => {
  await boss?.close();
  await hub?.stop();
  await telemetry?.shutdown();
  rmSync(home, { recursive: true, force: true });
});

async function agents(): Promise<Json[]> {
  return json(await boss.call('list_agents', { include_ended: true })).agents as Json[];
}
async function ended(ids: string[]): Promise<void> {
  await waitFor(
    async () => (await agents()).filter((x) => ids.includes(x.id) && x.ended).length,
    (n) => n === ids.length,
    30_000,
  );
}
async function spansOf(runId: string): Promise<ReadableSpan[]> {
  await new Promise((r) => setTimeout(r, 50)); // an ended agent's span ends in the next turn of the event loop
  await telemetry.flush();
  return exporter.getFinishedSpans().filter((s) => s.attributes['cao.run_id'] === runId);
}
const parentOf = (s: ReadableSpan) => s.parentSpanContext?.spanId;
const idOf = (s: ReadableSpan) => s.spanContext().spanId;
const eventsOf = (s: ReadableSpan) => s.events.map((e) => e.name);
const ms = (t: [number, number]) => t[0] * 1000 + t[1] / 1e6;

/** Every name, attribute and event of these spans as one text (what a collector would receive of them). */
const dump = (spans: ReadableSpan[]) =>
  JSON.stringify(spans.map((s) => ({ name: s.name, attributes: s.attributes, events: s.events, status: s.status, resource: s.resource.attributes })));

describe('OpenTelemetry export', () => {
  it('a three-level chain (handoff → assign → handoff) is one trace: the exact tree, names and attributes, nothing secret', async () => {
    const r = await boss.call('handoff', { ...mock, message: 'level-A task' });
    expect(json(r)).toMatchObject({ success: true, output: 'A-DONE' });
    const a = json(r).terminal_id as string;
    const inbox = await waitFor(
      async () => json(await boss.call('read_inbox', { wait_seconds: 5 })).messages as Json[],
      (m) => m.length > 0,
      60_000,
    );
    expect(inbox.map((m) => m.body)).toEqual(['B-DONE']);
    const b = (await agents()).find((x) => x.creator === a)!.id as string;
    const c = (await agents()).find((x) => x.creator === b)!.id as string;
    await ended([c]);
    expect(json(await boss.call('stop_agent', { terminal_id: b }))).toMatchObject({ stopped: true });
    await ended([a, b, c]);

    const runId = (await hub.registry.getTerminal(a))!.runId!;
    const spans = await spansOf(runId);
    // one trace, its id the run's
    expect(new Set(spans.map((s) => s.spanContext().traceId))).toEqual(new Set([traceIdOfRun(runId)]));
    const byId = new Map(spans.map((s) => [idOf(s), s]));
    const agentSpan = (id: string) => spans.find((s) => s.name === 'agent developer' && s.attributes['cao.terminal_id'] === id)!;
    const turnsOf = (agent: ReadableSpan) => spans.filter((s) => s.name === 'turn' && parentOf(s) === idOf(agent));

    // the root: the supervisor's handoff
    const roots = spans.filter((s) => !parentOf(s));
    expect(roots.map((s) => s.name)).toEqual(['handoff']);
    const root = roots[0]!;
    expect(root.attributes).toMatchObject({
      'cao.run_id': runId,
      'cao.terminal_id': a,
      'cao.caller': 'boss',
      'cao.via': 'handoff',
      'cao.provider': 'mock',
      'cao.profile': 'developer',
      'cao.task.bytes': 'level-A task'.length,
      'cao.warm': false,
      'cao.worktree': false,
      'cao.outcome': 'completed',
    });
    expect(root.status.code).toBe(SpanStatusCode.UNSET);

    // the agents: A under the root, B under a turn of A (A was in the turn that called assign), C under a turn of B
    const [sa, sb, sc] = [agentSpan(a), agentSpan(b), agentSpan(c)];
    expect(parentOf(sa)).toBe(idOf(root));
    const parentB = byId.get(parentOf(sb)!)!;
    expect(parentB.name).toBe('turn');
    expect(parentOf(parentB)).toBe(idOf(sa));
    const parentC = byId.get(parentOf(sc)!)!;
    expect(parentC.name).toBe('turn');
    expect(parentOf(parentC)).toBe(idOf(sb));
    expect(sa.attributes).toMatchObject({
      'cao.terminal_id': a,
      'cao.provider': 'mock',
      'cao.profile': 'developer',
      'cao.creator': 'boss',
      'cao.via': 'handoff',
      'cao.outcome': 'completed',
      'cao.status': 'exited',
    });
    expect(sb.attributes).toMatchObject({ 'cao.creator': a, 'cao.via': 'assign', 'cao.outcome': 'ended', 'cao.end_reason': 'stopped by boss' });
    expect(sc.attributes).toMatchObject({
      'cao.creator': b,
      'cao.via': 'handoff',
      'cao.outcome': 'completed',
      'cao.task.bytes': 'level-C task'.length,
    });
    // nothing else in the tree: the root, three agents, their turns
    const turns = [sa, sb, sc].flatMap(turnsOf);
    expect(spans.length).toBe(4 + turns.length);
    for (const s of [sa, sb, sc]) {
      const mine = turnsOf(s);
      expect(mine.length).toBeGreaterThanOrEqual(1);
      // the task: pasted and submitted, then done; a turn lies inside its agent
      expect(mine[0]!.attributes).toMatchObject({ 'cao.turn': 1, 'cao.input.kind': 'paste', 'cao.status': 'completed' });
      expect(mine[0]!.attributes['cao.input.bytes']).toBeGreaterThanOrEqual('level-X task'.length);
      expect(mine[0]!.attributes['cao.input.writes']).toBeGreaterThanOrEqual(2);
      for (const t of mine) {
        expect(ms(t.startTime)).toBeGreaterThanOrEqual(ms(s.startTime));
        expect(ms(t.endTime)).toBeLessThanOrEqual(ms(s.endTime));
      }
      expect(eventsOf(s)).toContain('agent.ready');
      expect(s.status.code).toBe(SpanStatusCode.UNSET);
    }
    // B's task came through its inbox (an event on B); B's report went to the supervisor (an event on B's turn)
    expect(eventsOf(sb)).toEqual(expect.arrayContaining(['message.queued', 'message.delivered']));
    expect(sb.events.find((e) => e.name === 'message.queued')!.attributes).toMatchObject({ 'cao.message.sender': a, 'cao.message.receiver': b });
    const report = turnsOf(sb)
      .flatMap((t) => t.events)
      .find((e) => e.name === 'message.queued');
    expect(report?.attributes).toMatchObject({ 'cao.message.sender': b, 'cao.message.receiver': 'boss' });

    // kinds, sizes and ids only: no task, answer, token or environment value
    const text = dump(spans);
    for (const secret of [...SECRETS, hub.clientToken, home, JSON.stringify(SCRIPT)]) expect(text).not.toContain(secret);
    for (const s of spans) for (const v of Object.values(s.attributes)) if (typeof v === 'string') expect(v.length).toBeLessThan(80);
  }, 180_000);

  it('a question raised and answered: span events on the agent; a worker that crashes: the root and its agent are ERROR', async () => {
    const asked = json(await boss.call('handoff', { ...mock, message: 'ask-me something' }));
    expect(asked).toMatchObject({ success: false, status: 'waiting_user_answer' });
    const q = asked.terminal_id as string;
    await boss.call('answer_question', { terminal_id: q, answer: '1' });
    await waitFor(
      async () => (await agents()).find((x) => x.id === q)!.status,
      (s) => s === 'completed',
      20_000,
    );
    await boss.call('stop_agent', { terminal_id: q });
    await ended([q]);
    const qSpans = await spansOf((await hub.registry.getTerminal(q))!.runId!);
    const root = qSpans.find((s) => !parentOf(s))!;
    expect(root).toMatchObject({ name: 'handoff', attributes: expect.objectContaining({ 'cao.outcome': 'question' }) });
    expect(root.status.code).toBe(SpanStatusCode.UNSET);
    // the choice finishes the turn at once (its key is the turn's last input); the question's events are on the agent
    const turn = qSpans.find((s) => s.name === 'turn' && s.attributes['cao.turn'] === 1)!;
    expect(turn.attributes).toMatchObject({ 'cao.question': true, 'cao.status': 'completed', 'cao.input.kind': 'paste' });
    const agent = qSpans.find((s) => s.name === 'agent developer')!;
    expect(eventsOf(agent)).toEqual(['agent.ready', 'question.raised', 'question.answered']);
    expect(agent.events[2]!.attributes).toMatchObject({ 'cao.answer.kind': 'option', 'cao.answer.bytes': 1, 'cao.answered_by': 'boss' });
    expect(agent.status.code).toBe(SpanStatusCode.UNSET);

    const crashed = json(await boss.call('handoff', { ...mock, message: 'crash-me now' }));
    expect(crashed).toMatchObject({ success: false });
    const x = crashed.terminal_id as string;
    await ended([x]);
    const xSpans = await spansOf((await hub.registry.getTerminal(x))!.runId!);
    const xRoot = xSpans.find((s) => !parentOf(s))!;
    const xAgent = xSpans.find((s) => s.name === 'agent developer')!;
    expect(xRoot.attributes['cao.outcome']).toBe('exited');
    expect(xRoot.status).toMatchObject({ code: SpanStatusCode.ERROR, message: 'outcome exited' });
    expect(xAgent.status.code).toBe(SpanStatusCode.ERROR);
    expect(xAgent.attributes['cao.outcome']).toBe('exited');
    const text = dump([...qSpans, ...xSpans]);
    for (const secret of SECRETS) expect(text).not.toContain(secret);
  }, 120_000);
});
