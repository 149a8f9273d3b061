// The run journal end to end: real `cao-mcp serve`, the mock agent CLI making real tool calls, real MCP clients over
// Streamable HTTP, `cao-mcp runs` and `cao-mcp trace` reading the database as a person would.
import { spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI } from './support/cao-client.js';
import { connectHttp, startServe, stopProc, type HttpCaller, type HubInfo } from './support/http-client.js';
import { waitFor } from './support/procs.js';
import { CHAIN_RULES, mock } from './support/chain.js';

// supervisor → handoff A; A assigns B; B hands off to C, then reports to the supervisor by name
const SCRIPT = {
  rules: [...CHAIN_RULES, { match: 'slow', delayMs: 60_000, answer: 'SLOW-DONE' }],
  default: { answer: 'OK' },
};

type Json = Record<string, any>;
const json = (r: { structuredContent?: unknown }) => r.structuredContent as Json;
const textOf = (r: { content: unknown }) => (r.content as { type: string; text: string }[]).map((x) => x.text).join('\n');

function cli(home: string, args: string[]) {
  const r = spawnSync(process.execPath, [CLI, ...args], { env: { ...process.env, CAO_HOME: home }, encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}
const cliJson = (home: string, args: string[]): Json => {
  const r = cli(home, [...args, '--json']);
  if (r.status !== 0) throw new Error(`cao-mcp ${args.join(' ')}: ${r.stderr}`);
  return JSON.parse(r.stdout) as Json;
};

let root: string;
let serve: { proc: ChildProcess; hub: HubInfo; stderr: () => string } | undefined;
let c: HttpCaller | undefined;

beforeAll(() => {
  root = mkdtempSync(path.join(tmpdir(), 'cao-journal-e2e-'));
});
afterAll(async () => {
  await c?.close();
  if (serve) await stopProc(serve.proc);
  rmSync(root, { recursive: true, force: true });
});

async function agents(caller: HttpCaller): Promise<Json[]> {
  return json(await caller.call('list_agents', { include_ended: true })).agents as Json[];
}

/** The lifecycle of an agent's timeline (status changes and inputs left out: how many a CLI makes is its own business). */
const LIFECYCLE = new Set([
  'terminal.created',
  'terminal.taken',
  'terminal.ready',
  'handoff.started',
  'handoff.ended',
  'assign.started',
  'assign.ended',
  'message.queued',
  'message.claimed',
  'message.delivered',
  'message.failed',
  'terminal.ended',
]);
const lifecycle = (n: Json) => (n.events as Json[]).filter((e) => LIFECYCLE.has(e.type)).map((e) => e.type as string);

describe('run journal', () => {
  it('a three-level chain (handoff → assign → handoff) is one run: its tree and each agent’s event order, exactly', async () => {
    const home = path.join(root, 'chain');
    serve = await startServe(home, { CAO_MOCK_SCRIPT: JSON.stringify(SCRIPT), CAO_WARM_POOL: '0' });
    c = await connectHttp(serve.hub, 'boss');
    const r = await c.call('handoff', { ...mock, message: 'level-A task' });
    expect(r.isError, textOf(r)).toBeFalsy();
    expect(json(r)).toMatchObject({ success: true, output: 'A-DONE' });
    const a = json(r).terminal_id as string;
    // B reports to the supervisor once C has answered it
    const inbox = await waitFor(
      async () => json(await c!.call('read_inbox', { wait_seconds: 5 })).messages as Json[],
      (m) => m.length > 0,
      60_000,
    );
    expect(inbox.map((m) => m.body)).toEqual(['B-DONE']);
    const b = (await agents(c)).find((x) => x.creator === a)!.id as string;
    const cId = (await agents(c)).find((x) => x.creator === b)!.id as string;
    // C ends after its answer; B, assigned, idles until stopped
    await waitFor(
      async () => (await agents(c!)).find((x) => x.id === cId)!.ended,
      (e) => e === true,
      20_000,
    );
    expect(json(await c.call('stop_agent', { terminal_id: b }))).toMatchObject({ stopped: true });
    await waitFor(
      async () => (await agents(c!)).filter((x) => [a, b, cId].includes(x.id) && x.ended).length,
      (n) => n === 3,
      20_000,
    );
    await new Promise((res) => setTimeout(res, 200)); // the journal's last batch (50 ms)

    const runs = cliJson(home, ['runs']).runs as Json[];
    expect(runs).toHaveLength(1);
    const run = runs[0]!;
    expect(run).toMatchObject({
      root_terminal_id: a,
      via: 'handoff',
      caller_id: 'boss',
      profile: 'developer',
      provider: 'mock',
      agents: 3,
      outcome: 'completed',
      live: false,
    });
    expect(run.run_id).toMatch(/^run-[0-9a-f]{8}$/);

    // by the run id, by any of its terminals, and by the supervisor's name: the same trace
    const trace = cliJson(home, ['trace', run.run_id]);
    expect(cliJson(home, ['trace', cId])).toEqual(trace);
    expect(cliJson(home, ['trace', 'boss'])).toEqual(trace);
    // who started whom, how, and how it ended
    const shape = (n: Json): Json => ({
      id: n.terminal_id,
      by: n.created_by,
      via: n.via,
      outcome: n.outcome,
      children: (n.children as Json[]).map(shape),
    });
    expect(trace.tree.map(shape)).toEqual([
      {
        id: a,
        by: 'boss',
        via: 'handoff',
        outcome: 'completed',
        children: [
          { id: b, by: a, via: 'assign', outcome: 'ended', children: [{ id: cId, by: b, via: 'handoff', outcome: 'completed', children: [] }] },
        ],
      },
    ]);
    const [nodeA] = trace.tree as Json[];
    const nodeB = nodeA!.children[0] as Json;
    const nodeC = nodeB.children[0] as Json;
    expect(lifecycle(nodeA!)).toEqual(['terminal.created', 'handoff.started', 'terminal.ready', 'handoff.ended', 'terminal.ended']);
    expect(lifecycle(nodeB)).toEqual([
      'terminal.created',
      'assign.started',
      'message.queued',
      'terminal.ready',
      'message.claimed',
      'message.delivered',
      'terminal.ended',
      'assign.ended',
    ]);
    expect(lifecycle(nodeC)).toEqual(['terminal.created', 'handoff.started', 'terminal.ready', 'handoff.ended', 'terminal.ended']);
    // each turn: the task pasted and submitted, the agent busy, then done; the end, an exit
    for (const n of [nodeA!, nodeB, nodeC]) {
      const ev = n.events as Json[];
      const ready = ev.findIndex((e) => e.type === 'terminal.ready');
      const paste = ev.findIndex((e) => e.type === 'input.submitted' && e.detail.kind === 'paste');
      expect(paste).toBeGreaterThan(ready);
      const statuses = ev.filter((e) => e.type === 'status.changed').map((e) => e.detail.status as string);
      expect(statuses).toContain('processing');
      expect(statuses).toContain('completed');
      expect(ev.find((e) => e.type === 'terminal.ended')!.detail.status).toBe('exited');
    }
    expect(nodeA!.events.find((e: Json) => e.type === 'handoff.started')).toMatchObject({
      caller_id: 'boss',
      detail: { profile: 'developer', provider: 'mock', bytes: 'level-A task'.length, warm: false, worktree: false },
    });
    expect(nodeB.events.find((e: Json) => e.type === 'message.queued')).toMatchObject({ caller_id: a, detail: { kind: 'task' } });
    expect(nodeB.events.find((e: Json) => e.type === 'terminal.ended').detail.reason).toMatch(/^(stopped by boss|exited with code \d+)$/);
    expect(nodeC.events.find((e: Json) => e.type === 'handoff.started').caller_id).toBe(b);
    // outside the tree: B's report in the supervisor's inbox, queued then taken
    expect(trace.others.map((e: Json) => [e.type, e.terminal_id, e.caller_id])).toEqual([
      ['message.queued', 'boss', b],
      ['message.delivered', 'boss', b],
    ]);
    // one run, in order: every row of it carries it, ids and times only go forward, parents start before children
    const all = [...nodeA!.events, ...nodeB.events, ...nodeC.events, ...trace.others] as Json[];
    expect(new Set(all.map((e) => e.run_id))).toEqual(new Set([run.run_id]));
    const byId = [...all].sort((x, y) => x.id - y.id);
    for (let i = 1; i < byId.length; i++) expect(byId[i]!.at).toBeGreaterThanOrEqual(byId[i - 1]!.at);
    const idOf = (n: Json, type: string) => (n.events as Json[]).find((e) => e.type === type)!.id as number;
    expect(idOf(nodeA!, 'handoff.started')).toBeLessThan(idOf(nodeB, 'terminal.created'));
    expect(idOf(nodeB, 'message.delivered')).toBeLessThan(idOf(nodeC, 'terminal.created'));
    expect(idOf(nodeC, 'handoff.ended')).toBeLessThan(trace.others[0].id);
    // kinds and sizes only: no task, answer or message text anywhere in the journal
    const raw = JSON.stringify(trace);
    for (const secret of ['level-A', 'level-B', 'level-C', 'A-DONE', 'B-DONE', 'C-DONE']) expect(raw).not.toContain(secret);

    // the same for the supervisor over MCP (read_trace); another supervisor does not see it
    const mine = json(await c.call('read_trace', { run_or_terminal_id: b }));
    expect(mine.run.run_id).toBe(run.run_id);
    expect(mine.tree.map(shape)).toEqual(trace.tree.map(shape));
    expect(json(await c.call('read_trace', {})).run.run_id).toBe(run.run_id);
    const eve = await connectHttp(serve.hub, 'eve');
    const refused = await eve.call('read_trace', { run_or_terminal_id: run.run_id });
    expect(refused.isError).toBe(true);
    expect(textOf(refused)).toMatch(/^Error: \[not_found\]/);
    await eve.close();

    // people's views
    const text = cli(home, ['runs']).stdout;
    expect(text).toMatch(new RegExp(`${run.run_id}\\s+.+? ago\\s+handoff developer \\(mock\\) from boss\\s+3\\s+completed`));
    const tree = cli(home, ['trace', run.run_id]).stdout;
    expect(tree).toContain(`${a} developer (mock), handoff from boss → completed`);
    expect(tree).toContain(`  ${b} developer (mock), assign from ${a} → ended`);
    expect(tree).toContain(`    ${cId} developer (mock), handoff from ${b} → completed`);
    expect(cli(home, ['trace', 'nope-nothing']).status).toBe(1);

    // retention: a second hub on the same database starts with a cap of 1 row and 1 ms of age while a worker of the
    // first one is live: that run's rows all stay, the ended run's go
    const live = json(await c.call('assign', { ...mock, message: 'just idle' })).terminal_id as string;
    await waitFor(
      async () => (await agents(c!)).find((x) => x.id === live)!.status,
      (s) => s === 'completed' || s === 'idle',
      20_000,
    );
    await new Promise((res) => setTimeout(res, 200));
    const liveRun = cliJson(home, ['trace', live]);
    const liveRows = [...(liveRun.tree as Json[]).flatMap((n) => n.events), ...liveRun.others] as Json[];
    expect(liveRows.length).toBeGreaterThan(3);
    const second = await startServe(home, { CAO_JOURNAL_MAX_ROWS: '1', CAO_JOURNAL_DAYS: '0.00000001' });
    try {
      expect(cli(home, ['trace', run.run_id]).status).toBe(1); // the ended run is gone
      const after = cliJson(home, ['trace', live]);
      const kept = [...(after.tree as Json[]).flatMap((n) => n.events), ...after.others] as Json[];
      expect(kept.slice(0, liveRows.length)).toEqual(liveRows);
      expect(cliJson(home, ['runs']).runs.map((x: Json) => x.run_id)).toEqual([liveRun.run.run_id]);
    } finally {
      await stopProc(second.proc);
    }
    await c.close();
    c = undefined;
    await stopProc(serve.proc);
    serve = undefined;
  }, 180_000);

  it('a handoff a warm spare served: the spare’s start-up joins the run of the caller that took it', async () => {
    const home = path.join(root, 'warm');
    const hub = await startServe(home, { CAO_MOCK_SCRIPT: JSON.stringify(SCRIPT), CAO_WARM_POOL: '1' });
    const boss = await connectHttp(hub.hub, 'boss');
    try {
      expect(json(await boss.call('handoff', { ...mock, message: 'first' }))).toMatchObject({ success: true, warm: false });
      await waitFor(
        async () => (await agents(boss)).find((x) => x.warm && !x.ended && x.status === 'idle'),
        (x) => x !== undefined,
        30_000,
      );
      const second = json(await boss.call('handoff', { ...mock, message: 'second' }));
      expect(second).toMatchObject({ success: true, warm: true });
      await new Promise((res) => setTimeout(res, 200));
      const t = cliJson(home, ['trace', second.terminal_id]);
      expect(t.tree.map((n: Json) => [n.terminal_id, n.created_by, n.via, n.outcome])).toEqual([
        [second.terminal_id, 'boss', 'handoff', 'completed'],
      ]);
      expect(lifecycle(t.tree[0]).slice(0, 4)).toEqual(['terminal.created', 'terminal.ready', 'terminal.taken', 'handoff.started']);
      expect(t.tree[0].events[0]).toMatchObject({ caller_id: null, detail: { spare: true } });
      expect((t.tree[0].events as Json[]).find((e) => e.type === 'handoff.started')!.detail.warm).toBe(true);
      expect(cliJson(home, ['runs']).runs).toHaveLength(2);
    } finally {
      await boss.close();
      await stopProc(hub.proc);
    }
  }, 120_000);

  it('a hub killed -9 mid-run leaves a journal `cao-mcp trace` reads; the next hub records how it ended', async () => {
    const home = path.join(root, 'crash');
    const first = await startServe(home, { CAO_MOCK_SCRIPT: JSON.stringify(SCRIPT), CAO_WARM_POOL: '0' });
    const boss = await connectHttp(first.hub, 'boss');
    const progress: string[] = [];
    const call = boss.client
      .callTool({ name: 'handoff', arguments: { ...mock, message: 'slow task' } }, undefined, {
        timeout: 120_000,
        onprogress: (p) => void progress.push(p.message ?? ''),
      })
      .catch((e: Error) => e);
    // the worker has its task and is busy with it
    const busy = await waitFor(
      () => {
        const r = cli(home, ['trace', 'boss', '--json']);
        if (r.status !== 0) return null;
        const t = JSON.parse(r.stdout) as Json;
        const ev = (t.tree[0]?.events ?? []) as Json[];
        return ev.some((e) => e.type === 'status.changed' && e.detail.status === 'processing') ? t : null;
      },
      (t) => t !== null,
      30_000,
    );
    expect(busy).not.toBeNull();
    first.proc.kill('SIGKILL');
    await new Promise<void>((res) => first.proc.once('exit', () => res()));
    await boss.close(); // the call in flight fails with the connection
    expect(await call).toBeInstanceOf(Error);

    const after = cliJson(home, ['trace', 'boss']);
    const worker = after.tree[0] as Json;
    expect(after.run).toMatchObject({ root_terminal_id: worker.terminal_id, via: 'handoff', agents: 1 });
    expect(lifecycle(worker)).toEqual(['terminal.created', 'handoff.started', 'terminal.ready']);
    expect(cli(home, ['runs']).status).toBe(0);

    // the next hub ends the dead hub's worker, and the handoff the dead hub never finished, and says so
    const next = await startServe(home, { CAO_MOCK_SCRIPT: JSON.stringify(SCRIPT), CAO_WARM_POOL: '0' });
    try {
      await new Promise((res) => setTimeout(res, 300));
      const settled = cliJson(home, ['trace', worker.terminal_id]);
      expect(settled.run).toMatchObject({ outcome: 'failed', live: false });
      const [ended, handoffEnded] = (settled.tree[0].events as Json[]).slice(-2);
      expect(ended).toMatchObject({ type: 'terminal.ended', detail: { status: 'exited', reason: 'hub restarted' } });
      expect(handoffEnded).toMatchObject({ type: 'handoff.ended', caller_id: 'boss', detail: { outcome: 'failed' } });
      expect(lifecycle(settled.tree[0])).toEqual(['terminal.created', 'handoff.started', 'terminal.ready', 'terminal.ended', 'handoff.ended']);
    } finally {
      await stopProc(next.proc);
    }
  }, 120_000);
});
