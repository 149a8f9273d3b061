import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createBus, type Bus, type BusEvents } from '../src/bus/bus.js';
import { migrationsFolder, openDatabase, type CaoDb } from '../src/db/db.js';
import { CaoError } from '../src/util/errors.js';
import { MessageQueue, MAX_MESSAGE_BYTES } from '../src/inbox/messages.js';
import { TerminalRegistry } from '../src/registry/terminals.js';
import { sqliteStoreOf } from '../src/store/sqlite/index.js';

/** The inbox on a registry, as the hub builds them (registry/terminals.ts, inbox/messages.ts). */
const newInbox = (cao: CaoDb, bus?: Bus) => new MessageQueue(new TerminalRegistry(sqliteStoreOf(cao), bus));

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

let dir: string;
const opened: CaoDb[] = [];
function open(file = path.join(dir, 'cao.db')): CaoDb {
  const db = openDatabase(file);
  opened.push(db);
  return db;
}
function mode(p: string): number {
  return statSync(p).mode & 0o777;
}
/** Records every bus event, in order. */
function recorder(bus: Bus) {
  const events: { type: string; e: unknown }[] = [];
  bus.on('*', (type, e) => events.push({ type: String(type), e }));
  return events;
}
async function expectCaoError(fn: () => unknown, code: string, text: RegExp): Promise<void> {
  let thrown: unknown;
  try {
    await fn();
  } catch (err) {
    thrown = err;
  }
  expect(thrown).toBeInstanceOf(CaoError);
  expect((thrown as CaoError).code).toBe(code);
  expect((thrown as CaoError).message).toMatch(text);
}

beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'cao-inbox-store-'));
});
afterEach(() => {
  for (const db of opened.splice(0)) db.close();
  rmSync(dir, { recursive: true, force: true });
});

/** A worker row with sensible defaults. */
async function worker(store: MessageQueue, id: string, extra: Partial<Parameters<TerminalRegistry['registerTerminal']>[0]> = {}) {
  return await store.registry.registerTerminal({
    id,
    provider: 'claude_code',
    profile: 'developer',
    hubId: 'hub-1',
    pid: 4242,
    status: 'idle',
    ...extra,
  });
}

