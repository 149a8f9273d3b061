// The SQLite engine behind the async store (src/store/sqlite/) and what sits above it: a closed store rejects and
// says so, the journal's batches stay in order across flushes and stop at a closed store, the registry announces
// the mail the store failed when a terminal ended.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createBus, type BusEvents } from '../src/bus/bus.js';
import { MessageQueue } from '../src/inbox/messages.js';
import { Journal } from '../src/journal/journal.js';
import { TerminalRegistry } from '../src/registry/terminals.js';
import { openStore } from '../src/store/open.js';
import { openSqliteStore, type SqliteStore } from '../src/store/sqlite/index.js';

let dir: string;
let store: SqliteStore;

beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'cao-store-'));
  store = openSqliteStore(path.join(dir, 'cao.db'));
});
afterEach(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

const worker = (id: string) => ({ id, kind: 'worker' as const, status: 'idle' as const, createdAt: Date.now(), hubId: 'h1' });

describe('the SQLite store', () => {
  it('openStore opens the SQLite file; close is idempotent and every call after it rejects', async () => {
    const s = await openStore({ dbFile: path.join(dir, 'other.db'), env: {} });
    expect(s.engine).toBe('sqlite');
    expect(s.where).toBe(path.join(dir, 'other.db'));
    expect(s.isOpen()).toBe(true);
    expect(await s.terminals.insert(worker('aaaaaaaa'))).toMatchObject({ id: 'aaaaaaaa' });
    expect(await s.terminals.insert(worker('aaaaaaaa'))).toBeNull(); // the id is taken: nothing written
    await s.close();
    await s.close();
    expect(s.isOpen()).toBe(false);
    await expect(s.terminals.get('aaaaaaaa')).rejects.toThrow(/not open/);
    await expect(s.messages.claimNext('aaaaaaaa')).rejects.toThrow();
    await expect(s.journal.append([{ at: 1, type: 'hub.started', detail: '{}' }])).rejects.toThrow();
  });

  it('end fails the pending mail of a worker in the same transaction, not the message being typed, and returns it', async () => {
    await store.terminals.insert(worker('aaaaaaaa'));
    await store.terminals.ensureExternal('boss', Date.now());
    const now = Date.now();
    const [m1, m2, m3] = (await store.messages.insertBatch(
      ['one', 'two', 'three'].map((body) => ({ senderId: 'boss', receiverId: 'aaaaaaaa', body, kind: 'message' as const })),
      now,
    )) as { id: number }[];
    expect((await store.messages.claimNext('aaaaaaaa'))?.id).toBe(m1!.id);
    const r = await store.terminals.end('aaaaaaaa', 'exited', now, 'stopped', 'receiver gone');
    expect(r?.row).toMatchObject({ status: 'exited', lastError: 'stopped', endedAt: now });
    expect(r?.failed).toEqual([
      { messageId: m2!.id, receiverId: 'aaaaaaaa', error: 'receiver gone' },
      { messageId: m3!.id, receiverId: 'aaaaaaaa', error: 'receiver gone' },
    ]);
    expect((await store.messages.get(m1!.id))?.status).toBe('delivering');
    expect(await store.terminals.end('aaaaaaaa', 'exited', now, undefined, 'x')).toBeNull();
    // an external supervisor's mail stays readable when it ends
    await store.messages.insertBatch([{ senderId: 'aaaaaaaa', receiverId: 'boss', body: 'hi', kind: 'message' }], now);
    expect((await store.terminals.end('boss', 'exited', now, undefined, 'x'))?.failed).toEqual([]);
    expect(await store.messages.countPending('boss')).toBe(1);
  });

  it('the registry announces the mail the store failed, after the terminal ended', async () => {
    const bus = createBus();
    const seen: string[] = [];
    bus.on('terminal:removed', (e) => seen.push(`removed ${e.terminalId}`));
    bus.on('message:state', (e: BusEvents['message:state']) => seen.push(`${e.state} ${e.messageId} ${e.error ?? ''}`));
    const registry = new TerminalRegistry(store, bus);
    const inbox = new MessageQueue(registry);
    await registry.registerTerminal({ id: 'aaaaaaaa', status: 'idle' });
    await registry.ensureExternal('boss');
    const m = await inbox.enqueue('boss', 'aaaaaaaa', 'hello');
    seen.length = 0;
    await registry.endTerminal('aaaaaaaa', 'exited', 'done');
    expect(seen).toEqual(['removed aaaaaaaa', `failed ${m.id} receiver aaaaaaaa ended (exited): done`]);
    expect(registry.cached('aaaaaaaa')).toMatchObject({ status: 'exited', lastError: 'done' });
  });
});

describe('the journal over the store', () => {
  it('flushes are chained: batches are written in order however the flushes overlap; close waits for the last', async () => {
    const bus = createBus();
    const j = new Journal(store, bus, { maxBatch: 10, flushMs: 10_000 });
    const flushes: Promise<void>[] = [];
    for (let i = 0; i < 50; i++) {
      bus.emit('input', { terminalId: 'aaaaaaaa', bytes: i + 1, kind: 'paste' });
      if (i % 7 === 0) flushes.push(j.flush());
    }
    const closing = j.close();
    await Promise.all([...flushes, closing]);
    expect(j.stats).toMatchObject({ rows: 50, dropped: 0 });
    const all = store.cao.sqlite.prepare(`select detail from journal order by id`).all() as { detail: string }[];
    expect(all.map((r) => (JSON.parse(r.detail) as { bytes: number }).bytes)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
  });

  it('writes nothing once the store is closed: what is left is dropped, and no call rejects', async () => {
    const bus = createBus();
    const j = new Journal(store, bus, { flushMs: 10_000 });
    bus.emit('hub:started', { hubId: 'h1', pid: 1, mode: 'serve', version: '0' });
    await store.close();
    await expect(j.flush()).resolves.toBeUndefined();
    expect(j.stats).toMatchObject({ rows: 0, dropped: 1, batches: 0 });
    await expect(j.close()).resolves.toBeUndefined();
    await expect(j.startRetention({ maxAgeMs: 1, maxRows: 1 })).resolves.toBeUndefined();
  });
});
