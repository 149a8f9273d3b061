/*
 * Fast turns: an agent whose busy frame and final frame arrive together must still be seen at work (frames are
 * split for that; the monitor side is in tests/turn.test.ts), and the delivery service must not wait for a status
 * event that already came while it was still confirming the submit (the Turn saw it). Neither may make a busy agent
 * look done.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createBus, type Bus } from '../src/bus/bus.js';
import { openDatabase, type CaoDb } from '../src/db/db.js';
import { Turn, type TurnHost } from '../src/agents/turn.js';
import { onTerminal } from '../src/bus/by-terminal.js';
import { DeliveryService, type DeliveryPort } from '../src/inbox/delivery.js';
import type { MessageRow } from '../src/db/schema.js';
import { MessageQueue } from '../src/inbox/messages.js';
import { TerminalRegistry } from '../src/registry/terminals.js';
import { sqliteStoreOf } from '../src/store/sqlite/index.js';
import { splitFrames } from '../src/screen/screen-feed.js';
import type { StatusCause } from '../src/status/cause.js';
import type { AgentStatus } from '../src/status/types.js';

/** The inbox on a registry, as the hub builds them (registry/terminals.ts, inbox/messages.ts). */
const newInbox = (cao: CaoDb, bus?: Bus) => new MessageQueue(new TerminalRegistry(sqliteStoreOf(cao), bus));

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
async function waitFor(cond: () => boolean | Promise<boolean>, what: string, timeoutMs = 5_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

const cleanups: Array<() => void | Promise<void>> = [];
afterEach(async () => {
  for (const f of cleanups.splice(0).reverse()) await f();
});

// ---------------------------------------------------------------- frames

describe('splitFrames', () => {
  it('cuts before each frame start and loses nothing', () => {
    const chunk = 'a\x1b[?2026hb\r\x1b[3A\x1b[Jc\x1b[2K\x1b[1A\x1b[2K\x1b[1A\x1b[2K\x1b[Gd\x1b[2Je';
    const parts = splitFrames(chunk);
    expect(parts.join('')).toBe(chunk);
    expect(parts).toEqual(['a', '\x1b[?2026hb\r\x1b[3A', '\x1b[Jc', '\x1b[2K\x1b[1A\x1b[2K\x1b[1A\x1b[2K\x1b[Gd', '\x1b[2Je']);
  });
  it('leaves a chunk without frame starts whole', () => {
    expect(splitFrames('plain text\r\n')).toEqual(['plain text\r\n']);
    expect(splitFrames('\x1b[Jonly')).toEqual(['\x1b[Jonly']);
  });
});

// The monitor's input guard with a fast agent (busy frame and final frame in one read, a redraw without a busy
// frame, a busy agent drawn frame by frame) is unit-tested on a fake clock in tests/turn.test.ts.

// ---------------------------------------------------------------- delivery

const SUBMITTED = (turn: number): StatusCause => ({ kind: 'input-submitted', turn });
const DETECTED: StatusCause = { kind: 'detected' };

/** A hub's terminals as the delivery service sees them: each submit returns a real Turn over a faked terminal. */
class Port implements DeliveryPort {
  readonly statuses = new Map<string, AgentStatus>([['aaaaaaaa', 'idle']]);
  readonly typed: number[] = [];
  private turns = 0;
  private submittedTurn = 0;
  constructor(
    private readonly bus: Bus,
    /** What the agent does while we type: the statuses the monitor publishes, with their causes (`turn` → this turn). */
    private readonly duringTyping: Array<[AgentStatus, StatusCause | 'turn']>,
  ) {
    bus.on('status', (e) => this.statuses.set(e.terminalId, e.status));
  }
  status(id: string) {
    return this.statuses.get(id);
  }
  async submit(id: string, m: MessageRow) {
    const statuses = this.statuses;
    const submitted = () => this.submittedTurn;
    const host: TurnHost = {
      id,
      get status() {
        return statuses.get(id)!;
      },
      get submittedTurn() {
        return submitted();
      },
      exitInfo: null,
      pendingQuestion: () => null,
      onStatus: (fn) => onTerminal(this.bus, 'status', id, fn),
    };
    const turn = new Turn(host, ++this.turns);
    for (const [status, how] of this.duringTyping) {
      const cause = how === 'turn' ? SUBMITTED(turn.number) : how;
      if (cause.kind === 'input-submitted') this.submittedTurn = cause.turn;
      this.bus.emit('status', { terminalId: id, status, previous: this.statuses.get(id)!, at: Date.now(), cause });
      await sleep(5);
    }
    this.typed.push(m.id);
    return turn;
  }
}

async function deliveryRig(duringTyping: Array<[AgentStatus, StatusCause | 'turn']>) {
  const dir = mkdtempSync(path.join(tmpdir(), 'cao-perf-delivery-'));
  const db: CaoDb = openDatabase(path.join(dir, 'cao.db'));
  const bus = createBus();
  const store = newInbox(db, bus);
  await store.registry.registerTerminal({ id: 'aaaaaaaa', provider: 'fake', hubId: 'hub-1', pid: 1 });
  await store.registry.ensureExternal('boss');
  const port = new Port(bus, duringTyping);
  const service = new DeliveryService(bus, store, port, { sweepMs: 20, readyGraceMs: 60_000 });
  cleanups.push(async () => {
    await service.stop();
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return { store, port, service };
}

describe('DeliveryService with a fast agent', () => {
  it('a turn that ended before typing returned (ready after its input-submitted status) frees the receiver at once', async () => {
    const { store, port, service } = await deliveryRig([
      ['processing', 'turn'],
      ['completed', DETECTED],
    ]);
    for (let i = 0; i < 3; i++) await store.enqueue('boss', 'aaaaaaaa', `m${i}`);
    const t0 = Date.now();
    service.start();
    await waitFor(() => port.typed.length === 3, 'three deliveries', 3000);
    expect(Date.now() - t0).toBeLessThan(2000); // readyGraceMs is a minute: it was never waited for
  });

  it('a ready status that came before the submit (a paste echo) still holds the next message', async () => {
    const { store, port, service } = await deliveryRig([
      ['processing', DETECTED],
      ['idle', DETECTED],
    ]);
    for (let i = 0; i < 2; i++) await store.enqueue('boss', 'aaaaaaaa', `m${i}`);
    service.start();
    await waitFor(() => port.typed.length === 1, 'first delivery');
    await sleep(200);
    expect(port.typed).toHaveLength(1);
  });
});
