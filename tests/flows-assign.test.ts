// assign's report of a task that was never typed: one hub-wide listener that reads the message's kind from the
// inbox (nothing is remembered per task), on a real SQLite file.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createBus } from '../src/bus/bus.js';
import { openDatabase, type CaoDb } from '../src/db/db.js';
import { reportFailedTasks } from '../src/flows/assign.js';
import type { WorkerPool } from '../src/flows/workers.js';
import { MessageQueue } from '../src/inbox/messages.js';
import { TerminalRegistry } from '../src/registry/terminals.js';

let dir: string;
let cao: CaoDb;
beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'cao-flows-assign-'));
  cao = openDatabase(path.join(dir, 'cao.db'));
});
afterEach(() => {
  cao.close();
  rmSync(dir, { recursive: true, force: true });
});

function setup(worker: string, opts: { live: boolean; closing?: boolean }) {
  const bus = createBus();
  const registry = new TerminalRegistry(cao, bus);
  const inbox = new MessageQueue(registry);
  // The pool is only asked whether the worker still runs here (its ptys cannot be faked usefully).
  const pool = { closing: opts.closing ?? false, has: (id: string) => opts.live && id === worker } as unknown as WorkerPool;
  const off = reportFailedTasks({ bus, registry, inbox, pool });
  registry.ensureExternal('boss');
  registry.registerTerminal({ id: worker, profile: 'developer', creatorId: 'boss', status: 'idle' });
  return { registry, inbox, off };
}

/** Fails a message the way delivery does: three typing attempts that did not take. */
function failTyping(inbox: MessageQueue, receiver: string): void {
  for (let i = 0; i < 3; i++) {
    const m = inbox.claimNext(receiver)!;
    inbox.releaseForRetry(m.id, 'Mock Agent did not react to Enter after 3 tries', 3);
  }
}

describe('assign: a task that was never typed', () => {
  it('tells the assigner, once, with the worker, its profile and the reason; the worker is left running', () => {
    const { inbox } = setup('aaaaaaaa', { live: true });
    inbox.enqueue('boss', 'aaaaaaaa', 'write the parser', 'task');
    failTyping(inbox, 'aaaaaaaa');
    const notices = inbox.listMessages({ receiverId: 'boss' });
    expect(notices).toHaveLength(1);
    expect(notices[0]).toMatchObject({ kind: 'notice', senderId: 'aaaaaaaa', status: 'pending' });
    expect(notices[0]!.body).toBe(
      'Worker aaaaaaaa (developer) never took the task you assigned: gave up after 3 attempts: Mock Agent did not react to Enter after 3 tries. It was left running; stop it with stop_agent("aaaaaaaa").',
    );
  });

  it('says nothing for a plain message, for a worker that has ended, or while the hub shuts down', () => {
    const plain = setup('aaaaaaaa', { live: true });
    plain.inbox.enqueue('boss', 'aaaaaaaa', 'a plain message');
    failTyping(plain.inbox, 'aaaaaaaa');
    expect(plain.inbox.listMessages({ receiverId: 'boss' })).toEqual([]);
    plain.off();

    const gone = setup('bbbbbbbb', { live: false });
    gone.inbox.enqueue('boss', 'bbbbbbbb', 'a task', 'task');
    failTyping(gone.inbox, 'bbbbbbbb');
    expect(gone.inbox.listMessages({ receiverId: 'boss' })).toEqual([]);
    gone.off();

    const closing = setup('cccccccc', { live: true, closing: true });
    closing.inbox.enqueue('boss', 'cccccccc', 'a task', 'task');
    failTyping(closing.inbox, 'cccccccc');
    expect(closing.inbox.listMessages({ receiverId: 'boss' })).toEqual([]);
  });
});
