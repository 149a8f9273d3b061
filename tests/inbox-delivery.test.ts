import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createBus, type Bus, type BusEvents } from '../src/bus/bus.js';
import { openDatabase, type CaoDb } from '../src/db/db.js';
import { DeliveryService, type DeliveredTurn, type DeliveryOptions, type DeliveryPort } from '../src/inbox/delivery.js';
import type { MessageRow } from '../src/db/schema.js';
import { MessageQueue } from '../src/inbox/messages.js';
import { TerminalRegistry } from '../src/registry/terminals.js';
import { sqliteStoreOf } from '../src/store/sqlite/index.js';
import { isReady, type AgentStatus } from '../src/status/types.js';
import { FakeClock, flush } from './support/fake-clock.js';

/** The inbox on a registry, as the hub builds them (registry/terminals.ts, inbox/messages.ts). */
const newInbox = (cao: CaoDb, bus?: Bus) => new MessageQueue(new TerminalRegistry(sqliteStoreOf(cao), bus));

let dir: string;
let file: string;
const opened: CaoDb[] = [];
const services: DeliveryService[] = [];

beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'cao-inbox-delivery-'));
  file = path.join(dir, 'cao.db');
});
afterEach(async () => {
  for (const s of services.splice(0)) await s.stop();
  for (const db of opened.splice(0)) db.close();
  rmSync(dir, { recursive: true, force: true });
});

