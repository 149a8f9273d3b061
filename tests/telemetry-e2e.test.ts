// The OpenTelemetry export end to end: a real `cao-mcp serve` exporting over OTLP/HTTP (JSON) to a receiver in this
// test on 127.0.0.1, one handoff to the mock agent; and the same hub without the variables (or with the SDK
// disabled): no request reaches the receiver and no OpenTelemetry file is loaded (a probe lists what the hub loaded).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { traceIdOfRun } from '../src/telemetry/ids.js';
import { CLI, stopEverything } from './support/cao-client.js';
import { connectHttp, startHubProcess, startServe, stopProc } from './support/http-client.js';
import { waitFor } from './support/procs.js';
import { logText } from './support/logs.js';

const PROBE = path.join(path.dirname(fileURLToPath(import.meta.url)), 'support', 'otel-probe.mjs');
const mock = { agent_profile: 'developer', provider: 'mock' };
const TASK = 'e2e-secret-task please';
const SCRIPT = {
  rules: [
    { match: 'e2e-secret-task', answer: 'E2E-SECRET-ANSWER' },
    { match: 'after-restart', answer: 'RESTART-SECRET-ANSWER' },
  ],
  default: { answer: 'OK' },
};
/** Every OTEL variable blank, whatever the environment running the tests has. */
const NO_OTEL = Object.fromEntries(Object.keys(process.env).flatMap((k) => (k.startsWith('OTEL_') || k === 'CAO_OTEL' ? [[k, '']] : [])));

type Json = Record<string, any>;
interface Received {
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
}

let root: string;
let receiver: Server;
let endpoint: string;
const received: Received[] = [];

beforeAll(async () => {
  root = mkdtempSync(path.join(tmpdir(), 'cao-otel-e2e-'));
  receiver = createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      received.push({ url: req.url ?? '', headers: req.headers, body });
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((res) => receiver.listen(0, '127.0.0.1', res));
  endpoint = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise((res) => receiver.close(res));
  rmSync(root, { recursive: true, force: true });
});

