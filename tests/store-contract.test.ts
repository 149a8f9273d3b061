// The Store contract (src/store/types.ts), run against every engine of tests/support/engines.ts on a real database:
// each method's promise, and the guarantees that must hold with two hubs (two stores, their own connections) on the
// same data at once: one claim at a time per receiver in order, no mail left pending on an ended receiver, read-once
// inboxes of supervisors, one recovery of a dead hub's workers.
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { NewJournalRow, NewTerminalRow, TerminalRow } from '../src/db/schema.js';
import type { NewMessage, Store } from '../src/store/types.js';
import { CaoError } from '../src/util/errors.js';
import { ENGINES } from './support/engines.js';

const T0 = 1_700_000_000_000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe.each(ENGINES)('Store contract: $name', (engine) => {
  const opened: Store[] = [];
  afterEach(async () => {
    for (const s of opened.splice(0)) await s.close();
  });
  afterAll(() => engine.cleanup(), 60_000);

  async function fresh(): Promise<Store> {
    const s = await engine.open();
    opened.push(s);
    return s;
  }
  async function again(s: Store): Promise<Store> {
    const t = await engine.openAgain(s);
    opened.push(t);
    return t;
  }
  let seq = 0;
  const hex = () => (0x10000000 + ++seq * 7919).toString(16).slice(-8);
  async function worker(s: Store, over: Partial<NewTerminalRow> = {}): Promise<TerminalRow> {
    const row = await s.terminals.insert({ id: hex(), kind: 'worker', status: 'idle', hubId: 'hub-a', createdAt: T0 + seq, ...over });
    if (!row) throw new Error('insert failed');
    return row;
  }
  const msg = (receiverId: string, body = 'hello', senderId = 'boss', kind: NewMessage['kind'] = 'message'): NewMessage => ({
    senderId,
    receiverId,
    body,
    kind,
  });
  async function send(s: Store, receiverId: string, n = 1, now = T0): Promise<number[]> {
    const rows = await s.messages.insertBatch(
      Array.from({ length: n }, (_, i) => msg(receiverId, `m${i}`)),
      now,
    );
    return rows.map((r) => {
      if (r instanceof CaoError) throw r;
      return r.id;
    });
  }

  describe('the store itself', () => {
    it('names its engine and where, closes idempotently, and rejects calls once closed', async () => {
      const s = await engine.open();
      expect(s.engine).toBe(engine.name);
      expect(typeof s.where).toBe('string');
      expect(s.isOpen()).toBe(true);
      await s.close();
      await s.close();
      expect(s.isOpen()).toBe(false);
      await expect(s.terminals.get('x')).rejects.toThrow();
    });
  });

  describe('terminals', () => {
    it('insert returns the row, or null when the id is taken (nothing written)', async () => {
      const s = await fresh();
      const row = await s.terminals.insert({ id: 'abcd0001', kind: 'worker', provider: 'codex', status: 'starting', createdAt: T0, runId: 'r1' });
      expect(row).toMatchObject({
        id: 'abcd0001',
        kind: 'worker',
        provider: 'codex',
        status: 'starting',
        createdAt: T0,
        endedAt: null,
        runId: 'r1',
        pid: null,
      });
      expect(await s.terminals.insert({ id: 'abcd0001', kind: 'worker', provider: 'other', status: 'idle', createdAt: T0 + 1 })).toBeNull();
      expect(await s.terminals.get('abcd0001')).toEqual(row);
      expect(await s.terminals.get('nope')).toBeUndefined();
    });

    it('list: by created_at then id, live only unless includeEnded, by kind and hub', async () => {
      const s = await fresh();
      await s.terminals.insert({ id: 'bbbb0002', kind: 'worker', status: 'idle', hubId: 'h1', createdAt: T0 + 5 });
      await s.terminals.insert({ id: 'aaaa0002', kind: 'worker', status: 'idle', hubId: 'h2', createdAt: T0 + 5 });
      await s.terminals.insert({ id: 'cccc0002', kind: 'worker', status: 'idle', hubId: 'h1', createdAt: T0 + 1 });
      await s.terminals.insert({ id: 'sup', kind: 'external', status: 'idle', createdAt: T0 + 9 });
      await s.terminals.end('cccc0002', 'exited', T0 + 10, undefined, 'gone');
      expect((await s.terminals.list()).map((t) => t.id)).toEqual(['aaaa0002', 'bbbb0002', 'sup']);
      expect((await s.terminals.list({ includeEnded: true })).map((t) => t.id)).toEqual(['cccc0002', 'aaaa0002', 'bbbb0002', 'sup']);
      expect((await s.terminals.list({ kind: 'external' })).map((t) => t.id)).toEqual(['sup']);
      expect((await s.terminals.list({ hubId: 'h1', includeEnded: true })).map((t) => t.id)).toEqual(['cccc0002', 'bbbb0002']);
    });

    it('setStatus changes a live row only (with its last error when given)', async () => {
      const s = await fresh();
      const w = await worker(s);
      expect(await s.terminals.setStatus(w.id, 'processing')).toBe(true);
      expect(await s.terminals.setStatus(w.id, 'error', 'it broke')).toBe(true);
      expect(await s.terminals.get(w.id)).toMatchObject({ status: 'error', lastError: 'it broke' });
      expect(await s.terminals.setStatus(w.id, 'idle')).toBe(true);
      expect(await s.terminals.get(w.id)).toMatchObject({ status: 'idle', lastError: 'it broke' });
      await s.terminals.end(w.id, 'exited', T0, undefined, 'x');
      expect(await s.terminals.setStatus(w.id, 'idle')).toBe(false);
      expect(await s.terminals.setStatus('missing0', 'idle')).toBe(false);
      expect((await s.terminals.get(w.id))!.status).toBe('exited');
    });

    it('setStatus stores the question a worker waits on; the next status clears it', async () => {
      const s = await fresh();
      const w = await worker(s);
      expect(await s.terminals.get(w.id)).toMatchObject({ question: null });
      await s.terminals.setStatus(w.id, 'waiting_user_answer', undefined, 'Allow write?\n1. Yes\n2. No');
      expect(await s.terminals.get(w.id)).toMatchObject({ status: 'waiting_user_answer', question: 'Allow write?\n1. Yes\n2. No' });
      await s.terminals.setStatus(w.id, 'processing');
      expect(await s.terminals.get(w.id)).toMatchObject({ status: 'processing', question: null });
      await s.terminals.setStatus(w.id, 'waiting_user_answer', undefined, 'Again?');
      await s.terminals.setStatus(w.id, 'error', 'it broke');
      expect(await s.terminals.get(w.id)).toMatchObject({ status: 'error', lastError: 'it broke', question: null });
    });

    it('end: a live worker ends and its pending mail fails with mailReason (a message being typed is left), once', async () => {
      const s = await fresh();
      const w = await worker(s);
      const [a, b, c] = await send(s, w.id, 3);
      expect((await s.messages.claimNext(w.id))!.id).toBe(a);
      const r = await s.terminals.end(w.id, 'error', T0 + 100, 'crashed', 'receiver gone');
      expect(r!.row).toMatchObject({ id: w.id, status: 'error', endedAt: T0 + 100, lastError: 'crashed' });
      expect(r!.failed).toEqual([
        { messageId: b, receiverId: w.id, error: 'receiver gone' },
        { messageId: c, receiverId: w.id, error: 'receiver gone' },
      ]);
      expect(await s.messages.get(a!)).toMatchObject({ status: 'delivering' });
      expect(await s.messages.get(c!)).toMatchObject({ status: 'failed', error: 'receiver gone' });
      expect(await s.terminals.end(w.id, 'exited', T0 + 200, undefined, 'again')).toBeNull();
      expect(await s.terminals.end('missing0', 'exited', T0, undefined, 'x')).toBeNull();
      // no reason: the last error stays as it was
      const v = await worker(s);
      await s.terminals.setStatus(v.id, 'idle', 'earlier');
      expect((await s.terminals.end(v.id, 'exited', T0, undefined, 'x'))!.row.lastError).toBe('earlier');
    });

    it('end of an external supervisor leaves its mail (it stays readable)', async () => {
      const s = await fresh();
      await s.terminals.ensureExternal('sup', T0);
      const [id] = await send(s, 'sup');
      expect((await s.terminals.end('sup', 'exited', T0 + 1, undefined, 'x'))!.failed).toEqual([]);
      expect((await s.messages.get(id!))!.status).toBe('pending');
    });

    it('ensureExternal: created on first use, the same row after, an ended one opened again; a worker id is name_taken', async () => {
      const s = await fresh();
      const first = await s.terminals.ensureExternal('sup', T0);
      expect(first.created).toBe(true);
      expect(first.row).toMatchObject({ id: 'sup', kind: 'external', status: 'idle', createdAt: T0, endedAt: null, creatorId: null });
      const second = await s.terminals.ensureExternal('sup', T0 + 5);
      expect(second).toEqual({ row: first.row, created: false });
      await s.terminals.setStatus('sup', 'error', 'bad');
      await s.terminals.end('sup', 'exited', T0 + 10, 'bye', 'x');
      const reopened = await s.terminals.ensureExternal('sup', T0 + 20);
      expect(reopened.created).toBe(true);
      expect(reopened.row).toMatchObject({ id: 'sup', endedAt: null, status: 'idle', lastError: null, createdAt: T0 });
      const w = await worker(s);
      const err = await s.terminals.ensureExternal(w.id, T0).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(CaoError);
      expect(err).toMatchObject({ code: 'name_taken', message: `"${w.id}" is a worker terminal id, not an external supervisor` });
    });

    it('ensureExternal from two hubs at once creates the row once', async () => {
      const a = await fresh();
      const b = await again(a);
      for (let round = 0; round < 10; round++) {
        const name = `sup-${round}`;
        const results = await Promise.all([0, 1, 2, 3].map((i) => (i % 2 ? a : b).terminals.ensureExternal(name, T0 + i)));
        expect(results.filter((r) => r.created)).toHaveLength(1);
        expect(new Set(results.map((r) => r.row.createdAt)).size).toBe(1);
      }
    });

    it('adopt and setCreator change a live row only', async () => {
      const s = await fresh();
      const w = await worker(s, { hubId: 'old' });
      expect(await s.terminals.adopt(w.id, 'new')).toBe(true);
      expect(await s.terminals.setCreator(w.id, 'sup', 'run-1')).toBe(true);
      expect(await s.terminals.get(w.id)).toMatchObject({ hubId: 'new', creatorId: 'sup', runId: 'run-1' });
      expect(await s.terminals.setCreator(w.id, 'sup2', null)).toBe(true);
      expect(await s.terminals.get(w.id)).toMatchObject({ creatorId: 'sup2', runId: null });
      await s.terminals.end(w.id, 'exited', T0, undefined, 'x');
      expect(await s.terminals.adopt(w.id, 'other')).toBe(false);
      expect(await s.terminals.setCreator(w.id, 'x', 'r')).toBe(false);
      expect(await s.terminals.adopt('missing0', 'other')).toBe(false);
    });

    it('recover ends the live workers of other hubs (not alive ones, not its own, not supervisors) and fails their open mail', async () => {
      const s = await fresh();
      const dead = await worker(s, { hubId: 'dead-hub', pid: 4242 });
      const orphan = await worker(s, { hubId: null });
      const mine = await worker(s, { hubId: 'me' });
      const alive = await worker(s, { hubId: 'alive-hub' });
      const gone = await worker(s, { hubId: 'dead-hub' });
      await s.terminals.end(gone.id, 'exited', T0, undefined, 'x');
      await s.terminals.ensureExternal('sup', T0);
      const [d1, d2, d3] = await send(s, dead.id, 3);
      await s.messages.claimNext(dead.id); // d1 in flight
      const [o1] = await send(s, orphan.id, 1);
      const [m1] = await send(s, mine.id, 1);
      const [x1] = await send(s, 'sup', 1);
      const r = await s.terminals.recover('me', T0 + 500, (h) => h === 'alive-hub');
      expect(r.ended).toEqual([
        { id: dead.id, pid: 4242 },
        { id: orphan.id, pid: null },
      ]);
      expect(r.failed).toEqual([
        ...[d1, d2, d3].map((id) => ({ messageId: id, receiverId: dead.id, error: `receiver ${dead.id} died with the previous hub` })),
        { messageId: o1, receiverId: orphan.id, error: `receiver ${orphan.id} died with the previous hub` },
      ]);
      expect(await s.terminals.get(dead.id)).toMatchObject({ endedAt: T0 + 500, status: 'exited', lastError: 'hub restarted' });
      expect(await s.terminals.get(mine.id)).toMatchObject({ endedAt: null });
      expect(await s.terminals.get(alive.id)).toMatchObject({ endedAt: null });
      expect((await s.messages.get(d1!))!).toMatchObject({ status: 'failed', error: `receiver ${dead.id} died with the previous hub` });
      expect((await s.messages.get(m1!))!.status).toBe('pending');
      expect((await s.messages.get(x1!))!.status).toBe('pending');
      // without isHubAlive every other hub counts as dead
      const r2 = await s.terminals.recover('me', T0 + 600);
      expect(r2.ended.map((e) => e.id)).toEqual([alive.id]);
      expect(await s.terminals.recover('me', T0 + 700)).toEqual({ ended: [], failed: [] });
    });

    it('recover by two hubs at once ends each worker once', async () => {
      const a = await fresh();
      const b = await again(a);
      const ws = [];
      for (let i = 0; i < 20; i++) ws.push(await worker(a, { hubId: 'dead' }));
      for (const w of ws) await send(a, w.id, 2);
      const [ra, rb] = await Promise.all([a.terminals.recover('hub-a', T0), b.terminals.recover('hub-b', T0)]);
      const ended = [...ra.ended, ...rb.ended].map((e) => e.id).sort();
      expect(ended).toEqual(ws.map((w) => w.id).sort());
      expect(ra.failed.length + rb.failed.length).toBe(40);
    });
  });

  describe('messages', () => {
    it('insertBatch stores in order, refusing only the messages to an unknown or ended receiver, with their texts', async () => {
      const s = await fresh();
      const w = await worker(s);
      const e = await worker(s);
      await s.terminals.end(e.id, 'error', T0, undefined, 'x');
      const out = await s.messages.insertBatch(
        [msg(w.id, 'one'), msg('nobody00', 'two'), msg(e.id, 'three'), { senderId: 'hub', receiverId: w.id, body: 'four ✓', kind: 'notice' }],
        T0 + 7,
      );
      expect(out[0]).toMatchObject({
        receiverId: w.id,
        senderId: 'boss',
        body: 'one',
        kind: 'message',
        status: 'pending',
        attempts: 0,
        error: null,
        createdAt: T0 + 7,
        deliveredAt: null,
      });
      expect(out[1]).toBeInstanceOf(CaoError);
      expect(out[1]).toMatchObject({ code: 'receiver_not_found', message: 'receiver nobody00 does not exist' });
      expect(out[2]).toMatchObject({ code: 'receiver_ended', message: `receiver ${e.id} has ended (error)` });
      expect(out[3]).toMatchObject({ body: 'four ✓', kind: 'notice', senderId: 'hub' });
      const [m0, m3] = [out[0], out[3]] as { id: number }[];
      expect(m3!.id).toBeGreaterThan(m0!.id);
      expect(await s.messages.get(m3!.id)).toEqual(out[3]);
      expect(await s.messages.insertBatch([], T0)).toEqual([]);
      expect(await s.messages.list()).toHaveLength(2);
    });

    it('claimNext: oldest pending first, one in flight per receiver, receivers independent', async () => {
      const s = await fresh();
      const a = await worker(s);
      const b = await worker(s);
      const [a1, a2] = await send(s, a.id, 2);
      const [b1] = await send(s, b.id, 1);
      expect(await s.messages.claimNext(a.id)).toMatchObject({ id: a1, status: 'delivering' });
      expect(await s.messages.claimNext(a.id)).toBeNull(); // a1 in flight
      expect(await s.messages.claimNext(b.id)).toMatchObject({ id: b1 });
      expect(await s.messages.markDelivered(a1!, T0 + 3)).toMatchObject({ id: a1, status: 'delivered', deliveredAt: T0 + 3, error: null });
      expect(await s.messages.claimNext(a.id)).toMatchObject({ id: a2 });
      await s.messages.markDelivered(a2!, T0);
      expect(await s.messages.claimNext(a.id)).toBeNull();
      expect(await s.messages.claimNext('nobody00')).toBeNull();
    });

    it("claimNext of a receiver whose id holds quotes and backslashes claims its own mail and nobody else's", async () => {
      const s = await fresh();
      const odd = await worker(s, { id: `o'dd\\' or '1'='1` });
      const other = await worker(s);
      const [o1] = await send(s, odd.id, 1);
      await send(s, other.id, 1);
      const claimed = await s.messages.claimNext(odd.id);
      expect(claimed).toMatchObject({ id: o1, receiverId: odd.id, body: 'm0', status: 'delivering' });
      expect(claimed).toEqual(await s.messages.get(o1!)); // the same row, field for field, as the engine's reads give it
      expect(await s.messages.claimNext(`x' or '1'='1`)).toBeNull();
      expect((await s.messages.list()).filter((m) => m.status === 'delivering').map((m) => m.id)).toEqual([o1]);
    });

    it('markDelivered, requeue, fail move only from the states they name', async () => {
      const s = await fresh();
      const w = await worker(s);
      const [m1, m2] = await send(s, w.id, 2);
      expect(await s.messages.markDelivered(m1!, T0)).toBeNull(); // pending
      expect(await s.messages.requeue(m1!)).toBeNull();
      await s.messages.claimNext(w.id);
      expect(await s.messages.requeue(m1!)).toMatchObject({ id: m1, status: 'pending', attempts: 0 });
      expect((await s.messages.claimNext(w.id))!.id).toBe(m1); // still the oldest
      expect(await s.messages.fail(m1!, 'typed into a dead pty')).toMatchObject({ status: 'failed', error: 'typed into a dead pty' });
      expect(await s.messages.fail(m1!, 'again')).toBeNull();
      expect(await s.messages.fail(m2!, 'pending goes too')).toMatchObject({ status: 'failed', error: 'pending goes too' });
      expect(await s.messages.markDelivered(999_999, T0)).toBeNull();
      const [m3] = await send(s, w.id, 1);
      await s.messages.claimNext(w.id);
      await s.messages.markDelivered(m3!, T0);
      expect(await s.messages.fail(m3!, 'late')).toBeNull();
    });

    it('releaseForRetry: back to pending with attempts+1, then failed with "gave up after N attempts: <error>"', async () => {
      const s = await fresh();
      const w = await worker(s);
      const [m] = await send(s, w.id, 1);
      expect(await s.messages.releaseForRetry(m!, 'busy', 3)).toBeNull(); // not in flight
      await s.messages.claimNext(w.id);
      expect(await s.messages.releaseForRetry(m!, 'busy', 3)).toMatchObject({ status: 'pending', attempts: 1, error: 'busy' });
      await s.messages.claimNext(w.id);
      expect(await s.messages.releaseForRetry(m!, "it's 'quoted'", 3)).toMatchObject({ status: 'pending', attempts: 2, error: "it's 'quoted'" });
      await s.messages.claimNext(w.id);
      expect(await s.messages.releaseForRetry(m!, 'still busy', 3)).toMatchObject({
        status: 'failed',
        attempts: 3,
        error: 'gave up after 3 attempts: still busy',
      });
      const [n] = await send(s, w.id, 1);
      await s.messages.claimNext(w.id);
      expect(await s.messages.releaseForRetry(n!, 'x', 1)).toMatchObject({ status: 'failed', attempts: 1, error: 'gave up after 1 attempts: x' });
    });

    it('failFor fails the receiver’s messages in the given states, by id', async () => {
      const s = await fresh();
      const w = await worker(s);
      const other = await worker(s);
      const [m1, m2, m3] = await send(s, w.id, 3);
      const [o1] = await send(s, other.id, 1);
      await s.messages.claimNext(w.id);
      expect(await s.messages.failFor(w.id, ['delivering'], 'in flight')).toEqual([{ messageId: m1, receiverId: w.id, error: 'in flight' }]);
      expect(await s.messages.failFor(w.id, ['pending', 'delivering'], 'all')).toEqual([
        { messageId: m2, receiverId: w.id, error: 'all' },
        { messageId: m3, receiverId: w.id, error: 'all' },
      ]);
      expect(await s.messages.failFor(w.id, ['pending'], 'none left')).toEqual([]);
      expect((await s.messages.get(o1!))!.status).toBe('pending');
    });

    it('takeForExternal: oldest pending first, up to limit, marked delivered at now; refuses unknown receivers and workers', async () => {
      const s = await fresh();
      await s.terminals.ensureExternal('sup', T0);
      const ids = await send(s, 'sup', 5);
      const first = await s.messages.takeForExternal('sup', 3, T0 + 9);
      expect(first.map((m) => m.id)).toEqual(ids.slice(0, 3));
      expect(first.every((m) => m.status === 'delivered' && m.deliveredAt === T0 + 9)).toBe(true);
      expect((await s.messages.takeForExternal('sup', 50, T0)).map((m) => m.id)).toEqual(ids.slice(3));
      expect(await s.messages.takeForExternal('sup', 50, T0)).toEqual([]);
      await expect(s.messages.takeForExternal('nobody', 5, T0)).rejects.toMatchObject({
        code: 'receiver_not_found',
        message: 'receiver nobody does not exist',
      });
      const w = await worker(s);
      await expect(s.messages.takeForExternal(w.id, 5, T0)).rejects.toMatchObject({
        code: 'not_external',
        message: `${w.id} is a worker terminal: its messages are typed into it, not read from the inbox`,
      });
    });

    it('takeForExternal from two hubs at once hands each message over once', async () => {
      const a = await fresh();
      const b = await again(a);
      await a.terminals.ensureExternal('sup', T0);
      const ids = await send(a, 'sup', 300);
      const got: number[] = [];
      const reader = async (s: Store) => {
        for (let empty = 0; empty < 3;) {
          const rows = await s.messages.takeForExternal('sup', 7, T0);
          if (!rows.length) empty++;
          got.push(...rows.map((r) => r.id));
        }
      };
      await Promise.all([reader(a), reader(b), reader(a), reader(b)]);
      expect(got.length).toBe(ids.length);
      expect([...got].sort((x, y) => x - y)).toEqual(ids);
    });

    it('pendingReceivers, by kind', async () => {
      const s = await fresh();
      const w = await worker(s);
      const idle = await worker(s);
      await s.terminals.ensureExternal('sup', T0);
      await send(s, w.id, 2);
      await send(s, 'sup', 1);
      const [d] = await send(s, idle.id, 1);
      await s.messages.claimNext(idle.id);
      await s.messages.markDelivered(d!, T0);
      expect((await s.messages.pendingReceivers()).sort()).toEqual([w.id, 'sup'].sort());
      expect(await s.messages.pendingReceivers('worker')).toEqual([w.id]);
      expect(await s.messages.pendingReceivers('external')).toEqual(['sup']);
    });

    it('list filters and pages; countPending and countUndelivered', async () => {
      const s = await fresh();
      const w = await worker(s);
      const v = await worker(s);
      const ids = await send(s, w.id, 5);
      await s.messages.insertBatch([msg(v.id, 'x', 'alice'), msg(w.id, 'y', 'alice')], T0);
      await s.messages.claimNext(w.id); // ids[0] delivering
      await s.messages.fail(ids[1]!, 'no');
      expect((await s.messages.list({ receiverId: w.id })).map((m) => m.id)).toEqual([...ids, ids[4]! + 2]);
      expect((await s.messages.list({ senderId: 'alice' })).map((m) => m.receiverId)).toEqual([v.id, w.id]);
      expect((await s.messages.list({ status: 'delivering' })).map((m) => m.id)).toEqual([ids[0]]);
      expect((await s.messages.list({ status: ['failed', 'delivering'] })).map((m) => m.id)).toEqual([ids[0], ids[1]]);
      expect((await s.messages.list({ receiverId: w.id, afterId: ids[2], limit: 2 })).map((m) => m.id)).toEqual([ids[3], ids[4]]);
      expect((await s.messages.list({ order: 'desc', limit: 2 })).map((m) => m.body)).toEqual(['y', 'x']);
      expect(await s.messages.countPending(w.id)).toBe(4);
      expect(await s.messages.countUndelivered(w.id)).toBe(5);
      expect(await s.messages.countPending('nobody00')).toBe(0);
    });

    it('two hubs claiming one receiver 200 times at once: each message once, in order, never two in flight', async () => {
      const a = await fresh();
      const b = await again(a);
      const w = await worker(a);
      const ids = await send(a, w.id, 200);
      const claimed: number[] = [];
      let inFlight = 0;
      let maxInFlight = 0;
      const hub = async (s: Store) => {
        while (claimed.length < ids.length) {
          const m = await s.messages.claimNext(w.id);
          if (!m) {
            await sleep(0);
            continue;
          }
          maxInFlight = Math.max(maxInFlight, ++inFlight);
          claimed.push(m.id);
          inFlight--;
          expect(await s.messages.markDelivered(m.id, T0)).not.toBeNull();
        }
      };
      await Promise.all([hub(a), hub(b), hub(a), hub(b)]);
      expect(claimed).toEqual(ids);
      expect(maxInFlight).toBe(1);
      expect(await a.messages.countUndelivered(w.id)).toBe(0);
    });

    it('insertBatch racing end on another hub: never a pending message on an ended receiver', async () => {
      const a = await fresh();
      const b = await again(a);
      let stored = 0;
      let refused = 0;
      for (let round = 0; round < 40; round++) {
        const w = await worker(a);
        const batches = [0, 1, 2].map((i) => a.messages.insertBatch([msg(w.id, `x${i}`), msg(w.id, `y${i}`)], T0));
        await sleep(round % 3);
        const ended = b.terminals.end(w.id, 'exited', T0, undefined, 'ended meanwhile');
        for (const r of (await Promise.all(batches)).flat())
          if (r instanceof CaoError) refused++;
          else stored++;
        expect(await ended).not.toBeNull();
        expect(await a.messages.countPending(w.id)).toBe(0);
        for (const m of await a.messages.list({ receiverId: w.id })) expect(m).toMatchObject({ status: 'failed', error: 'ended meanwhile' });
      }
      expect(stored + refused).toBe(40 * 6);
    });
    it('batches to many receivers racing a recovery on another hub: no deadlock, no pending mail on an ended receiver', async () => {
      const a = await fresh();
      const b = await again(a);
      for (let round = 0; round < 5; round++) {
        const ws = [];
        for (let i = 0; i < 8; i++) ws.push(await worker(a, { hubId: 'dead' }));
        const ids = ws.map((w) => w.id);
        const batches = Array.from({ length: 6 }, (_, i) =>
          a.messages.insertBatch(
            [...ids].sort(() => (i % 2 ? 1 : -1)).map((id) => msg(id, `b${i}`)),
            T0,
          ),
        );
        await sleep(round);
        const recovered = await b.terminals.recover('hub-b', T0);
        await Promise.all(batches);
        expect(recovered.ended.map((e) => e.id).sort()).toEqual([...ids].sort());
        for (const id of ids) expect(await a.messages.countPending(id)).toBe(0);
      }
    });
  });

  describe('worktrees', () => {
    it('insert, get, list newest first by state, update a patch', async () => {
      const s = await fresh();
      const base = { repoRoot: '/r', branch: 'b', baseCommit: 'c0ffee' };
      await s.worktrees.insert({ terminalId: 'aaaa0003', path: '/r/a', createdAt: T0 + 1, ...base });
      await s.worktrees.insert({ terminalId: 'bbbb0003', path: '/r/b', createdAt: T0 + 2, ...base });
      expect(await s.worktrees.get('aaaa0003')).toEqual({
        terminalId: 'aaaa0003',
        path: '/r/a',
        createdAt: T0 + 1,
        ...base,
        state: 'active',
        endedAt: null,
        filesChanged: null,
        insertions: null,
        deletions: null,
        commits: null,
        uncommittedFiles: null,
      });
      expect(await s.worktrees.get('nope')).toBeUndefined();
      expect((await s.worktrees.list(['active'])).map((w) => w.terminalId)).toEqual(['bbbb0003', 'aaaa0003']);
      const kept = { state: 'kept', endedAt: T0 + 9, filesChanged: 2, insertions: 10, deletions: 1, commits: 1, uncommittedFiles: 0 } as const;
      await s.worktrees.update('aaaa0003', kept);
      await s.worktrees.update('bbbb0003', { state: 'removed' });
      await s.worktrees.update('bbbb0003', {});
      expect(await s.worktrees.get('aaaa0003')).toMatchObject(kept);
      expect((await s.worktrees.list(['active', 'kept'])).map((w) => w.terminalId)).toEqual(['aaaa0003']);
      expect((await s.worktrees.list(['removed']))[0]).toMatchObject({ terminalId: 'bbbb0003', endedAt: null });
      expect(await s.worktrees.list([])).toEqual([]);
    });
  });

  describe('journal', () => {
    const row = (type: string, over: Partial<NewJournalRow> = {}): NewJournalRow => ({
      at: T0,
      type,
      runId: null,
      terminalId: null,
      callerId: null,
      detail: '{}',
      ...over,
    });

    it('append writes a batch; terminal.taken gives its run to the terminal’s earlier rows that had none', async () => {
      const s = await fresh();
      await s.journal.append([
        row('terminal.created', { terminalId: 'spare001', at: T0 + 1 }),
        row('status.changed', { terminalId: 'spare001', at: T0 + 2, detail: '{"status":"idle"}' }),
        row('status.changed', { terminalId: 'spare002', at: T0 + 2 }),
        row('hub.started', { at: T0 + 2 }),
      ]);
      await s.journal.append([row('status.changed', { terminalId: 'spare001', runId: 'old-run', at: T0 + 3 })]);
      await s.journal.append([
        row('status.changed', { terminalId: 'spare001', at: T0 + 4 }),
        row('terminal.taken', { terminalId: 'spare001', runId: 'run-1', callerId: 'sup', at: T0 + 5 }),
      ]);
      await s.journal.append([]);
      const all = await s.journal.rowsOfRun('run-1');
      expect(all.map((r) => [r.type, r.at])).toEqual([
        ['terminal.created', T0 + 1],
        ['status.changed', T0 + 2],
        ['status.changed', T0 + 4],
        ['terminal.taken', T0 + 5],
      ]);
      expect(all[1]).toMatchObject({ terminalId: 'spare001', detail: '{"status":"idle"}', callerId: null });
      expect(typeof all[0]!.id).toBe('number');
      expect((await s.journal.rowsOfRun('old-run')).length).toBe(1);
      expect(await s.journal.runSpan('run-1')).toEqual({ first: T0 + 1, last: T0 + 5, n: 4 });
      expect(await s.journal.runSpan('nothing')).toEqual({ first: null, last: null, n: 0 });
      expect((await s.journal.rowsOfRun('run-1', { types: ['terminal.taken', 'terminal.created'] })).map((r) => r.type)).toEqual([
        'terminal.created',
        'terminal.taken',
      ]);
      expect((await s.journal.rowsOfRun('run-1', { limit: 2 })).map((r) => r.at)).toEqual([T0 + 1, T0 + 2]);
    });

    it('append of a large batch', async () => {
      const s = await fresh();
      await s.journal.append(Array.from({ length: 12_000 }, (_, i) => row('input.submitted', { runId: 'big', at: T0 + i })));
      expect(await s.journal.runSpan('big')).toEqual({ first: T0, last: T0 + 11_999, n: 12_000 });
    });

    it('messageFacts: kind, UTF-8 byte size of the body, sender', async () => {
      const s = await fresh();
      const w = await worker(s);
      const body = 'héllo wörld 🎉 — ok';
      const [m] = (await s.messages.insertBatch([{ senderId: 'alice', receiverId: w.id, body, kind: 'task' }], T0)) as { id: number }[];
      expect(await s.journal.messageFacts(m!.id)).toEqual({ kind: 'task', bytes: Buffer.byteLength(body, 'utf8'), senderId: 'alice' });
      expect(await s.journal.messageFacts(987_654)).toBeUndefined();
    });

    it('recentRuns newest first by each run’s first row; terminalsOfRun; runLive', async () => {
      const s = await fresh();
      await s.journal.append([row('a', { runId: 'r1' }), row('a', { runId: 'r2' }), row('a')]);
      await s.journal.append([row('b', { runId: 'r1' }), row('a', { runId: 'r3' })]);
      expect(await s.journal.recentRuns(10)).toEqual(['r3', 'r2', 'r1']);
      expect(await s.journal.recentRuns(2)).toEqual(['r3', 'r2']);
      const late = await worker(s, { runId: 'r1', createdAt: T0 + 50 });
      const early = await worker(s, { runId: 'r1', createdAt: T0 + 10 });
      await worker(s, { runId: 'r2' });
      expect((await s.journal.terminalsOfRun('r1')).map((t) => t.id)).toEqual([early.id, late.id]);
      expect(await s.journal.terminalsOfRun('none')).toEqual([]);
      expect(await s.journal.runLive('r1')).toBe(true);
      await s.terminals.end(early.id, 'exited', T0, undefined, 'x');
      expect(await s.journal.runLive('r1')).toBe(true);
      await s.terminals.end(late.id, 'exited', T0, undefined, 'x');
      expect(await s.journal.runLive('r1')).toBe(false);
      expect(await s.journal.runLive('r3')).toBe(false);
    });

    it('resolveRun: a run id, a terminal, a supervisor’s last run, the last run a gone terminal was seen in, else null', async () => {
      const s = await fresh();
      await s.journal.append([
        row('handoff.started', { runId: 'run-a', terminalId: 'aaaa0004', callerId: 'sup' }),
        row('assign.started', { runId: 'run-b', terminalId: 'bbbb0004', callerId: 'sup' }),
        row('message.queued', { runId: 'run-c', terminalId: 'sup', callerId: 'cccc0004' }),
        row('status.changed', { runId: 'run-a', terminalId: 'gone0004' }),
        row('status.changed', { runId: 'run-b', terminalId: 'gone0004' }),
        row('status.changed', { terminalId: 'norun004' }),
      ]);
      await worker(s, { id: 'dddd0004', runId: 'run-d' });
      await worker(s, { id: 'eeee0004', runId: null });
      expect(await s.journal.resolveRun('run-a')).toBe('run-a');
      expect(await s.journal.resolveRun('run-d')).toBe('run-d'); // only in terminals
      expect(await s.journal.resolveRun('dddd0004')).toBe('run-d');
      expect(await s.journal.resolveRun('sup')).toBe('run-b'); // the last it started, not the last it was seen in
      expect(await s.journal.resolveRun('gone0004')).toBe('run-b');
      expect(await s.journal.resolveRun('eeee0004')).toBeNull();
      expect(await s.journal.resolveRun('norun004')).toBeNull();
      expect(await s.journal.resolveRun('unknown')).toBeNull();
    });

    it('delegationRows: the handoff/assign started and ended rows of these terminals, by id', async () => {
      const s = await fresh();
      await s.journal.append([
        row('handoff.started', { terminalId: 'aaaa0005', callerId: 'sup', at: T0 + 1 }),
        row('status.changed', { terminalId: 'aaaa0005', at: T0 + 2 }),
        row('assign.started', { terminalId: 'bbbb0005', callerId: 'sup', at: T0 + 3 }),
        row('handoff.ended', { terminalId: 'aaaa0005', callerId: 'sup', at: T0 + 4 }),
        row('assign.ended', { terminalId: 'cccc0005', callerId: 'sup', at: T0 + 5 }),
      ]);
      expect(await s.journal.delegationRows(['aaaa0005', 'bbbb0005'])).toEqual([
        { type: 'handoff.started', terminalId: 'aaaa0005', callerId: 'sup', at: T0 + 1 },
        { type: 'assign.started', terminalId: 'bbbb0005', callerId: 'sup', at: T0 + 3 },
        { type: 'handoff.ended', terminalId: 'aaaa0005', callerId: 'sup', at: T0 + 4 },
      ]);
      expect(await s.journal.delegationRows([])).toEqual([]);
    });

    it('applyRetention: old rows go, then the oldest runs whole, never a live run nor a live worker outside any run', async () => {
      const s = await fresh();
      const DAY = 86_400_000;
      const now = T0 + 100 * DAY;
      const live = await worker(s, { runId: 'live-run' });
      const spare = await worker(s, { runId: null });
      await s.journal.append([
        row('old', { runId: 'old-run', at: T0 }),
        row('old', { runId: 'live-run', terminalId: live.id, at: T0 }),
        row('old', { terminalId: spare.id, at: T0 }),
        row('old', { at: T0 }),
        row('new', { runId: 'old-run', at: now }),
      ]);
      expect(await s.journal.applyRetention({ maxAgeMs: 30 * DAY, maxRows: 1000 }, now)).toEqual({ byAge: 2, bySize: 0 });
      expect((await s.journal.rowsOfRun('old-run')).map((r) => r.type)).toEqual(['new']);
      expect(await s.journal.runSpan('live-run')).toMatchObject({ n: 1 });

      // by size: oldest units first (a run whole, a row outside runs alone), until enough rows went
      await s.journal.append([
        row('a', { runId: 'r1', at: now }),
        row('hub.started', { at: now }),
        row('a', { runId: 'r2', at: now }),
        row('a', { runId: 'r1', at: now }),
        row('a', { runId: 'live-run', at: now }),
        row('a', { runId: 'r3', at: now }),
        row('a', { runId: 'r3', at: now }),
      ]);
      // rows now: old-run 1, live-run 2, spare 1, r1 2, hub 1, r2 1, r3 2 = 10; keep 5 → 5 must go:
      // oldest deletable units: old-run (1), r1 (2), hub row (1), r2 (1) = 5
      expect(await s.journal.applyRetention({ maxAgeMs: 1000 * DAY, maxRows: 5 }, now)).toEqual({ byAge: 0, bySize: 5 });
      expect(await s.journal.recentRuns(10)).toEqual(['r3', 'live-run']);
      expect(await s.journal.runSpan('live-run')).toMatchObject({ n: 2 });
      // never live rows, even when the size cannot be reached
      expect(await s.journal.applyRetention({ maxAgeMs: 1000 * DAY, maxRows: 1 }, now)).toEqual({ byAge: 0, bySize: 2 });
      expect(await s.journal.recentRuns(10)).toEqual(['live-run']);
      expect(await s.journal.runSpan('live-run')).toMatchObject({ n: 2 });
      // once the run ends, its rows can go
      await s.terminals.end(live.id, 'exited', now, undefined, 'x');
      await s.terminals.end(spare.id, 'exited', now, undefined, 'x');
      expect(await s.journal.applyRetention({ maxAgeMs: 1, maxRows: 1000 }, now + 10)).toEqual({ byAge: 3, bySize: 0 });
    });
  });
});