function open(): CaoDb {
  const db = openDatabase(file);
  opened.push(db);
  return db;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
async function waitFor(cond: () => boolean | Promise<boolean>, what: string, timeoutMs = 10_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

interface Typed {
  terminalId: string;
  messageId: number;
  body: string;
  statusAtStart: AgentStatus | undefined;
}

/**
 * The turn a fake submit started: over at the first ready / exited / error status after the submit (as a real
 * Turn, whose statuses after the Enter the fake cannot tell from earlier ones: here the submit is its end).
 */
class FakeTurn implements DeliveredTurn {
  ended = false;
  constructor(bus: Bus, terminalId: string) {
    const on = (e: BusEvents['status']) => {
      if (e.terminalId !== terminalId || !(isReady(e.status) || e.status === 'exited' || e.status === 'error')) return;
      this.ended = true;
      bus.off('status', on);
    };
    bus.on('status', on);
  }
}

/**
 * A hub's view of its terminals, faked: statuses follow the bus `status` events (as the real status
 * monitor's do), and "typing" records what was typed and returns the turn it started. Options make typing
 * slow, flaky, or make it echo a ready status while it types (the reference project's double-delivery trigger).
 */
class FakePort implements DeliveryPort {
  readonly statuses = new Map<string, AgentStatus>();
  readonly typed: Typed[] = [];
  overlaps = 0;
  failNext = new Map<number, number>(); // messageId → how many more attempts fail
  delayMs: () => number = () => 0;
  echoReadyWhileTyping = false;

  constructor(
    private readonly bus: Bus,
    owned: string[] = [],
    /** Shared between the ports of two hubs, to see typing that overlaps across them. */
    private readonly typingNow = new Set<string>(),
    private readonly log: Typed[] = [],
  ) {
    for (const id of owned) this.statuses.set(id, 'starting');
    bus.on('status', (e) => {
      if (this.statuses.has(e.terminalId)) this.statuses.set(e.terminalId, e.status);
    });
  }

  status(terminalId: string): AgentStatus | undefined {
    return this.statuses.get(terminalId);
  }

  async submit(terminalId: string, message: MessageRow): Promise<DeliveredTurn> {
    const statusAtStart = this.statuses.get(terminalId);
    if (this.typingNow.has(terminalId)) this.overlaps++;
    this.typingNow.add(terminalId);
    try {
      if (this.echoReadyWhileTyping) {
        // Our own paste redraws the screen; a detector might say "idle" again, mid-typing.
        setStatus(this.bus, terminalId, 'processing');
        setStatus(this.bus, terminalId, 'idle');
      }
      const d = this.delayMs();
      if (d > 0) await sleep(d);
      else await Promise.resolve();
      const fails = this.failNext.get(message.id) ?? 0;
      if (fails > 0) {
        this.failNext.set(message.id, fails - 1);
        throw new Error('paste was not confirmed');
      }
      const t = { terminalId, messageId: message.id, body: message.body, statusAtStart };
      this.typed.push(t);
      this.log.push(t);
      return new FakeTurn(this.bus, terminalId);
    } finally {
      this.typingNow.delete(terminalId);
    }
  }
}

const lastStatus = new WeakMap<Bus, Map<string, AgentStatus>>();
function setStatus(bus: Bus, terminalId: string, status: AgentStatus): void {
  let m = lastStatus.get(bus);
  if (!m) lastStatus.set(bus, (m = new Map()));
  const previous = m.get(terminalId) ?? 'starting';
  m.set(terminalId, status);
  bus.emit('status', { terminalId, status, previous, at: Date.now(), cause: { kind: 'detected' } });
}

async function setup(opts: DeliveryOptions & { owned?: string[]; storeBus?: boolean } = {}) {
  const bus = createBus();
  const store = newInbox(open(), opts.storeBus === false ? undefined : bus);
  const owned = opts.owned ?? ['aaaaaaaa'];
  for (const id of owned) await store.registry.registerTerminal({ id, provider: 'fake', hubId: 'hub-1', pid: 1 });
  await store.registry.ensureExternal('boss');
  const port = new FakePort(bus, owned);
  const service = new DeliveryService(bus, store, port, { sweepMs: 20, ...opts });
  services.push(service);
  return { bus, store, port, service };
}

describe('DeliveryService', () => {
  it('delivers mail that waited for an already-idle receiver at start(), with no status event', async () => {
    const { store, port, service } = await setup();
    port.statuses.set('aaaaaaaa', 'idle'); // idle before we ever listened: no event will come
    const m = await store.enqueue('boss', 'aaaaaaaa', 'hello');
    service.start();
    await waitFor(() => port.typed.length === 1, 'delivery at start');
    expect(port.typed[0]).toMatchObject({ terminalId: 'aaaaaaaa', messageId: m.id, body: 'hello', statusAtStart: 'idle' });
    await waitFor(async () => (await store.getMessage(m.id))?.status === 'delivered', 'delivered state');
  });

  it('the sweep delivers to an idle receiver even when nobody announced the message', async () => {
    // A store without the bus: no message:queued, no status event. Only the sweep can find it.
    const { store, port, service } = await setup({ storeBus: false, sweepMs: 30 });
    port.statuses.set('aaaaaaaa', 'completed');
    service.start();
    await sleep(50);
    const m = await store.enqueue('boss', 'aaaaaaaa', 'found by the sweep');
    await waitFor(() => port.typed.length === 1, 'sweep delivery');
    expect(port.typed[0].messageId).toBe(m.id);
  });

  it('kick() delivers at once', async () => {
    const { store, port, service } = await setup({ storeBus: false, sweepMs: 60_000 });
    port.statuses.set('aaaaaaaa', 'idle');
    service.start();
    await sleep(20);
    await store.enqueue('boss', 'aaaaaaaa', 'kicked');
    await sleep(50);
    expect(port.typed.length).toBe(0); // no wake-up yet: the sweep is an hour away
    service.kick('aaaaaaaa');
    await waitFor(() => port.typed.length === 1, 'kick delivery');
  });

  it('never types while the receiver is waiting on a dialog, processing or starting', async () => {
    const { bus, store, port, service } = await setup();
    service.start();
    const m = await store.enqueue('boss', 'aaaaaaaa', 'wait for me');
    for (const s of ['starting', 'waiting_user_answer', 'processing', 'waiting_user_answer'] as const) {
      setStatus(bus, 'aaaaaaaa', s);
      await sleep(100); // five sweeps
      expect(port.typed).toEqual([]);
      expect((await store.getMessage(m.id))?.status).toBe('pending');
    }
    setStatus(bus, 'aaaaaaaa', 'idle');
    await waitFor(() => port.typed.length === 1, 'delivery once idle');
    expect(port.typed[0].statusAtStart).toBe('idle');
  });

  it('after typing, the receiver is busy until the turn it started is over (its next ready event)', async () => {
    const { bus, store, port, service } = await setup({ readyGraceMs: 60_000 });
    service.start();
    setStatus(bus, 'aaaaaaaa', 'idle');
    const m1 = await store.enqueue('boss', 'aaaaaaaa', 'first');
    const m2 = await store.enqueue('boss', 'aaaaaaaa', 'second');
    await waitFor(() => port.typed.length === 1, 'first delivery');
    await sleep(150); // the detector still says idle, sweeps run: the second must wait
    expect(port.typed.map((t) => t.messageId)).toEqual([m1.id]);
    expect((await store.getMessage(m2.id))?.status).toBe('pending');
    setStatus(bus, 'aaaaaaaa', 'processing');
    await sleep(60);
    expect(port.typed.length).toBe(1);
    setStatus(bus, 'aaaaaaaa', 'completed');
    await waitFor(() => port.typed.length === 2, 'second delivery');
    expect(port.typed[1].messageId).toBe(m2.id);
  });

  it('believes a still-ready status after readyGraceMs when no status event ever comes', async () => {
    const { store, port, service } = await setup({ readyGraceMs: 100 });
    port.statuses.set('aaaaaaaa', 'idle');
    await store.enqueue('boss', 'aaaaaaaa', 'one');
    await store.enqueue('boss', 'aaaaaaaa', 'two');
    const t0 = Date.now();
    service.start();
    await waitFor(() => port.typed.length === 2, 'both delivered without events');
    expect(Date.now() - t0).toBeGreaterThanOrEqual(90);
  });

  it('readyGraceMs and the sweep run on the injected clock', async () => {
    const clock = new FakeClock();
    const { store, port, service } = await setup({ storeBus: false, sweepMs: 20, readyGraceMs: 1000, clock });
    port.statuses.set('aaaaaaaa', 'idle');
    await store.enqueue('boss', 'aaaaaaaa', 'one');
    service.start(); // sweeps at once
    await flush();
    expect(port.typed.length).toBe(1);
    await store.enqueue('boss', 'aaaaaaaa', 'two'); // no message:queued: only a sweep finds it
    await clock.advance(980);
    expect(port.typed.length).toBe(1); // the turn "one" started is open, no status event says otherwise
    await clock.advance(20);
    expect(port.typed.map((t) => t.body)).toEqual(['one', 'two']);
  });

  it('a ready echo while typing does not deliver the next message into the busy receiver', async () => {
    const { bus, store, port, service } = await setup({ readyGraceMs: 60_000 });
    port.echoReadyWhileTyping = true;
    port.delayMs = () => 20;
    service.start();
    setStatus(bus, 'aaaaaaaa', 'idle');
    for (let i = 0; i < 3; i++) await store.enqueue('boss', 'aaaaaaaa', `m${i}`);
    await waitFor(() => port.typed.length === 1, 'first delivery');
    await sleep(150);
    expect(port.typed.length).toBe(1);
    expect(port.overlaps).toBe(0);
    setStatus(bus, 'aaaaaaaa', 'processing');
    setStatus(bus, 'aaaaaaaa', 'idle');
    await waitFor(() => port.typed.length === 2, 'second delivery after a real turn');
  });

  it('a failed typing is retried and then delivered; a message that always fails ends failed', async () => {
    const { bus, store, port, service } = await setup({ readyGraceMs: 0 });
    const states: BusEvents['message:state'][] = [];
    bus.on('message:state', (e) => states.push(e));
    const flaky = await store.enqueue('boss', 'aaaaaaaa', 'flaky');
    const doomed = await store.enqueue('boss', 'aaaaaaaa', 'doomed');
    port.failNext.set(flaky.id, 2);
    port.failNext.set(doomed.id, 99);
    setStatus(bus, 'aaaaaaaa', 'idle');
    service.start();
    await waitFor(async () => (await store.getMessage(doomed.id))?.status === 'failed', 'doomed message failed');
    expect(await store.getMessage(flaky.id)).toMatchObject({ status: 'delivered', attempts: 2 });
    expect(await store.getMessage(doomed.id)).toMatchObject({
      status: 'failed',
      attempts: 3,
      error: 'gave up after 3 attempts: paste was not confirmed',
    });
    expect(port.typed.map((t) => t.messageId)).toEqual([flaky.id]);
    expect(states.filter((s) => s.messageId === flaky.id).map((s) => s.state)).toEqual([
      'pending',
      'delivering',
      'pending',
      'delivering',
      'pending',
      'delivering',
      'delivered',
    ]);
  });

  it('an outcome the database refuses for a while (a cut link) is recorded once it answers; the next message follows', async () => {
    const errors: unknown[] = [];
    const { bus, store, port, service } = await setup({ readyGraceMs: 0, recordRetryMs: 2, onError: (e) => errors.push(e) });
    const first = await store.enqueue('boss', 'aaaaaaaa', 'first');
    const second = await store.enqueue('boss', 'aaaaaaaa', 'second');
    // the database answers nothing for the first 12 writes of an outcome (more than any fixed count of tries)
    let refused = 0;
    const markDelivered = store.markDelivered.bind(store);
    store.markDelivered = async (id) => {
      if (refused < 12) {
        refused++;
        throw new Error('Connection terminated unexpectedly');
      }
      return markDelivered(id);
    };
    setStatus(bus, 'aaaaaaaa', 'idle');
    service.start();
    await waitFor(() => port.typed.length === 1, 'the first typed');
    await waitFor(async () => (await store.getMessage(first.id))?.status === 'delivered', 'the first recorded delivered');
    expect(refused).toBe(12);
    setStatus(bus, 'aaaaaaaa', 'idle'); // its turn is over
    await waitFor(async () => (await store.getMessage(second.id))?.status === 'delivered', 'the second delivered');
    expect(port.typed.map((t) => t.messageId)).toEqual([first.id, second.id]);
    expect(errors).toEqual([]);
  });

  it('a claim whose answer was lost (it committed): its message goes back to pending untyped, then is delivered once', async () => {
    const errors: unknown[] = [];
    const { bus, store, port, service } = await setup({ readyGraceMs: 0, onError: (e) => errors.push(e) });
    const states: BusEvents['message:state'][] = [];
    bus.on('message:state', (e) => states.push(e));
    const m = await store.enqueue('boss', 'aaaaaaaa', 'claimed once');
    const claimNext = store.claimNext.bind(store);
    let lost = false;
    store.claimNext = async (id) => {
      const row = await claimNext(id);
      if (!lost && row) {
        lost = true;
        throw new Error('Connection terminated unexpectedly'); // the UPDATE committed; its answer never came
      }
      return row;
    };
    setStatus(bus, 'aaaaaaaa', 'idle');
    service.start();
    await waitFor(async () => (await store.getMessage(m.id))?.status === 'delivered', 'delivered after the lost claim');
    expect(errors).toHaveLength(1);
    expect(port.typed.map((t) => t.messageId)).toEqual([m.id]);
    expect(states.filter((s) => s.messageId === m.id).map((s) => [s.state, s.requeued])).toEqual([
      ['pending', undefined],
      ['delivering', undefined],
      ['pending', 'claim'],
      ['delivering', undefined],
      ['delivered', undefined],
    ]);
  });

  it('fails pending mail of a receiver that exited, errored or ended; leaves external and foreign receivers alone', async () => {
    const { bus, store, port, service } = await setup({ owned: ['aaaaaaaa', 'bbbbbbbb', 'cccccccc'] });
    await store.registry.registerTerminal({ id: 'dddddddd', provider: 'fake', hubId: 'hub-2' }); // another hub's worker
    service.start();
    const toA = await store.enqueue('boss', 'aaaaaaaa', 'a');
    const toB = await store.enqueue('boss', 'bbbbbbbb', 'b');
    const toC = await store.enqueue('boss', 'cccccccc', 'c');
    const toBoss = await store.enqueue('aaaaaaaa', 'boss', 'report');
    const toD = await store.enqueue('boss', 'dddddddd', 'd');
    setStatus(bus, 'aaaaaaaa', 'exited');
    await store.registry.updateTerminalStatus('bbbbbbbb', 'error', 'API key rejected');
    setStatus(bus, 'bbbbbbbb', 'error');
    await store.registry.endTerminal('cccccccc', 'exited', 'stopped');
    await waitFor(
      async () => (await Promise.all([toA, toB, toC].map((m) => store.getMessage(m.id)))).every((m) => m?.status === 'failed'),
      'failed mail of dead receivers',
    );
    expect((await store.getMessage(toA.id))?.error).toBe('receiver aaaaaaaa is exited');
    expect((await store.getMessage(toB.id))?.error).toBe('receiver bbbbbbbb is error: API key rejected');
    expect((await store.getMessage(toC.id))?.error).toBe('receiver cccccccc ended (exited): stopped');
    await sleep(100);
    expect((await store.getMessage(toBoss.id))?.status).toBe('pending'); // read with takeForExternal
    expect((await store.getMessage(toD.id))?.status).toBe('pending'); // its own hub delivers it
    expect(port.typed).toEqual([]);
    expect((await store.takeForExternal('boss', 10)).map((m) => m.id)).toEqual([toBoss.id]);
  });

  it('after stop(), nothing more is typed', async () => {
    const { bus, store, port, service } = await setup({ readyGraceMs: 0 });
    service.start();
    setStatus(bus, 'aaaaaaaa', 'idle');
    await store.enqueue('boss', 'aaaaaaaa', 'one');
    await waitFor(() => port.typed.length === 1, 'first');
    await service.stop();
    await store.enqueue('boss', 'aaaaaaaa', 'two');
    setStatus(bus, 'aaaaaaaa', 'processing');
    setStatus(bus, 'aaaaaaaa', 'idle');
    service.kick('aaaaaaaa');
    await sleep(100);
    expect(port.typed.length).toBe(1);
  });

  it('exactly once, in order, under 2,000 concurrent messages to 20 receivers with ready events fired at random', async () => {
    const receivers = Array.from({ length: 20 }, (_, i) => (0xa0000000 + i).toString(16));
    const { bus, store, port, service } = await setup({ owned: receivers, sweepMs: 25, readyGraceMs: 50 });
    port.echoReadyWhileTyping = true;
    port.delayMs = () => (Math.random() < 0.3 ? 0 : Math.floor(Math.random() * 4));
    const ready: AgentStatus[] = ['idle', 'completed'];
    const any: AgentStatus[] = ['idle', 'completed', 'processing', 'waiting_user_answer', 'idle', 'completed'];
    const pick = <T>(a: T[]) => a[Math.floor(Math.random() * a.length)];
    service.start();

    // Status storm: random statuses, and ready ones fired repeatedly.
    let storming = true;
    const storm = (async () => {
      while (storming) {
        for (let k = 0; k < 10; k++) {
          const r = pick(receivers);
          setStatus(bus, r, pick(any));
          if (Math.random() < 0.5) setStatus(bus, r, pick(ready));
        }
        await sleep(1);
      }
    })();

    // Concurrent producers.
    const total = 2000;
    const producers = Array.from({ length: 8 }, async (_, p) => {
      for (let i = p; i < total; i += 8) {
        const sender = Math.random() < 0.5 ? 'boss' : receivers[(i * 7) % 20];
        let receiver = pick(receivers);
        if (receiver === sender) receiver = receivers[(receivers.indexOf(receiver) + 1) % 20];
        await store.enqueue(sender, receiver, `msg ${i} from ${sender}`);
        if (i % 5 === 0) await new Promise((r) => setImmediate(r));
      }
    });
    await Promise.all(producers);
    await waitFor(() => port.typed.length >= total, `all ${total} typed (${port.typed.length} so far)`, 60_000);
    storming = false;
    await storm;
    await sleep(200); // anything extra would show up now

    expect(port.typed.length).toBe(total);
    expect(new Set(port.typed.map((t) => t.messageId)).size).toBe(total);
    expect(port.overlaps).toBe(0);
    expect(port.typed.every((t) => t.statusAtStart !== undefined && isReady(t.statusAtStart))).toBe(true);
    for (const r of receivers) {
      const ids = port.typed.filter((t) => t.terminalId === r).map((t) => t.messageId);
      expect(ids).toEqual([...ids].sort((a, b) => a - b));
    }
    const rows = await store.listMessages({ limit: 10_000 });
    expect(rows.length).toBe(total);
    expect(rows.every((m) => m.status === 'delivered' && m.attempts === 0)).toBe(true);
  }, 90_000);

  it('two hubs on one database file never deliver the same message twice', async () => {
    const receivers = Array.from({ length: 6 }, (_, i) => (0xb0000000 + i).toString(16));
    const busA = createBus();
    const busB = createBus();
    const storeA = newInbox(open(), busA);
    const storeB = newInbox(open(), busB);
    for (const r of receivers) await storeA.registry.registerTerminal({ id: r, provider: 'fake', hubId: 'hub-shared' });
    await storeA.registry.ensureExternal('boss');
    // Both "hubs" see the same terminals (the worst case: the lock in one process cannot help).
    const typingNow = new Set<string>();
    const log: Typed[] = [];
    const portA = new FakePort(busA, receivers, typingNow, log);
    const portB = new FakePort(busB, receivers, typingNow, log);
    for (const p of [portA, portB]) p.delayMs = () => Math.floor(Math.random() * 3);
    const a = new DeliveryService(busA, storeA, portA, { sweepMs: 10, readyGraceMs: 5 });
    const b = new DeliveryService(busB, storeB, portB, { sweepMs: 10, readyGraceMs: 5 });
    services.push(a, b);
    a.start();
    b.start();
    const total = 600;
    for (let i = 0; i < total; i++) {
      const r = receivers[i % receivers.length];
      (i % 2 ? storeA : storeB).enqueue('boss', r, `m${i}`);
      if (i % 10 === 0) {
        for (const bus of [busA, busB]) setStatus(bus, r, i % 20 === 0 ? 'idle' : 'completed');
        await new Promise((res) => setImmediate(res));
      }
    }
    const typed = () => portA.typed.length + portB.typed.length;
    const flip = setInterval(() => {
      for (const r of receivers) for (const bus of [busA, busB]) setStatus(bus, r, Math.random() < 0.5 ? 'idle' : 'completed');
    }, 3);
    try {
      await waitFor(() => typed() >= total, 'all delivered by one hub or the other', 60_000);
    } finally {
      clearInterval(flip);
    }
    await sleep(100);
    const all = [...portA.typed, ...portB.typed];
    expect(all.length).toBe(total);
    expect(new Set(all.map((t) => t.messageId)).size).toBe(total);
    expect(portA.typed.length).toBeGreaterThan(0);
    expect(portB.typed.length).toBeGreaterThan(0);
    // The claim also keeps one message per receiver in flight, oldest first, across the two hubs.
    expect(portA.overlaps + portB.overlaps).toBe(0);
    for (const r of receivers) {
      const ids = log.filter((t) => t.terminalId === r).map((t) => t.messageId);
      expect(ids).toEqual([...ids].sort((x, y) => x - y));
    }
    expect((await storeA.listMessages({ status: 'delivered', limit: 10_000 })).length).toBe(total);
  }, 90_000);

  it('crash recovery across a closed and reopened database file', async () => {
    // Hub 1: a worker with mail, one message caught mid-typing when the hub dies.
    {
      const cao = open();
      const store = newInbox(cao);
      await store.registry.registerTerminal({ id: 'aaaaaaaa', provider: 'fake', hubId: 'hub-1', pid: 999_999 });
      await store.registry.ensureExternal('boss');
      await store.enqueue('boss', 'aaaaaaaa', 'was being typed');
      await store.enqueue('boss', 'aaaaaaaa', 'never typed');
      await store.enqueue('aaaaaaaa', 'boss', 'partial report');
      expect((await store.claimNext('aaaaaaaa'))?.body).toBe('was being typed');
      cao.close();
      opened.splice(opened.indexOf(cao), 1);
    }
    // Hub 2 opens the same file.
    const bus = createBus();
    const store = newInbox(open(), bus);
    const recovered = await store.registry.recoverAfterCrash('hub-2');
    expect(recovered).toEqual({ endedTerminals: ['aaaaaaaa'], pids: [999_999], failedMessages: 2 });
    await store.registry.registerTerminal({ id: 'bbbbbbbb', provider: 'fake', hubId: 'hub-2' });
    await store.enqueue('boss', 'bbbbbbbb', 'new work');
    const port = new FakePort(bus, ['bbbbbbbb']);
    port.statuses.set('aaaaaaaa', 'idle'); // even if something claimed to own it, it has ended
    port.statuses.set('bbbbbbbb', 'idle');
    const service = new DeliveryService(bus, store, port, { sweepMs: 20 });
    services.push(service);
    service.start();
    await waitFor(() => port.typed.length === 1, 'new hub delivers its own mail');
    await sleep(100);
    expect(port.typed.map((t) => t.body)).toEqual(['new work']);
    const old = await store.listMessages({ receiverId: 'aaaaaaaa' });
    expect(old.map((m) => [m.body, m.status, m.error])).toEqual([
      ['was being typed', 'failed', 'receiver aaaaaaaa died with the previous hub'],
      ['never typed', 'failed', 'receiver aaaaaaaa died with the previous hub'],
    ]);
    expect((await store.takeForExternal('boss', 10)).map((m) => m.body)).toEqual(['partial report']);
  });
});
