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
import { sqliteStoreOf } from '../src/store/sqlite/index.js';

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

async function setup(worker: string, opts: { live: boolean; closing?: boolean }) {
  const bus = createBus();
  const registry = new TerminalRegistry(sqliteStoreOf(cao), bus);
  const inbox = new MessageQueue(registry);
  // The pool is only asked whether the worker still runs here (its ptys cannot be faked usefully).
  const pool = { closing: opts.closing ?? false, has: (id: string) => opts.live && id === worker } as unknown as WorkerPool;
  const off = reportFailedTasks({ bus, registry, inbox, pool });
  await registry.ensureExternal('boss');
  await registry.registerTerminal({ id: worker, profile: 'developer', creatorId: 'boss', status: 'idle' });
  return { registry, inbox, off };
}

/** Fails a message the way delivery does: three typing attempts that did not take. */
async function failTyping(inbox: MessageQueue, receiver: string): Promise<void> {
  for (let i = 0; i < 3; i++) {
    const m = (await inbox.claimNext(receiver))!;
    await inbox.releaseForRetry(m.id, 'Mock Agent did not react to Enter after 3 tries', 3);
  }
  // the report is queued once the failure was announced (it reads the message and the worker first)
  await new Promise((r) => setImmediate(r));
}

describe('assign: a task that was never typed', () => {
  it('tells the assigner, once, with the worker, its profile and the reason; the worker is left running', async () => {
    const { inbox } = await setup('aaaaaaaa', { live: true });
    await inbox.enqueue('boss', 'aaaaaaaa', 'write the parser', 'task');
    await failTyping(inbox, 'aaaaaaaa');
    const notices = await inbox.listMessages({ receiverId: 'boss' });
    expect(notices).toHaveLength(1);
    expect(notices[0]).toMatchObject({ kind: 'notice', senderId: 'aaaaaaaa', status: 'pending' });
    expect(notices[0]!.body).toBe(
      'Worker aaaaaaaa (developer) never took the task you assigned: gave up after 3 attempts: Mock Agent did not react to Enter after 3 tries. It was left running; stop it with stop_agent("aaaaaaaa").',
    );
  });

  it('says nothing for a plain message, for a worker that has ended, or while the hub shuts down', async () => {
    const plain = await setup('aaaaaaaa', { live: true });
    await plain.inbox.enqueue('boss', 'aaaaaaaa', 'a plain message');
    await failTyping(plain.inbox, 'aaaaaaaa');
    expect(await plain.inbox.listMessages({ receiverId: 'boss' })).toEqual([]);
    plain.off();

    const gone = await setup('bbbbbbbb', { live: false });
    await gone.inbox.enqueue('boss', 'bbbbbbbb', 'a task', 'task');
    await failTyping(gone.inbox, 'bbbbbbbb');
    expect(await gone.inbox.listMessages({ receiverId: 'boss' })).toEqual([]);
    gone.off();

    const closing = await setup('cccccccc', { live: true, closing: true });
    await closing.inbox.enqueue('boss', 'cccccccc', 'a task', 'task');
    await failTyping(closing.inbox, 'cccccccc');
    expect(await closing.inbox.listMessages({ receiverId: 'boss' })).toEqual([]);
  });
});