/** A hub with the probe; one handoff to the mock agent; the hub stopped (SIGTERM: its export flushed). */
async function oneHandoff(name: string, env: Record<string, string>) {
  const home = path.join(root, name);
  const probe = path.join(root, `${name}-probe`);
  const hub = await startServe(home, {
    ...NO_OTEL,
    CAO_MOCK_SCRIPT: JSON.stringify(SCRIPT),
    CAO_WARM_POOL: '0',
    NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --import=${PROBE}`.trim(),
    CAO_TEST_OTEL_PROBE: probe,
    ...env,
  });
  const boss = await connectHttp(hub.hub, 'boss');
  let r: Json;
  try {
    r = (await boss.call('handoff', { ...mock, message: TASK })).structuredContent as Json;
    expect(r).toMatchObject({ success: true, output: 'E2E-SECRET-ANSWER' });
  } finally {
    await boss.close();
    await stopProc(hub.proc);
  }
  const file = `${probe}.${hub.proc.pid}`;
  await waitFor(
    () => existsSync(file),
    (x) => x,
    5000,
  );
  const runs = JSON.parse(
    spawnSync(process.execPath, [CLI, 'runs', '--json'], { env: { ...process.env, CAO_HOME: home }, encoding: 'utf8' }).stdout,
  ) as Json;
  return {
    home,
    terminalId: r.terminal_id as string,
    runId: runs.runs[0].run_id as string,
    token: hub.hub.token,
    stderr: hub.stderr(),
    loaded: readFileSync(file, 'utf8').split('\n').filter(Boolean),
  };
}

/** The spans of OTLP/JSON export requests, with the resource each came with. */
function spansOf(reqs: Received[]): { resource: Json; span: Json }[] {
  return reqs.flatMap((q) =>
    ((JSON.parse(q.body) as Json).resourceSpans as Json[]).flatMap((rs) =>
      (rs.scopeSpans as Json[]).flatMap((ss) => (ss.spans as Json[]).map((span) => ({ resource: rs.resource as Json, span }))),
    ),
  );
}
const attrs = (s: Json): Json =>
  Object.fromEntries(
    (s.attributes as Json[]).map((a) => [a.key, a.value.stringValue ?? a.value.intValue ?? a.value.boolValue ?? a.value.doubleValue]),
  );

describe('OpenTelemetry export, end to end', () => {
  it('OTEL_EXPORTER_OTLP_ENDPOINT set: the run’s spans arrive over OTLP/HTTP, one trace (the run’s), the headers sent', async () => {
    received.length = 0;
    const run = await oneHandoff('on', {
      OTEL_EXPORTER_OTLP_ENDPOINT: endpoint,
      OTEL_EXPORTER_OTLP_HEADERS: 'x-cao-test=otlp-header-value',
      OTEL_SERVICE_NAME: 'cao-e2e',
    });
    expect(run.stderr).toContain('cao-mcp: OpenTelemetry trace export on (service cao-e2e)');
    expect(run.loaded.length).toBeGreaterThan(10); // the probe sees the SDK when it is on
    expect(received.length).toBeGreaterThan(0);
    for (const q of received) {
      expect(q.url).toBe('/v1/traces');
      expect(q.headers['content-type']).toMatch(/^application\/json/);
      expect(q.headers['x-cao-test']).toBe('otlp-header-value');
    }
    const spans = spansOf(received);
    for (const { resource } of spans)
      expect(Object.fromEntries((resource.attributes as Json[]).map((a) => [a.key, a.value.stringValue]))).toMatchObject({
        'service.name': 'cao-e2e',
      });
    // one trace for the run, its id derived from the run id the journal gave it
    expect(new Set(spans.map((s) => s.span.traceId))).toEqual(new Set([traceIdOfRun(run.runId)]));
    const mine = spans.map((s) => s.span);
    const top = mine.find((s) => s.name === 'handoff')!;
    const agent = mine.find((s) => s.name === 'agent developer')!;
    const turns = mine.filter((s) => s.name === 'turn');
    expect(mine.length).toBe(2 + turns.length);
    expect(top.parentSpanId ?? '').toBe('');
    expect(agent.parentSpanId).toBe(top.spanId);
    expect(turns.length).toBeGreaterThanOrEqual(1);
    for (const t of turns) expect(t.parentSpanId).toBe(agent.spanId);
    expect(attrs(top)).toMatchObject({
      'cao.run_id': run.runId,
      'cao.caller': 'boss',
      'cao.outcome': 'completed',
      'cao.terminal_id': run.terminalId,
    });
    expect(attrs(agent)).toMatchObject({ 'cao.provider': 'mock', 'cao.profile': 'developer', 'cao.creator': 'boss', 'cao.outcome': 'completed' });
    expect(attrs(turns[0]!)).toMatchObject({ 'cao.input.kind': 'paste', 'cao.status': 'completed' });
    // nothing typed, answered or secret in what was sent
    const sent = received.map((q) => q.body).join('\n');
    for (const secret of ['e2e-secret-task', 'E2E-SECRET-ANSWER', 'otlp-header-value', run.token, run.home]) expect(sent).not.toContain(secret);
  }, 90_000);

  it('a durable hub restarted with its workers left running: the next hub’s spans of the adopted worker join the run’s trace', async () => {
    received.length = 0;
    const home = path.join(root, 'durable');
    const env = {
      ...NO_OTEL,
      CAO_MOCK_SCRIPT: JSON.stringify(SCRIPT),
      CAO_WARM_POOL: '0',
      CAO_HUB_IDLE_SECONDS: '300',
      CAO_PTYHOST_IDLE_SECONDS: '60',
      OTEL_EXPORTER_OTLP_ENDPOINT: endpoint,
    };
    try {
      const first = await startHubProcess(home, ['hub'], env);
      const boss = await connectHttp(first.hub, 'boss');
      const a = (await boss.call('assign', { ...mock, message: 'first task' })).structuredContent as Json;
      const id = a.terminal_id as string;
      expect((await boss.call('read_output', { terminal_id: id, wait_seconds: 30 })).structuredContent).toMatchObject({ output: 'OK' });
      await boss.close();
      first.proc.kill('SIGUSR2'); // `cao-mcp stop --keep-workers`: the worker runs on in the pty host
      await new Promise<void>((res) => first.proc.once('exit', () => res()));
      expect(logText(home, 'hub.log', first.proc.pid)).toContain('leaving the workers to the next hub');

      const second = await startHubProcess(home, ['hub'], env);
      const boss2 = await connectHttp(second.hub, 'boss');
      expect((await boss2.call('send_message', { receiver_id: id, message: 'after-restart task' })).isError).toBeFalsy();
      const out = await waitFor(
        async () => (await boss2.call('read_output', { terminal_id: id, wait_seconds: 10 })).structuredContent as Json,
        (o) => o.output === 'RESTART-SECRET-ANSWER',
        30_000,
      );
      expect(out.output).toBe('RESTART-SECRET-ANSWER');
      await boss2.call('stop_agent', { terminal_id: id });
      await boss2.close();
      await stopProc(second.proc);

      const spans = spansOf(received).map((x) => x.span);
      const runId = spans.map((x) => attrs(x)['cao.run_id'] as string).find(Boolean)!;
      expect(new Set(spans.map((x) => x.traceId))).toEqual(new Set([traceIdOfRun(runId)]));
      const agents = spans.filter((x) => x.name === 'agent developer');
      expect(agents.map((x) => attrs(x)['cao.terminal_id'])).toEqual([id, id]);
      const [before, after] = agents as [Json, Json];
      // the first hub: the run's root (the assign) and the agent, ended when that hub stopped with a note
      const top = spans.find((x) => x.name === 'assign')!;
      expect(before.parentSpanId).toBe(top.spanId);
      expect(attrs(before)).toMatchObject({ 'cao.note': 'hub stopped; workers left running', 'cao.via': 'assign' });
      expect(attrs(before)['cao.adopted']).toBeUndefined();
      // the next one: the adopted agent, a root in the same trace, its new turn under it, stopped by boss
      expect(after.parentSpanId ?? '').toBe('');
      expect(attrs(after)).toMatchObject({ 'cao.adopted': true, 'cao.creator': 'boss', 'cao.end_reason': 'stopped by boss' });
      const turns = spans.filter((x) => x.name === 'turn' && x.parentSpanId === after.spanId);
      expect(turns.length).toBeGreaterThanOrEqual(1);
      expect(attrs(turns[0]!)).toMatchObject({ 'cao.input.kind': 'paste', 'cao.status': 'completed' });
      expect((after.events as Json[]).map((e) => e.name)).toEqual(expect.arrayContaining(['message.queued', 'message.delivered']));
      const sent = received.map((q) => q.body).join('\n');
      for (const secret of ['after-restart', 'RESTART-SECRET-ANSWER', 'first task']) expect(sent).not.toContain(secret);
    } finally {
      stopEverything(home); // the hub if still up, and the pty host
    }
  }, 120_000);

  it('no OTEL variable: no OpenTelemetry file is loaded and nothing is sent', async () => {
    received.length = 0;
    const run = await oneHandoff('off', {});
    expect(run.loaded).toEqual([]);
    expect(run.stderr).not.toContain('OpenTelemetry');
    expect(received).toEqual([]);
  }, 90_000);

  it('an endpoint set but OTEL_SDK_DISABLED=true: not a request reaches the receiver, nothing loaded', async () => {
    received.length = 0;
    const run = await oneHandoff('disabled', { OTEL_EXPORTER_OTLP_ENDPOINT: endpoint, OTEL_SDK_DISABLED: 'true' });
    await new Promise((r) => setTimeout(r, 300));
    expect(received).toEqual([]);
    expect(run.loaded).toEqual([]);
    expect(run.stderr).not.toContain('OpenTelemetry');
  }, 90_000);
});
