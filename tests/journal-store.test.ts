// The run journal on a real SQLite file, without a hub: the batcher (one transaction per batch, nothing written in
// the publisher's turn, flush on close, failures kept from the publisher), run ids in the registry, what a row says
// (never a body), and retention (by age, by size, never a live run's rows).
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createBus, type Bus } from '../src/bus/bus.js';
import { openDatabase, type CaoDb } from '../src/db/db.js';
import { sqliteStoreOf, type SqliteStore } from '../src/store/sqlite/index.js';
import { journal as journalTable } from '../src/db/schema.js';
import { MessageQueue } from '../src/inbox/messages.js';
import { Journal } from '../src/journal/journal.js';
import { readTrace, listRuns, toEntry } from '../src/journal/queries.js';
import { retentionFromEnv, DEFAULT_RETENTION } from '../src/journal/retention.js';
import { TerminalRegistry } from '../src/registry/terminals.js';
import { resumeDelegations } from '../src/flows/resume.js';
import type { WorkerPool } from '../src/flows/workers.js';
import { closeLog, configureLog, flushLog } from '../src/util/log.js';

let dir: string;
let cao: CaoDb;
let store: SqliteStore;
let bus: Bus;
let registry: TerminalRegistry;
let j: Journal;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const rows = () => cao.db.select().from(journalTable).all().map(toEntry);
const worker = (id: string, creatorId: string | null) =>
  registry.registerTerminal({ id, kind: 'worker', provider: 'mock', profile: 'developer', creatorId });

beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'cao-journal-'));
  cao = openDatabase(path.join(dir, 'cao.db'));
  store = sqliteStoreOf(cao);
  bus = createBus();
  j = new Journal(store, bus);
  registry = new TerminalRegistry(store, bus);
});
afterEach(async () => {
  await j.close();
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('journal: the batcher', () => {
  it('writes nothing in the publisher’s turn; 450 events at once are 3 transactions (200, 200, 50), in order', async () => {
    await registry.ensureExternal('boss');
    await worker('aaaaaaaa', 'boss');
    await j.flush();
    const before = rows().length;
    const tx = vi.spyOn(cao.db, 'transaction');
    const batches = j.stats.batches;
    for (let i = 0; i < 450; i++) bus.emit('input', { terminalId: 'aaaaaaaa', bytes: i + 1, kind: 'paste' });
    expect(rows().length).toBe(before); // the publisher never waits for SQLite
    await sleep(20); // a full batch goes in the next turn, not after flushMs
    expect(tx).toHaveBeenCalledTimes(3);
    expect(j.stats.batches - batches).toBe(3);
    const inputs = rows().filter((r) => r.type === 'input.submitted');
    expect(inputs.map((r) => (r.detail as { bytes: number }).bytes)).toEqual(Array.from({ length: 450 }, (_, i) => i + 1));
    expect(new Set(inputs.map((r) => r.runId)).size).toBe(1);
    expect(inputs[0]!.runId).toMatch(/^run-[0-9a-f]{8}$/);
  });

  it('a few events are written together within flushMs, in one transaction', async () => {
    const tx = vi.spyOn(cao.db, 'transaction');
    for (let i = 0; i < 5; i++) bus.emit('input', { terminalId: 'bbbbbbbb', bytes: 1, kind: 'keys' });
    expect(tx).not.toHaveBeenCalled();
    await sleep(120);
    expect(tx).toHaveBeenCalledTimes(1);
    expect(rows().filter((r) => r.type === 'input.submitted')).toHaveLength(5);
  });

  it('close writes what is buffered at once, then stops listening', async () => {
    bus.emit('hub:started', { hubId: 'h1', pid: 1, mode: 'serve', version: '0' });
    bus.emit('input', { terminalId: 'cccccccc', bytes: 3, kind: 'keys' });
    await j.close();
    expect(rows().map((r) => r.type)).toEqual(['hub.started', 'input.submitted']);
    bus.emit('input', { terminalId: 'cccccccc', bytes: 3, kind: 'keys' });
    await j.flush();
    expect(rows()).toHaveLength(2);
  });

  it('a person’s keys are summed into one row; a database that fails never reaches the publisher', async () => {
    for (const b of [1, 1, 2]) bus.emit('input', { terminalId: 'dddddddd', bytes: b, kind: 'user' });
    await j.flush();
    expect(rows().map((r) => r.detail)).toEqual([{ kind: 'user', bytes: 4, writes: 3 }]);
    cao.sqlite.exec('DROP TABLE journal');
    const logPath = path.join(dir, 'journal-test.log');
    configureLog({ file: logPath });
    try {
      expect(() => bus.emit('input', { terminalId: 'dddddddd', bytes: 1, kind: 'keys' })).not.toThrow();
      await expect(j.flush()).resolves.toBeUndefined();
      expect(j.stats.dropped).toBe(1);
      await flushLog();
      const [line] = readFileSync(logPath, 'utf8').split('\n');
      expect(JSON.parse(line)).toMatchObject({ level: 'error', component: 'journal', dropped: 1, msg: 'journal: 1 event(s) not written' });
    } finally {
      closeLog();
    }
  });
});

describe('journal: runs and rows', () => {
  it('a supervisor’s worker starts a run, a worker’s worker inherits it; a spare has none until it is taken', async () => {
    await registry.ensureExternal('boss');
    const a = await worker('aaaaaaaa', 'boss');
    const b = await worker('bbbbbbbb', 'aaaaaaaa');
    const c = await worker('cccccccc', 'bbbbbbbb');
    const d = await worker('dddddddd', 'boss');
    const op = await worker('eeeeeeee', 'operator');
    expect(a.runId).toMatch(/^run-[0-9a-f]{8}$/);
    expect([b.runId, c.runId]).toEqual([a.runId, a.runId]);
    expect(new Set([a.runId, d.runId, op.runId]).size).toBe(3);
    const spare = await worker('ffffffff', null);
    expect(spare.runId).toBeNull();
    await registry.setCreator('ffffffff', 'cccccccc');
    expect((await registry.getTerminal('ffffffff'))?.runId).toBe(a.runId);
    await j.flush();
    const spareRows = rows().filter((r) => r.terminalId === 'ffffffff');
    expect(spareRows.map((r) => [r.type, r.runId, r.callerId])).toEqual([
      ['terminal.created', a.runId, null], // its start-up joins the run that took it
      ['terminal.taken', a.runId, 'cccccccc'],
    ]);
    expect(spareRows[0]!.detail).toEqual({ kind: 'worker', provider: 'mock', profile: 'developer', spare: true });
    const trace = (await readTrace(store, 'cccccccc'))!;
    expect(trace.run.runId).toBe(a.runId);
    const shape = (n: { terminalId: string; children: unknown[] }): unknown => [n.terminalId, (n.children as never[]).map(shape)];
    expect(trace.tree.map(shape)).toEqual([['aaaaaaaa', [['bbbbbbbb', [['cccccccc', [['ffffffff', []]]]]]]]]);
    expect(trace.run).toMatchObject({ rootTerminalId: 'aaaaaaaa', callerId: 'boss', agents: 4, outcome: 'running', live: true });
  });

  it('a message row names the receiver, the sender and the sender’s run, with its kind and size: never its body', async () => {
    const inbox = new MessageQueue(registry);
    await registry.ensureExternal('boss');
    const a = await worker('aaaaaaaa', 'boss');
    const m = await inbox.enqueueSoon('aaaaaaaa', 'boss', 'the secret report ü');
    await inbox.takeForExternal('boss', 10);
    const t = await inbox.enqueue('boss', 'aaaaaaaa', 'a secret task', 'task');
    await registry.endTerminal('aaaaaaaa', 'exited', 'stopped by boss');
    await j.flush();
    const msgs = rows().filter((r) => r.type.startsWith('message.'));
    expect(msgs.map((r) => [r.type, r.terminalId, r.callerId, r.runId, r.detail])).toEqual([
      ['message.queued', 'boss', 'aaaaaaaa', a.runId, { messageId: m.id, kind: 'message', bytes: Buffer.byteLength('the secret report ü') }],
      ['message.delivered', 'boss', 'aaaaaaaa', a.runId, { messageId: m.id }],
      ['message.queued', 'aaaaaaaa', 'boss', a.runId, { messageId: t.id, kind: 'task', bytes: 13 }],
      ['message.failed', 'aaaaaaaa', 'boss', a.runId, { messageId: t.id, error: 'receiver aaaaaaaa ended (exited): stopped by boss' }],
    ]);
    expect(rows().find((r) => r.type === 'terminal.ended')).toMatchObject({
      terminalId: 'aaaaaaaa',
      runId: a.runId,
      detail: { status: 'exited', reason: 'stopped by boss' },
    });
    expect(JSON.stringify(rows())).not.toMatch(/secret/);
    expect(await listRuns(store)).toMatchObject([{ runId: a.runId, agents: 1, outcome: 'unfinished', live: false }]);
  });
});

describe('journal: back in the queue, and delegations a previous hub left open', () => {
  it('a message back in the queue is one row: after a failed attempt (retry, with the error) or a hub’s death (adoption)', async () => {
    const inbox = new MessageQueue(registry);
    await registry.ensureExternal('boss');
    await worker('aaaaaaaa', 'boss');
    const m = await inbox.enqueue('boss', 'aaaaaaaa', 'do it', 'task');
    await inbox.claimNext('aaaaaaaa');
    await inbox.releaseForRetry(m.id, 'the input box was not ready');
    await inbox.claimNext('aaaaaaaa');
    await inbox.requeue(m.id);
    await j.flush();
    expect(
      rows()
        .filter((r) => r.type.startsWith('message.'))
        .map((r) => [r.type, r.detail]),
    ).toEqual([
      ['message.queued', { messageId: m.id, kind: 'task', bytes: 5 }],
      ['message.claimed', { messageId: m.id }],
      ['message.requeued', { messageId: m.id, why: 'retry', error: 'the input box was not ready' }],
      ['message.claimed', { messageId: m.id }],
      ['message.requeued', { messageId: m.id, why: 'adoption', error: null }],
    ]);
  });

  it('a new hub closes what the journal left open: handoffs end (detached / failed), ended assigns end, adopted ones are watched again', async () => {
    const inbox = new MessageQueue(registry);
    await registry.ensureExternal('boss');
    for (const id of ['aaaaaaaa', 'bbbbbbbb', 'cccccccc', 'dddddddd', 'eeeeeeee']) await worker(id, 'boss');
    const started = (terminalId: string) => ({
      terminalId,
      callerId: 'boss',
      profile: 'developer',
      provider: 'mock',
      bytes: 1,
      warm: false,
      worktree: false,
    });
    bus.emit('assign:started', started('aaaaaaaa')); // adopted, still at work
    bus.emit('assign:started', started('bbbbbbbb')); // ended while no hub ran, after reporting
    bus.emit('handoff:started', started('cccccccc')); // adopted: its caller's call went with the old hub
    bus.emit('handoff:started', started('dddddddd')); // ended with the old hub
    bus.emit('handoff:started', started('eeeeeeee')); // answered: nothing open
    bus.emit('handoff:ended', { terminalId: 'eeeeeeee', callerId: 'boss', outcome: 'completed', durationMs: 5 });
    await inbox.enqueue('bbbbbbbb', 'boss', 'my report');
    await j.flush();
    cao.sqlite.prepare(`UPDATE journal SET at = at - 60000 WHERE type LIKE '%.started'`).run();
    const pool = { has: () => false } as unknown as WorkerPool; // resuming reads nothing of the pool
    const r = await resumeDelegations({ bus, registry, inbox, pool }, store, {
      adopted: ['aaaaaaaa', 'cccccccc'],
      ended: ['bbbbbbbb', 'dddddddd', 'eeeeeeee'],
    });
    expect(r).toEqual({ resumed: 1, ended: 3 });
    await j.flush();
    const ends = () => rows().filter((x) => x.type.endsWith('.ended') && x.type !== 'terminal.ended');
    expect(ends().map((x) => [x.type, x.terminalId, (x.detail as { outcome: string }).outcome])).toEqual([
      ['handoff.ended', 'eeeeeeee', 'completed'],
      ['assign.ended', 'bbbbbbbb', 'reported'],
      ['handoff.ended', 'cccccccc', 'detached'],
      ['handoff.ended', 'dddddddd', 'failed'],
    ]);
    // the adopted assign ends when its worker does, timed from its first start
    await registry.endTerminal('aaaaaaaa', 'exited', 'done');
    await j.flush();
    const a = ends().find((x) => x.terminalId === 'aaaaaaaa')!;
    expect(a).toMatchObject({ type: 'assign.ended', callerId: 'boss', detail: { outcome: 'ended' } });
    expect((a.detail as { durationMs: number }).durationMs).toBeGreaterThanOrEqual(60_000);
    // run again (a third hub): nothing is open any more
    expect(
      await resumeDelegations({ bus, registry, inbox, pool }, store, { adopted: [], ended: ['aaaaaaaa', 'bbbbbbbb', 'cccccccc', 'dddddddd'] }),
    ).toEqual({
      resumed: 0,
      ended: 0,
    });
  });
});

describe('journal: the catalogue', () => {
  it('maps the bus to its rows: ready, status with its cause, question raised and answered, delegations, the hub', async () => {
    await registry.ensureExternal('boss');
    const a = await worker('aaaaaaaa', 'boss');
    const started = { terminalId: 'aaaaaaaa', callerId: 'boss', profile: 'developer', provider: 'mock', bytes: 42, warm: false, worktree: false };
    bus.emit('hub:started', { hubId: 'h1', pid: 7, mode: 'serve', version: '1.2.3' });
    bus.emit('handoff:started', started);
    const status = (s: 'idle' | 'processing' | 'waiting_user_answer', previous: 'starting' | 'idle' | 'processing' | 'waiting_user_answer') =>
      bus.emit('status', { terminalId: 'aaaaaaaa', status: s, previous, at: Date.now(), cause: { kind: 'detected' } });
    status('idle', 'starting');
    bus.emit('status', {
      terminalId: 'aaaaaaaa',
      status: 'processing',
      previous: 'idle',
      at: Date.now(),
      cause: { kind: 'input-submitted', turn: 1 },
    });
    status('waiting_user_answer', 'processing');
    bus.emit('question:answered', { terminalId: 'aaaaaaaa', callerId: 'boss', kind: 'option', bytes: 1 });
    status('processing', 'waiting_user_answer');
    bus.emit('handoff:ended', { terminalId: 'aaaaaaaa', callerId: 'boss', outcome: 'completed', durationMs: 1234 });
    bus.emit('hub:recovered', { hubId: 'h1', adopted: 1, ended: 2, failedMessages: 3 });
    bus.emit('hub:stopped', { hubId: 'h1', keepWorkers: true, workers: 1 });
    await j.flush();
    expect(rows().map((r) => [r.type, r.terminalId, r.callerId, r.runId, r.detail])).toEqual([
      ['terminal.created', 'boss', null, null, { kind: 'external', provider: null, profile: null, spare: false }],
      ['terminal.created', 'aaaaaaaa', 'boss', a.runId, { kind: 'worker', provider: 'mock', profile: 'developer', spare: false }],
      ['hub.started', null, null, null, { hubId: 'h1', pid: 7, mode: 'serve', version: '1.2.3' }],
      ['handoff.started', 'aaaaaaaa', 'boss', a.runId, { profile: 'developer', provider: 'mock', bytes: 42, warm: false, worktree: false }],
      ['terminal.ready', 'aaaaaaaa', null, a.runId, { status: 'idle' }],
      ['status.changed', 'aaaaaaaa', null, a.runId, { status: 'processing', previous: 'idle', cause: { kind: 'input-submitted', turn: 1 } }],
      ['question.raised', 'aaaaaaaa', null, a.runId, { previous: 'processing', cause: { kind: 'detected' } }],
      ['question.answered', 'aaaaaaaa', 'boss', a.runId, { kind: 'option', bytes: 1 }],
      ['status.changed', 'aaaaaaaa', null, a.runId, { status: 'processing', previous: 'waiting_user_answer', cause: { kind: 'detected' } }],
      ['handoff.ended', 'aaaaaaaa', 'boss', a.runId, { outcome: 'completed', durationMs: 1234 }],
      ['hub.recovered', null, null, null, { hubId: 'h1', adopted: 1, ended: 2, failedMessages: 3 }],
      ['hub.stopped', null, null, null, { hubId: 'h1', keepWorkers: true, workers: 1 }],
    ]);
    expect((await readTrace(store, a.runId!))!.run).toMatchObject({ via: 'handoff', callerId: 'boss', outcome: 'running', live: true, agents: 1 });
    await registry.endTerminal('aaaaaaaa', 'exited', 'handoff finished');
    await j.flush();
    expect((await readTrace(store, 'aaaaaaaa'))!.run).toMatchObject({ outcome: 'completed', live: false });
  });
});

describe('journal: retention', () => {
  /** Ends a run of one worker, then ages its rows (and the hub's) by `ageMs`. */
  async function endedRun(id: string, ageMs: number): Promise<string> {
    const w = await worker(id, 'boss');
    await registry.endTerminal(id, 'exited', 'done');
    await j.flush();
    cao.sqlite.prepare('UPDATE journal SET at = at - ? WHERE run_id = ? OR run_id IS NULL').run(ageMs, w.runId);
    return w.runId!;
  }

  it('by age: old rows go, except those of a run with a live agent and of a live spare, however old', async () => {
    await registry.ensureExternal('boss');
    const live = await worker('aaaaaaaa', 'boss');
    await worker('bbbbbbbb', 'aaaaaaaa');
    await worker('eeeeeeee', null); // a spare: no run
    bus.emit('input', { terminalId: 'aaaaaaaa', bytes: 1, kind: 'keys' });
    await j.flush();
    const DAY = 86_400_000;
    cao.sqlite.prepare('UPDATE journal SET at = at - ?').run(30 * DAY); // everything so far is a month old
    const old = await endedRun('cccccccc', 30 * DAY);
    const recent = await endedRun('dddddddd', 0);
    const before = rows();
    const r = await store.journal.applyRetention({ maxAgeMs: 14 * DAY, maxRows: 1_000_000 }, Date.now());
    const after = rows();
    expect(after.filter((x) => x.runId === old)).toEqual([]);
    expect(after.filter((x) => x.runId === live.runId)).toEqual(before.filter((x) => x.runId === live.runId));
    expect(after.filter((x) => x.runId === live.runId).length).toBeGreaterThanOrEqual(3);
    expect(after.filter((x) => x.runId === recent).length).toBe(2);
    expect(after.filter((x) => x.terminalId === 'eeeeeeee')).toHaveLength(1);
    expect(r.byAge).toBe(before.length - after.length);
  });

  it('by size: the oldest rows go down to the cap, never a live run’s, even when that leaves more than the cap', async () => {
    const runs: string[] = [];
    for (const id of ['11111111', '22222222', '33333333']) runs.push(await endedRun(id, 0));
    const live = await worker('aaaaaaaa', 'boss');
    for (let i = 0; i < 10; i++) bus.emit('input', { terminalId: 'aaaaaaaa', bytes: 1, kind: 'keys' });
    await j.flush();
    const liveRows = rows().filter((x) => x.runId === live.runId).length;
    expect(liveRows).toBe(11);
    const total = rows().length;
    const r = await store.journal.applyRetention({ maxAgeMs: DEFAULT_RETENTION.maxAgeMs, maxRows: total - 2 }, Date.now());
    expect(r.bySize).toBe(2);
    // the first run's two rows were the oldest deletable ones
    expect(rows().filter((x) => x.runId === runs[0])).toEqual([]);
    expect(rows().filter((x) => x.runId === runs[1])).toHaveLength(2);
    await store.journal.applyRetention({ maxAgeMs: DEFAULT_RETENTION.maxAgeMs, maxRows: 1 }, Date.now());
    expect(rows().filter((x) => x.runId === live.runId)).toHaveLength(liveRows);
    expect(rows().filter((x) => x.runId !== live.runId)).toEqual([]);
  });

  it('by size: a run goes whole, never a part of it; the hub’s own rows go one by one', async () => {
    bus.emit('hub:started', { hubId: 'h1', pid: 1, mode: 'test', version: '0' });
    const runs: string[] = [];
    for (const id of ['11111111', '22222222']) runs.push(await endedRun(id, 0));
    bus.emit('input', { terminalId: '11111111', bytes: 1, kind: 'keys' }); // a third row of the first run, after the second run's
    await j.flush();
    expect(rows().filter((x) => x.runId === runs[0])).toHaveLength(3);
    const total = rows().length;
    // one row over the cap: the hub's row (the oldest unit) goes first, alone
    expect((await store.journal.applyRetention({ maxAgeMs: DEFAULT_RETENTION.maxAgeMs, maxRows: total - 1 }, Date.now())).bySize).toBe(1);
    expect(rows().filter((x) => x.type === 'hub.started')).toEqual([]);
    // one more over: the oldest run goes whole (3 rows), though its last row is newer than the other run's
    expect((await store.journal.applyRetention({ maxAgeMs: DEFAULT_RETENTION.maxAgeMs, maxRows: total - 2 }, Date.now())).bySize).toBe(3);
    expect(rows().filter((x) => x.runId === runs[0])).toEqual([]);
    expect(rows().filter((x) => x.runId === runs[1])).toHaveLength(2);
  });

  it('settings come from CAO_JOURNAL_DAYS and CAO_JOURNAL_MAX_ROWS; anything but a positive number is the default', async () => {
    expect(retentionFromEnv({})).toEqual(DEFAULT_RETENTION);
    expect(retentionFromEnv({ CAO_JOURNAL_DAYS: '2', CAO_JOURNAL_MAX_ROWS: '500' })).toEqual({ maxAgeMs: 2 * 86_400_000, maxRows: 500 });
    expect(retentionFromEnv({ CAO_JOURNAL_DAYS: '0', CAO_JOURNAL_MAX_ROWS: 'lots' })).toEqual(DEFAULT_RETENTION);
  });
});
