// The telemetry's switch (the environment) and the consumer's edge cases, driven through the real bus with events as
// the hub publishes them: a status error, a ready flip inside a turn, a warm spare, a hub that stops with agents live.
import { SpanStatusCode } from '@opentelemetry/api';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { describe, expect, it } from 'vitest';
import { createBus, type BusEvents } from '../src/bus/bus.js';
import { telemetryConfig } from '../src/telemetry/config.js';
import { RunTraceIds, traceIdOfRun } from '../src/telemetry/ids.js';
import { startTelemetry } from '../src/telemetry/index.js';
import { RunSpans, type TerminalLookup } from '../src/telemetry/spans.js';
import type { AgentStatus } from '../src/status/types.js';

describe('telemetryConfig', () => {
  it('is off by default and turned on by an OTLP endpoint or CAO_OTEL=1; OTEL_SDK_DISABLED wins', () => {
    expect(telemetryConfig({})).toBeNull();
    expect(telemetryConfig({ CAO_OTEL: '0', OTEL_SERVICE_NAME: 'x' })).toBeNull();
    expect(telemetryConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: '  ' })).toBeNull();
    expect(telemetryConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318' })).toEqual({ serviceName: 'cao-mcp' });
    expect(telemetryConfig({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://c:4318/v1/traces' })).toEqual({ serviceName: 'cao-mcp' });
    expect(telemetryConfig({ CAO_OTEL: '1', OTEL_SERVICE_NAME: 'my-agents' })).toEqual({ serviceName: 'my-agents' });
    expect(telemetryConfig({ CAO_OTEL: '1', OTEL_SDK_DISABLED: 'TRUE' })).toBeNull();
    expect(telemetryConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c', OTEL_SDK_DISABLED: 'true' })).toBeNull();
    expect(telemetryConfig({ CAO_OTEL: '1', OTEL_SDK_DISABLED: 'false' })).toEqual({ serviceName: 'cao-mcp' });
    expect(telemetryConfig({ CAO_OTEL: '1', OTEL_TRACES_EXPORTER: 'none' })).toBeNull();
  });

  it('startTelemetry is null when off (nothing started, nothing subscribed)', async () => {
    const bus = createBus();
    expect(await startTelemetry(bus, () => undefined, { env: {} })).toBeNull();
    expect(bus.all.size).toBe(0);
  });

  it('a run id gives one trace id, always the same, valid', () => {
    expect(traceIdOfRun('run-0123abcd')).toMatch(/^[0-9a-f]{32}$/);
    expect(traceIdOfRun('run-0123abcd')).toBe(traceIdOfRun('run-0123abcd'));
    expect(traceIdOfRun('run-0123abce')).not.toBe(traceIdOfRun('run-0123abcd'));
  });
});

type Row = NonNullable<ReturnType<TerminalLookup>>;

function setup() {
  const bus = createBus();
  const exporter = new InMemorySpanExporter();
  const ids = new RunTraceIds();
  const provider = new BasicTracerProvider({ idGenerator: ids, spanProcessors: [new SimpleSpanProcessor(exporter)] });
  const rows = new Map<string, Row>();
  const spans = new RunSpans(bus, provider.getTracer('test'), ids, (id) => rows.get(id));
  const row = (id: string, r: Partial<Row>) =>
    rows.set(id, {
      kind: 'worker',
      provider: 'mock',
      profile: 'dev',
      creatorId: 'boss',
      runId: 'run-00000001',
      status: 'starting',
      lastError: null,
      endedAt: null,
      ...r,
    });
  let at = 1_000_000;
  const status = (terminalId: string, previous: AgentStatus, s: AgentStatus) =>
    bus.emit('status', { terminalId, status: s, previous, at: (at += 10), cause: { kind: 'detected' } });
  const input = (terminalId: string, bytes: number, kind: BusEvents['input']['kind'] = 'paste') => bus.emit('input', { terminalId, bytes, kind });
  const finished = () => exporter.getFinishedSpans();
  const named = (name: string) => finished().filter((s: ReadableSpan) => s.name === name);
  return { bus, spans, row, rows, status, input, finished, named };
}
const tick = () => new Promise((r) => setImmediate(r));

describe('RunSpans', () => {
  it('an error status: the turn and the agent are ERROR; a flip between idle and completed does not end a turn', async () => {
    const t = setup();
    t.row('aaaaaaaa', {});
    t.bus.emit('terminal:created', { terminalId: 'aaaaaaaa' });
    t.status('aaaaaaaa', 'starting', 'idle');
    t.input('aaaaaaaa', 12);
    t.status('aaaaaaaa', 'idle', 'completed'); // a redraw, not the end of the turn
    expect(t.named('turn')).toHaveLength(0);
    t.status('aaaaaaaa', 'completed', 'processing');
    t.status('aaaaaaaa', 'processing', 'completed');
    expect(t.named('turn').map((s) => s.attributes)).toEqual([
      expect.objectContaining({ 'cao.turn': 1, 'cao.input.bytes': 12, 'cao.status': 'completed' }),
    ]);
    t.input('aaaaaaaa', 3, 'keys');
    t.status('aaaaaaaa', 'completed', 'processing');
    t.status('aaaaaaaa', 'processing', 'error');
    const [, second] = t.named('turn');
    expect(second!.attributes).toMatchObject({ 'cao.turn': 2, 'cao.input.kind': 'keys', 'cao.status': 'error' });
    expect(second!.status.code).toBe(SpanStatusCode.ERROR);
    t.rows.get('aaaaaaaa')!.status = 'exited';
    t.bus.emit('terminal:removed', { terminalId: 'aaaaaaaa' });
    await tick();
    const [agent] = t.named('agent dev');
    expect(agent!.status.code).toBe(SpanStatusCode.ERROR);
    expect(agent!.attributes).toMatchObject({ 'cao.outcome': 'exited', 'cao.status': 'exited' });
    // no delegation was announced: the root ends with its agent, as `run`
    expect(t.named('run')).toHaveLength(1);
    expect(agent!.parentSpanContext?.spanId).toBe(t.named('run')[0]!.spanContext().spanId);
  });

  it('a warm spare has no span until a caller takes it; one never taken has none', async () => {
    const t = setup();
    t.row('bbbbbbbb', { creatorId: null, runId: null });
    t.row('cccccccc', { creatorId: null, runId: null });
    t.bus.emit('terminal:created', { terminalId: 'bbbbbbbb' });
    t.bus.emit('terminal:created', { terminalId: 'cccccccc' });
    t.status('bbbbbbbb', 'starting', 'idle');
    t.input('bbbbbbbb', 1, 'keys');
    t.row('bbbbbbbb', { creatorId: 'boss', runId: 'run-000000bb', status: 'idle' });
    t.bus.emit('terminal:created', { terminalId: 'bbbbbbbb' }); // taken
    t.bus.emit('handoff:started', {
      terminalId: 'bbbbbbbb',
      callerId: 'boss',
      profile: 'dev',
      provider: 'mock',
      bytes: 9,
      warm: true,
      worktree: false,
    });
    t.bus.emit('handoff:ended', { terminalId: 'bbbbbbbb', callerId: 'boss', outcome: 'completed', durationMs: 5 });
    t.bus.emit('terminal:removed', { terminalId: 'bbbbbbbb' });
    t.bus.emit('terminal:removed', { terminalId: 'cccccccc' });
    await tick();
    expect(t.finished().map((s) => [s.name, s.attributes['cao.terminal_id'], s.attributes['cao.warm']])).toEqual([
      ['handoff', 'bbbbbbbb', true],
      ['agent dev', 'bbbbbbbb', true],
    ]);
    expect(t.finished()[0]!.spanContext().traceId).toBe(traceIdOfRun('run-000000bb'));
    expect(t.named('turn')).toHaveLength(0); // its start-up input was before it was anyone's
  });

  it('workers a previous hub started (adopted: never registered here) join their run’s trace, under their creator', async () => {
    const t = setup();
    t.row('a0000001', { runId: 'run-0000adad', status: 'idle' });
    t.row('a0000002', { runId: 'run-0000adad', creatorId: 'a0000001', status: 'idle' });
    t.row('a0000003', { runId: 'run-0000adad', endedAt: 5 });
    t.rows.set('boss', {
      kind: 'external',
      provider: null,
      profile: null,
      creatorId: null,
      runId: null,
      status: 'idle',
      lastError: null,
      endedAt: null,
    });
    t.status('a0000002', 'starting', 'idle'); // the child first: its creator is adopted with it
    t.status('a0000001', 'starting', 'idle');
    t.status('a0000003', 'starting', 'idle'); // ended: no span
    t.status('boss', 'idle', 'processing'); // a supervisor: none either
    t.input('a0000002', 7);
    t.status('a0000002', 'idle', 'processing');
    t.status('a0000002', 'processing', 'completed');
    for (const id of ['a0000001', 'a0000002']) t.bus.emit('terminal:removed', { terminalId: id });
    await tick();
    const [one, two] = ['a0000001', 'a0000002'].map((id) =>
      t.finished().find((s) => s.name === 'agent dev' && s.attributes['cao.terminal_id'] === id)!,
    );
    expect(one!.attributes['cao.adopted']).toBe(true);
    expect(one!.parentSpanContext).toBeUndefined();
    expect(two!.parentSpanContext?.spanId).toBe(one!.spanContext().spanId);
    expect(new Set(t.finished().map((s) => s.spanContext().traceId))).toEqual(new Set([traceIdOfRun('run-0000adad')]));
    expect(
      t
        .finished()
        .map((s) => s.name)
        .sort(),
    ).toEqual(['agent dev', 'agent dev', 'turn']);
  });

  it('the hub stops with agents live: their spans end with a note; nothing is heard after', () => {
    const t = setup();
    t.row('dddddddd', {});
    t.row('eeeeeeee', { creatorId: 'dddddddd' });
    t.bus.emit('terminal:created', { terminalId: 'dddddddd' });
    t.bus.emit('assign:started', {
      terminalId: 'dddddddd',
      callerId: 'boss',
      profile: 'dev',
      provider: 'mock',
      bytes: 4,
      warm: false,
      worktree: false,
    });
    t.status('dddddddd', 'starting', 'idle');
    t.input('dddddddd', 4);
    t.status('dddddddd', 'idle', 'processing');
    t.bus.emit('terminal:created', { terminalId: 'eeeeeeee' });
    t.rows.get('dddddddd')!.status = 'processing';
    t.spans.close('hub stopped; workers left running');
    const names = t.finished().map((s) => s.name);
    expect(names.sort()).toEqual(['agent dev', 'agent dev', 'assign', 'turn']);
    const d = t.finished().find((s) => s.name === 'agent dev' && s.attributes['cao.terminal_id'] === 'dddddddd')!;
    expect(d.attributes).toMatchObject({ 'cao.note': 'hub stopped; workers left running', 'cao.status': 'processing', 'cao.via': 'assign' });
    const e = t.finished().find((s) => s.attributes['cao.terminal_id'] === 'eeeeeeee')!;
    expect(e.parentSpanContext?.spanId).toBe(t.named('turn')[0]!.spanContext().spanId);
    t.input('dddddddd', 4);
    expect(t.finished()).toHaveLength(4);
  });
});