describe('openDatabase', () => {
  it('creates a private directory and file, WAL mode, pragmas and the migrated schema', async () => {
    const file = path.join(dir, 'nested', 'home', 'cao.db');
    const cao = open(file);
    expect(mode(path.dirname(file))).toBe(0o700);
    expect(mode(file)).toBe(0o600);
    expect(cao.sqlite.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(cao.sqlite.pragma('foreign_keys', { simple: true })).toBe(1);
    expect(cao.sqlite.pragma('synchronous', { simple: true })).toBe(1); // NORMAL
    expect(cao.sqlite.pragma('busy_timeout', { simple: true })).toBeGreaterThanOrEqual(1000);

    // A write makes the WAL and shared-memory files exist: they must be private too.
    const store = newInbox(cao);
    await worker(store, 'aaaaaaaa');
    expect(existsSync(`${file}-wal`)).toBe(true);
    expect(mode(`${file}-wal`)).toBe(0o600);
    expect(mode(`${file}-shm`)).toBe(0o600);

    const names = (cao.sqlite.prepare(`select name from sqlite_master`).all() as { name: string }[]).map((r) => r.name);
    expect(names).toEqual(expect.arrayContaining(['terminals', 'messages', 'messages_receiver_status_id_idx', 'messages_pending_receiver_idx']));
    const cols = (cao.sqlite.prepare(`pragma table_info(messages)`).all() as { name: string }[]).map((c) => c.name);
    expect(cols).toEqual(['id', 'sender_id', 'receiver_id', 'body', 'status', 'attempts', 'error', 'created_at', 'delivered_at', 'kind']);
    const tcols = (cao.sqlite.prepare(`pragma table_info(terminals)`).all() as { name: string }[]).map((c) => c.name);
    expect(tcols).toEqual([
      'id',
      'kind',
      'provider',
      'profile',
      'creator_id',
      'working_directory',
      'pid',
      'hub_id',
      'status',
      'created_at',
      'ended_at',
      'last_error',
      'run_id',
      'question',
    ]);
    // CHECK constraints guard the enums even against raw SQL.
    expect(() => cao.sqlite.prepare(`insert into terminals (id, kind, status, created_at) values ('x', 'robot', 'idle', 1)`).run()).toThrow(/CHECK/);
  });

  it('applies migrations once, keeps data across reopen, and does not chmod a directory it did not create', async () => {
    const shared = path.join(dir, 'shared');
    mkdirSync(shared, { mode: 0o755 });
    const file = path.join(shared, 'cao.db');
    const first = open(file);
    await worker(newInbox(first), 'bbbbbbbb');
    first.close();
    expect(mode(shared)).toBe(0o755);
    expect(mode(file)).toBe(0o600);

    const again = open(file);
    const applied = again.sqlite.prepare(`select count(*) as n from __drizzle_migrations`).get() as { n: number };
    const files = readdirSync(migrationsFolder()).filter((f) => f.endsWith('.sql'));
    expect(files.length).toBeGreaterThan(0);
    expect(applied.n).toBe(files.length);
    expect((await newInbox(again).registry.getTerminal('bbbbbbbb'))?.provider).toBe('claude_code');
  });

  it('defaults to $CAO_HOME/cao.db', async () => {
    const before = process.env.CAO_HOME;
    process.env.CAO_HOME = path.join(dir, 'home');
    try {
      const cao = openDatabase();
      opened.push(cao);
      expect(cao.file).toBe(path.join(dir, 'home', 'cao.db'));
      expect(mode(path.join(dir, 'home'))).toBe(0o700);
      expect(mode(cao.file)).toBe(0o600);
    } finally {
      if (before === undefined) delete process.env.CAO_HOME;
      else process.env.CAO_HOME = before;
    }
  });

  it('survives several processes opening (and migrating) a fresh file at the same moment', async () => {
    const file = path.join(dir, 'race', 'cao.db');
    const dbUrl = pathToFileURL(path.join(repoRoot, 'src', 'db', 'db.ts')).href;
    const code = `
      const { openDatabase } = await import(${JSON.stringify(dbUrl)});
      const db = openDatabase(${JSON.stringify(file)});
      db.sqlite.prepare('select count(*) from messages').get();
      db.close();
    `;
    const results = await Promise.all(Array.from({ length: 6 }, () => runTsx(code)));
    for (const r of results) expect(r, r.stderr).toMatchObject({ code: 0 });
    const cao = open(file);
    const applied = cao.sqlite.prepare(`select count(*) as n from __drizzle_migrations`).get() as { n: number };
    expect(applied.n).toBe(readdirSync(migrationsFolder()).filter((f) => f.endsWith('.sql')).length);
  }, 60_000);
});

describe('terminals', () => {
  it('registers workers and external supervisors, validates ids, ends them', async () => {
    const bus = createBus();
    const events = recorder(bus);
    const store = newInbox(open(), bus);
    const w = await worker(store, '0123abcd', { creatorId: 'boss', workingDirectory: '/srv/x', status: 'starting' });
    expect(w).toMatchObject({ id: '0123abcd', kind: 'worker', creatorId: 'boss', pid: 4242, hubId: 'hub-1', status: 'starting', endedAt: null });
    expect(typeof w.createdAt).toBe('number');

    await expectCaoError(() => worker(store, '0123abcd'), 'terminal_exists', /already exists/);
    await expectCaoError(() => worker(store, '0123ABCD'), 'invalid_terminal_id', /8 lowercase hex/);
    await expectCaoError(() => worker(store, 'abc'), 'invalid_terminal_id', /8 lowercase hex/);

    const boss = await store.registry.ensureExternal('boss');
    expect(boss).toMatchObject({ id: 'boss', kind: 'external', creatorId: null, pid: null, endedAt: null });
    expect((await store.registry.ensureExternal('boss')).createdAt).toBe(boss.createdAt); // idempotent
    await expectCaoError(() => store.registry.ensureExternal('0123abcd'), 'invalid_terminal_id', /not look like a worker id/);
    await expectCaoError(() => store.registry.ensureExternal('has space'), 'invalid_terminal_id', /1-64 characters/);
    await expectCaoError(() => store.registry.ensureExternal(''), 'invalid_terminal_id', /1-64 characters/);

    expect(await store.registry.updateTerminalStatus('0123abcd', 'processing')).toBe(true);
    expect(await store.registry.updateTerminalStatus('0123abcd', 'error', 'rate limited')).toBe(true);
    expect(await store.registry.getTerminal('0123abcd')).toMatchObject({ status: 'error', lastError: 'rate limited' });
    expect((await store.registry.listTerminals()).map((t) => t.id)).toEqual(['0123abcd', 'boss']);
    expect((await store.registry.listTerminals({ kind: 'external' })).map((t) => t.id)).toEqual(['boss']);

    const ended = await store.registry.endTerminal('0123abcd', 'exited', 'stopped by supervisor');
    expect(ended).toMatchObject({ status: 'exited', lastError: 'stopped by supervisor' });
    expect(ended?.endedAt).toBeTypeOf('number');
    expect(await store.registry.endTerminal('0123abcd', 'exited')).toBeNull(); // already ended
    expect(await store.registry.updateTerminalStatus('0123abcd', 'idle')).toBe(false); // ended rows stay as they ended
    expect((await store.registry.listTerminals()).map((t) => t.id)).toEqual(['boss']);
    expect((await store.registry.listTerminals({ includeEnded: true })).map((t) => t.id)).toEqual(['0123abcd', 'boss']);
    expect(await store.registry.getTerminal('nope')).toBeUndefined();

    expect(events.filter((e) => e.type.startsWith('terminal:'))).toEqual([
      { type: 'terminal:created', e: { terminalId: '0123abcd' } },
      { type: 'terminal:created', e: { terminalId: 'boss' } },
      { type: 'terminal:removed', e: { terminalId: '0123abcd' } },
    ]);
  });

  it('ending a worker fails its pending mail (not the one being typed); an external row is reopened by ensureExternal', async () => {
    const store = newInbox(open());
    await worker(store, 'aaaaaaaa');
    await store.registry.ensureExternal('boss');
    const m1 = await store.enqueue('boss', 'aaaaaaaa', 'one');
    const m2 = await store.enqueue('boss', 'aaaaaaaa', 'two');
    expect((await store.claimNext('aaaaaaaa'))?.id).toBe(m1.id);
    await store.registry.endTerminal('aaaaaaaa', 'exited', 'user closed it');
    expect((await store.getMessage(m1.id))?.status).toBe('delivering');
    expect(await store.getMessage(m2.id)).toMatchObject({ status: 'failed', error: 'receiver aaaaaaaa ended (exited): user closed it' });

    await store.enqueue('aaaaaaaa', 'boss', 'for the boss');
    await store.registry.endTerminal('boss', 'exited');
    expect(await store.countPending('boss')).toBe(1); // external mail stays readable
    expect((await store.registry.ensureExternal('boss')).endedAt).toBeNull();
    await expectCaoError(() => store.registry.ensureExternal('aaaaaaaa'), 'invalid_terminal_id', /worker id/);
  });
});

describe('enqueue validation', () => {
  it('refuses bad input with a typed error and writes nothing', async () => {
    const bus = createBus();
    const events = recorder(bus);
    const cao = open();
    const store = newInbox(cao, bus);
    await worker(store, 'aaaaaaaa');
    await worker(store, 'eeeeeeee');
    await store.registry.endTerminal('eeeeeeee', 'exited');
    events.length = 0;

    const cases: [() => unknown, string, RegExp][] = [
      [() => store.enqueue('', 'aaaaaaaa', 'hi'), 'invalid_sender', /sender id is empty/],
      [() => store.enqueue('aaaaaaaa', 'aaaaaaaa', 'hi'), 'self_send', /cannot send a message to itself/],
      [() => store.enqueue('boss', 'aaaaaaaa', ''), 'empty_body', /empty/],
      [() => store.enqueue('boss', 'aaaaaaaa', ' \n\t  '), 'empty_body', /empty/],
      [
        () => store.enqueue('boss', 'aaaaaaaa', 'é'.repeat(MAX_MESSAGE_BYTES / 2 + 1)), // 2 bytes each
        'body_too_large',
        new RegExp(`${MAX_MESSAGE_BYTES + 2} bytes; the limit is ${MAX_MESSAGE_BYTES} bytes \\(64 KiB\\)`),
      ],
      [() => store.enqueue('boss', 'ffffffff', 'hi'), 'receiver_not_found', /receiver ffffffff does not exist/],
      [() => store.enqueue('boss', 'eeeeeeee', 'hi'), 'receiver_ended', /receiver eeeeeeee has ended \(exited\)/],
    ];
    for (const [fn, code, text] of cases) await expectCaoError(fn, code, text);

    const n = cao.sqlite.prepare('select count(*) as n from messages').get() as { n: number };
    expect(n.n).toBe(0);
    expect(events).toEqual([]);
    expect(MAX_MESSAGE_BYTES).toBe(65536);
    // Exactly at the limit is fine.
    expect((await store.enqueue('boss', 'aaaaaaaa', 'x'.repeat(MAX_MESSAGE_BYTES))).status).toBe('pending');
  });

  it('stores the body as given and announces it', async () => {
    const bus = createBus();
    const events = recorder(bus);
    const store = newInbox(open(), bus);
    await worker(store, 'aaaaaaaa');
    events.length = 0;
    const body = 'line one\nline two \x1b[201~ still data';
    const m = await store.enqueue('boss', 'aaaaaaaa', body);
    expect(m).toMatchObject({ senderId: 'boss', receiverId: 'aaaaaaaa', body, status: 'pending', attempts: 0, error: null, deliveredAt: null });
    expect(events).toEqual([
      { type: 'message:queued', e: { messageId: m.id, senderId: 'boss', receiverId: 'aaaaaaaa', kind: 'message', bytes: Buffer.byteLength(body) } },
      { type: 'message:state', e: { messageId: m.id, receiverId: 'aaaaaaaa', state: 'pending' } },
    ]);
  });

  it('a subscriber that throws does not turn a stored message into an error', async () => {
    const bus = createBus();
    bus.on('message:queued', () => {
      throw new Error('bad subscriber');
    });
    const store = newInbox(open(), bus);
    await worker(store, 'aaaaaaaa');
    const write = process.stderr.write;
    process.stderr.write = (() => true) as typeof process.stderr.write;
    try {
      expect((await store.enqueue('boss', 'aaaaaaaa', 'hi')).status).toBe('pending');
    } finally {
      process.stderr.write = write;
    }
    expect(await store.countPending('aaaaaaaa')).toBe(1);
  });
});

describe('enqueueSoon (group commit)', () => {
  it('stores the sends of one event-loop turn in one transaction, in order, and answers only after the commit', async () => {
    const bus = createBus();
    const events = recorder(bus);
    const cao = open();
    const store = newInbox(cao, bus);
    await worker(store, 'aaaaaaaa');
    await worker(store, 'bbbbbbbb');
    events.length = 0;
    const count = () => (cao.sqlite.prepare('select count(*) as n from messages').get() as { n: number }).n;
    // Count transactions by the WAL's commit frames: one group commit = one commit.
    const commits = () => (cao.sqlite.pragma('wal_checkpoint(PASSIVE)') as { log: number }[])[0]!.log;
    cao.sqlite.pragma('wal_autocheckpoint = 0');
    cao.sqlite.pragma('wal_checkpoint(TRUNCATE)');

    const sends = Array.from({ length: 50 }, (_, i) => store.enqueueSoon('boss', i % 2 ? 'bbbbbbbb' : 'aaaaaaaa', `m${i}`));
    expect(count()).toBe(0); // nothing is written (nor acknowledged) before the turn ends
    expect(events).toEqual([]);
    const rows = await Promise.all(sends);
    expect(count()).toBe(50);
    expect(rows.map((r) => r.body)).toEqual(Array.from({ length: 50 }, (_, i) => `m${i}`));
    expect(rows.map((r) => r.id)).toEqual([...rows.map((r) => r.id)].sort((a, b) => a - b));
    const framesForBatch = commits();
    // The same 50 messages one transaction each write many more WAL frames.
    cao.sqlite.pragma('wal_checkpoint(TRUNCATE)');
    for (let i = 0; i < 50; i++) await store.enqueue('boss', 'aaaaaaaa', `single ${i}`);
    expect(commits()).toBeGreaterThan(framesForBatch * 10);
    // Announced like enqueue(): queued, then pending, per message, after the commit.
    expect(events.slice(0, 2)).toEqual([
      { type: 'message:queued', e: { messageId: rows[0]!.id, senderId: 'boss', receiverId: 'aaaaaaaa', kind: 'message', bytes: 2 } },
      { type: 'message:state', e: { messageId: rows[0]!.id, receiverId: 'aaaaaaaa', state: 'pending' } },
    ]);
  });

  it('a refused message refuses only itself; the rest of its batch is stored', async () => {
    const cao = open();
    const store = newInbox(cao);
    await worker(store, 'aaaaaaaa');
    await worker(store, 'eeeeeeee');
    await store.registry.endTerminal('eeeeeeee', 'exited');
    const results = await Promise.allSettled([
      store.enqueueSoon('boss', 'aaaaaaaa', 'first'),
      store.enqueueSoon('boss', 'ffffffff', 'to nobody'),
      store.enqueueSoon('boss', 'eeeeeeee', 'to the dead'),
      store.enqueueSoon('boss', 'aaaaaaaa', ''),
      store.enqueueSoon('boss', 'aaaaaaaa', 'second'),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'rejected', 'rejected', 'fulfilled']);
    const codes = results.flatMap((r) => (r.status === 'rejected' ? [(r.reason as CaoError).code] : []));
    expect(codes).toEqual(['receiver_not_found', 'receiver_ended', 'empty_body']);
    expect((await store.listMessages({ receiverId: 'aaaaaaaa' })).map((m) => m.body)).toEqual(['first', 'second']);
  });

  it('flush() commits a waiting batch at once; a batch that cannot commit is refused whole, never acknowledged', async () => {
    const cao = open();
    const store = newInbox(cao);
    await worker(store, 'aaaaaaaa');
    const waiting = store.enqueueSoon('boss', 'aaaaaaaa', 'before close');
    await store.flush();
    expect(await store.countPending('aaaaaaaa')).toBe(1);
    await expect(waiting).resolves.toMatchObject({ body: 'before close' });

    // Another connection holds the write lock past the busy timeout: the commit fails, both sends are refused.
    const other = open();
    cao.sqlite.pragma('busy_timeout = 50');
    other.sqlite.prepare('begin immediate').run();
    const lost = [store.enqueueSoon('boss', 'aaaaaaaa', 'x'), store.enqueueSoon('boss', 'aaaaaaaa', 'y')];
    const settled = await Promise.allSettled(lost);
    other.sqlite.prepare('rollback').run();
    expect(settled.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    expect(String((settled[0] as PromiseRejectedResult).reason)).toMatch(/locked|busy/i);
    expect(await store.countPending('aaaaaaaa')).toBe(1);
  });
});

describe('claim, order, retry', () => {
  it('a claim is exclusive, also between two connections on the same file', async () => {
    const file = path.join(dir, 'cao.db');
    const a = newInbox(open(file));
    const b = newInbox(open(file));
    await worker(a, 'aaaaaaaa');
    const m = await b.enqueue('boss', 'aaaaaaaa', 'only one of you gets this');
    const first = await a.claimNext('aaaaaaaa');
    const second = await b.claimNext('aaaaaaaa');
    expect(first?.id).toBe(m.id);
    expect(first?.status).toBe('delivering');
    expect(second).toBeNull();
    expect(await a.claimNext('aaaaaaaa')).toBeNull();
    expect((await b.markDelivered(m.id))?.status).toBe('delivered');
    expect(await a.markDelivered(m.id)).toBeNull(); // not in flight any more
    expect(await a.claimNext('aaaaaaaa')).toBeNull();
  });

  it('keeps per-receiver order and never claims a newer message while an older one is in flight', async () => {
    const bus = createBus();
    const events = recorder(bus);
    const store = newInbox(open(), bus);
    await worker(store, 'aaaaaaaa');
    await worker(store, 'bbbbbbbb');
    const a1 = await store.enqueue('boss', 'aaaaaaaa', 'a1');
    const b1 = await store.enqueue('boss', 'bbbbbbbb', 'b1');
    const a2 = await store.enqueue('boss', 'aaaaaaaa', 'a2');
    const a3 = await store.enqueue('boss', 'aaaaaaaa', 'a3');
    events.length = 0;

    expect((await store.claimNext('aaaaaaaa'))?.id).toBe(a1.id);
    expect(await store.claimNext('aaaaaaaa')).toBeNull(); // a1 in flight
    expect((await store.claimNext('bbbbbbbb'))?.id).toBe(b1.id); // other receivers are independent
    await store.markDelivered(a1.id);
    expect((await store.getMessage(a1.id))?.deliveredAt).toBeTypeOf('number');
    expect((await store.claimNext('aaaaaaaa'))?.id).toBe(a2.id);
    await store.fail(a2.id, 'operator cancelled');
    expect(await store.getMessage(a2.id)).toMatchObject({ status: 'failed', error: 'operator cancelled' });
    expect((await store.claimNext('aaaaaaaa'))?.id).toBe(a3.id);
    expect(await store.claimNext('aaaaaaaa')).toBeNull();

    expect(events.map((e) => e.e)).toEqual([
      { messageId: a1.id, receiverId: 'aaaaaaaa', state: 'delivering' },
      { messageId: b1.id, receiverId: 'bbbbbbbb', state: 'delivering' },
      { messageId: a1.id, receiverId: 'aaaaaaaa', state: 'delivered' },
      { messageId: a2.id, receiverId: 'aaaaaaaa', state: 'delivering' },
      { messageId: a2.id, receiverId: 'aaaaaaaa', state: 'failed', error: 'operator cancelled' },
      { messageId: a3.id, receiverId: 'aaaaaaaa', state: 'delivering' },
    ]);
  });

  it('releases for retry, keeps the message first in line, and fails it after maxAttempts', async () => {
    const bus = createBus();
    const events = recorder(bus);
    const store = newInbox(open(), bus);
    await worker(store, 'aaaaaaaa');
    const m = await store.enqueue('boss', 'aaaaaaaa', 'flaky');
    const later = await store.enqueue('boss', 'aaaaaaaa', 'later');
    events.length = 0;

    for (let attempt = 1; attempt <= 2; attempt++) {
      expect((await store.claimNext('aaaaaaaa'))?.id).toBe(m.id);
      const r = await store.releaseForRetry(m.id, `paste not confirmed #${attempt}`);
      expect(r).toMatchObject({ status: 'pending', attempts: attempt, error: `paste not confirmed #${attempt}` });
    }
    expect((await store.claimNext('aaaaaaaa'))?.id).toBe(m.id);
    const last = await store.releaseForRetry(m.id, 'paste not confirmed #3');
    expect(last).toMatchObject({ status: 'failed', attempts: 3, error: 'gave up after 3 attempts: paste not confirmed #3' });
    expect(await store.releaseForRetry(m.id, 'again')).toBeNull(); // not in flight
    expect((await store.claimNext('aaaaaaaa'))?.id).toBe(later.id);
    // maxAttempts = 1: the first failure is final.
    expect(await store.releaseForRetry(later.id, 'dialog appeared', 1)).toMatchObject({
      status: 'failed',
      error: 'gave up after 1 attempts: dialog appeared',
    });
    expect(events.map((e) => (e.e as BusEvents['message:state']).state)).toEqual([
      'delivering',
      'pending',
      'delivering',
      'pending',
      'delivering',
      'failed',
      'delivering',
      'failed',
    ]);
  });

  it('claims are exclusive between separate processes hammering one file', async () => {
    const file = path.join(dir, 'cao.db');
    const store = newInbox(open(file));
    const receivers = Array.from({ length: 8 }, (_, i) => `0000000${i}`);
    for (const r of receivers) await worker(store, r);
    const total = 400;
    for (let i = 0; i < total; i++) await store.enqueue('boss', receivers[i % receivers.length], `m${i}`);

    const storeUrl = pathToFileURL(path.join(repoRoot, 'src', 'inbox', 'messages.ts')).href;
    const registryUrl = pathToFileURL(path.join(repoRoot, 'src', 'registry', 'terminals.ts')).href;
    const sqliteUrl = pathToFileURL(path.join(repoRoot, 'src', 'store', 'sqlite', 'index.ts')).href;
    const code = `
      const { openSqliteStore } = await import(${JSON.stringify(sqliteUrl)});
      const { MessageQueue } = await import(${JSON.stringify(storeUrl)});
      const { TerminalRegistry } = await import(${JSON.stringify(registryUrl)});
      const store = new MessageQueue(new TerminalRegistry(openSqliteStore(${JSON.stringify(file)})));
      const receivers = ${JSON.stringify(receivers)};
      const mine = [];
      for (;;) {
        let any = false;
        for (const r of receivers) {
          const m = await store.claimNext(r);
          if (m) { any = true; mine.push(m.id); await store.markDelivered(m.id); }
        }
        if (!any && (await store.pendingReceivers()).length === 0) break;
        await new Promise((r) => setImmediate(r));
      }
      process.stdout.write(JSON.stringify(mine));
    `;
    const results = await Promise.all(Array.from({ length: 4 }, () => runTsx(code)));
    const all: number[] = [];
    for (const r of results) {
      expect(r.code, r.stderr).toBe(0);
      all.push(...(JSON.parse(r.stdout) as number[]));
    }
    expect(all.length).toBe(total);
    expect(new Set(all).size).toBe(total);
    expect((await store.listMessages({ status: 'delivered', limit: 10_000 })).length).toBe(total);
    // Per receiver, delivery times follow id order (one in flight at a time, oldest first).
    for (const r of receivers) {
      const rows = await store.listMessages({ receiverId: r, limit: 10_000 });
      const times = rows.map((m) => m.deliveredAt!);
      expect([...times].sort((x, y) => x - y)).toEqual(times);
    }
  }, 60_000);
});

describe('recoverAfterCrash', () => {
  it('ends workers of a previous hub, fails their pending and in-flight mail, leaves the rest alone', async () => {
    const file = path.join(dir, 'cao.db');
    const old = newInbox(open(file));
    await worker(old, 'aaaaaaaa', { hubId: 'hub-old', pid: 1111 });
    await worker(old, 'bbbbbbbb', { hubId: 'hub-old', pid: null });
    await worker(old, 'cccccccc', { hubId: 'hub-old', pid: 3333 });
    await old.registry.endTerminal('cccccccc', 'exited'); // ended properly before the crash
    await worker(old, 'dddddddd', { hubId: 'hub-alive', pid: 4444 }); // another hub that is still running
    await old.registry.ensureExternal('boss');
    const delivered = await old.enqueue('boss', 'aaaaaaaa', 'done already');
    await old.claimNext('aaaaaaaa');
    await old.markDelivered(delivered.id);
    const inFlight = await old.enqueue('boss', 'aaaaaaaa', 'was being typed');
    await old.claimNext('aaaaaaaa');
    const pending = await old.enqueue('boss', 'aaaaaaaa', 'never typed');
    const pendingB = await old.enqueue('aaaaaaaa', 'bbbbbbbb', 'for b');
    const forBoss = await old.enqueue('aaaaaaaa', 'boss', 'report');
    const forAlive = await old.enqueue('boss', 'dddddddd', 'for the live hub');
    opened.pop()!.close(); // the hub dies

    const bus = createBus();
    const events = recorder(bus);
    const store = newInbox(open(file), bus);
    await worker(store, 'eeeeeeee', { hubId: 'hub-new' });
    await store.enqueue('boss', 'eeeeeeee', 'new hub work');
    events.length = 0;

    const result = await store.registry.recoverAfterCrash('hub-new', (h) => h === 'hub-alive');
    expect(result.endedTerminals.sort()).toEqual(['aaaaaaaa', 'bbbbbbbb']);
    expect(result.pids).toEqual([1111]);
    expect(result.failedMessages).toBe(3);

    expect(await store.registry.getTerminal('aaaaaaaa')).toMatchObject({ status: 'exited', lastError: 'hub restarted' });
    expect((await store.registry.getTerminal('aaaaaaaa'))?.endedAt).toBeTypeOf('number');
    for (const id of [inFlight.id, pending.id]) {
      expect(await store.getMessage(id)).toMatchObject({ status: 'failed', error: 'receiver aaaaaaaa died with the previous hub' });
    }
    expect(await store.getMessage(pendingB.id)).toMatchObject({ status: 'failed', error: 'receiver bbbbbbbb died with the previous hub' });
    expect((await store.getMessage(delivered.id))?.status).toBe('delivered');
    expect((await store.getMessage(forBoss.id))?.status).toBe('pending'); // external mail stays readable
    expect((await store.getMessage(forAlive.id))?.status).toBe('pending');
    expect((await store.registry.getTerminal('dddddddd'))?.endedAt).toBeNull();
    expect((await store.registry.getTerminal('cccccccc'))?.lastError).toBeNull(); // already ended: untouched
    expect(await store.countPending('eeeeeeee')).toBe(1);

    const states = events.filter((e) => e.type === 'message:state').map((e) => e.e as BusEvents['message:state']);
    expect(states.map((s) => s.messageId).sort((a, b) => a - b)).toEqual([inFlight.id, pending.id, pendingB.id]);
    expect(states.every((s) => s.state === 'failed')).toBe(true);

    // Without a liveness check every other hub counts as dead; a second run finds nothing left.
    expect(await store.registry.recoverAfterCrash('hub-new')).toEqual({ endedTerminals: ['dddddddd'], pids: [4444], failedMessages: 1 });
    expect(await store.registry.recoverAfterCrash('hub-new')).toEqual({ endedTerminals: [], pids: [], failedMessages: 0 });
  });
});

describe('external inbox and queries', () => {
  it('takeForExternal hands over pending mail oldest first, once', async () => {
    const bus = createBus();
    const events = recorder(bus);
    const store = newInbox(open(), bus);
    await store.registry.ensureExternal('boss');
    await worker(store, 'aaaaaaaa');
    const ids: number[] = [];
    for (const i of [1, 2, 3, 4, 5]) ids.push((await store.enqueue('aaaaaaaa', 'boss', `report ${i}`)).id);
    events.length = 0;

    const first = await store.takeForExternal('boss', 2);
    expect(first.map((m) => m.id)).toEqual(ids.slice(0, 2));
    expect(first.every((m) => m.status === 'delivered' && typeof m.deliveredAt === 'number')).toBe(true);
    expect(await store.countPending('boss')).toBe(3);
    expect((await store.takeForExternal('boss', 10)).map((m) => m.body)).toEqual(['report 3', 'report 4', 'report 5']);
    expect(await store.takeForExternal('boss', 10)).toEqual([]);
    expect(events.map((e) => (e.e as BusEvents['message:state']).messageId)).toEqual(ids);

    await expectCaoError(() => store.takeForExternal('aaaaaaaa', 1), 'not_external', /is a worker terminal/);
    await expectCaoError(() => store.takeForExternal('nobody', 1), 'receiver_not_found', /does not exist/);
  });

  it('pendingReceivers, countPending and listMessages', async () => {
    const store = newInbox(open());
    await store.registry.ensureExternal('boss');
    await worker(store, 'aaaaaaaa');
    await worker(store, 'bbbbbbbb');
    await worker(store, 'cccccccc');
    const a1 = await store.enqueue('boss', 'aaaaaaaa', 'a1');
    const a2 = await store.enqueue('bbbbbbbb', 'aaaaaaaa', 'a2');
    const b1 = await store.enqueue('boss', 'bbbbbbbb', 'b1');
    const r1 = await store.enqueue('aaaaaaaa', 'boss', 'r1');
    await store.claimNext('bbbbbbbb'); // b1 in flight: bbbbbbbb has nothing *pending*

    expect((await store.pendingReceivers()).sort()).toEqual(['aaaaaaaa', 'boss']);
    expect(await store.pendingReceivers({ kind: 'worker' })).toEqual(['aaaaaaaa']);
    expect(await store.pendingReceivers({ kind: 'external' })).toEqual(['boss']);
    expect(await store.countPending('aaaaaaaa')).toBe(2);
    expect(await store.countPending('bbbbbbbb')).toBe(0);
    expect(await store.countPending('cccccccc')).toBe(0);

    expect((await store.listMessages()).map((m) => m.id)).toEqual([a1.id, a2.id, b1.id, r1.id]);
    expect((await store.listMessages({ receiverId: 'aaaaaaaa' })).map((m) => m.id)).toEqual([a1.id, a2.id]);
    expect((await store.listMessages({ senderId: 'boss' })).map((m) => m.id)).toEqual([a1.id, b1.id]);
    expect((await store.listMessages({ status: 'delivering' })).map((m) => m.id)).toEqual([b1.id]);
    expect((await store.listMessages({ status: ['delivering', 'pending'], receiverId: 'boss' })).map((m) => m.id)).toEqual([r1.id]);
    expect((await store.listMessages({ limit: 2, order: 'desc' })).map((m) => m.id)).toEqual([r1.id, b1.id]);
    expect((await store.listMessages({ afterId: a2.id })).map((m) => m.id)).toEqual([b1.id, r1.id]);
  });

  it('the sweep and claim queries use the indexes (no table scan)', async () => {
    const cao = open();
    const plan = (q: string) => (cao.sqlite.prepare(`explain query plan ${q}`).all() as { detail: string }[]).map((r) => r.detail).join(' | ');
    expect(plan(`select distinct receiver_id from messages where status = 'pending'`)).toMatch(/USING COVERING INDEX messages_pending_receiver_idx/);
    expect(plan(`select id from messages where receiver_id = 'x' and status = 'pending' order by id limit 1`)).toMatch(
      /USING COVERING INDEX messages_receiver_status_id_idx/,
    );
    expect(plan(`select 1 from messages where receiver_id = 'x' and status = 'delivering'`)).toMatch(
      /USING COVERING INDEX messages_receiver_status_id_idx/,
    );
  });

  it('enqueue throughput (printed, not asserted)', async () => {
    const store = newInbox(open());
    const receivers = Array.from({ length: 20 }, (_, i) => i.toString(16).padStart(8, '0'));
    for (const r of receivers) await worker(store, r);
    const n = 5000;
    const t0 = performance.now();
    for (let i = 0; i < n; i++) await store.enqueue('boss', receivers[i % 20], `message number ${i}`);
    const ms = performance.now() - t0;
    process.stderr.write(`inbox: ${n} enqueues in ${ms.toFixed(0)} ms = ${Math.round((n / ms) * 1000)}/s\n`);
    expect((await store.pendingReceivers()).length).toBe(20);
  });
});

/** Runs an ESM snippet in a fresh node process with tsx (so it can import the TypeScript sources). */
function runTsx(code: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], {
      cwd: repoRoot,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (c) => resolve({ code: c, stdout, stderr }));
  });
}
