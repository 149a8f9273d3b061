import type { Bus } from '../bus/bus.js';
import { submitTurn, type Turn } from '../agents/turn.js';
import type { MessageRow } from '../db/schema.js';
import type { MessageQueue } from '../inbox/messages.js';
import type { TerminalRegistry } from '../registry/terminals.js';
import { isReady } from '../status/types.js';
import { CaoError } from '../util/errors.js';
import { describeCaller, waitSeconds } from './checks.js';
import type { Caller, InboxMessage, InboxRequest, SendRequest, SendResult } from './types.js';
import type { WorkerPool } from './workers.js';
import { logger } from '../util/log.js';

export interface MessagingDeps {
  bus: Bus;
  registry: TerminalRegistry;
  inbox: MessageQueue;
  pool: WorkerPool;
}

/** send_message: into the receiver's inbox (default: the caller's creator); delivered when the receiver is ready. */
export async function sendMessage(d: MessagingDeps, caller: Caller, req: SendRequest): Promise<SendResult> {
  let receiver = req.receiverId?.trim();
  if (!receiver) {
    receiver = (await d.registry.getTerminal(caller.id))?.creatorId ?? undefined;
    if (!receiver)
      throw new CaoError(
        'bad_request',
        `receiver_id is required: ${describeCaller(caller)} was not started by cao-mcp, so it has no creator to report to`,
      );
  }
  const row = await d.inbox.enqueueSoon(caller.id, receiver, req.message);
  return { messageId: row.id, receiverId: receiver };
}

/**
 * read_inbox. An external supervisor takes its pending messages (marking them delivered), waiting up to
 * `waitSeconds` for a first one; a worker, whose messages are typed into it, sees its history.
 */
export async function readInbox(d: MessagingDeps, caller: Caller, req: InboxRequest, signal?: AbortSignal): Promise<InboxMessage[]> {
  const limit = Math.min(Math.max(1, req.limit ?? 20), 200);
  const waitSec = waitSeconds(req.waitSeconds);
  if (caller.kind === 'worker') return (await d.inbox.listMessages({ receiverId: caller.id, order: 'desc', limit })).map(inboxMessage);
  const rows = await d.inbox.takeForExternal(caller.id, limit);
  if (rows.length || waitSec === 0) return rows.map(inboxMessage);
  await new Promise<void>((resolveWait) => {
    const timer = setTimeout(done, waitSec * 1000);
    function done() {
      clearTimeout(timer);
      d.bus.off('message:queued', onQueued);
      d.bus.off('mail:arrived', onQueued);
      signal?.removeEventListener('abort', done);
      resolveWait();
    }
    // stored here, or by another hub on the same PostgreSQL (a wake-up from the database)
    const onQueued = (e: { receiverId: string }) => {
      if (e.receiverId === caller.id) done();
    };
    d.bus.on('message:queued', onQueued);
    d.bus.on('mail:arrived', onQueued);
    signal?.addEventListener('abort', done, { once: true });
  });
  return (await d.inbox.takeForExternal(caller.id, limit)).map(inboxMessage);
}

/** A notice from cao-mcp itself about `aboutId` into someone's inbox (kind `notice`); never throws. */
export async function notify(d: MessagingDeps, receiverId: string, aboutId: string, text: string): Promise<void> {
  try {
    await d.inbox.enqueue(aboutId, receiverId, text, 'notice');
  } catch (e) {
    logger('flows').warn({ receiverId, aboutId, error: (e as Error).message }, 'could not queue a notice');
  }
}

/** How a queued message looks when it is typed into a worker. */
export async function formatForTyping(registry: TerminalRegistry, m: MessageRow): Promise<string> {
  if (m.kind === 'task') return m.body;
  if (m.kind === 'notice') return `[cao-mcp notice about terminal ${m.senderId}]\n${m.body}`;
  // a terminal's kind and profile never change: the row this hub last saw will do (no read between claim and paste)
  const from = registry.cached(m.senderId) ?? (await registry.getTerminal(m.senderId));
  const who = from?.kind === 'worker' ? `terminal ${m.senderId} (${from.profile})` : `supervisor ${m.senderId}`;
  return `[Message from ${who}]\n${m.body}\n\n[To reply, use the send_message tool with receiver_id "${m.senderId}".]`;
}

/** Types one inbox message into a worker (the delivery service's port); resolves with the turn it started. */
export async function typeMessage(d: MessagingDeps, terminalId: string, m: MessageRow): Promise<Turn> {
  const t = d.pool.get(terminalId);
  if (!t) throw new Error(`terminal ${terminalId} is not running in this hub`);
  if (!isReady(t.status)) throw new Error(`terminal ${terminalId} is ${t.status}`);
  // Tagged with the message id: a hub that dies while typing it leaves in the pty host how far the typing got.
  const text = await formatForTyping(d.registry, m);
  if (!isReady(t.status)) throw new Error(`terminal ${terminalId} is ${t.status}`);
  return submitTurn(t, text, { tag: messageTag(m.id) });
}

/** The label of a message's writes into a pty (`m42:paste`, `m42:enter`). */
export const messageTag = (id: number) => `m${id}`;

export function inboxMessage(m: MessageRow): InboxMessage {
  return {
    id: m.id,
    senderId: m.senderId,
    receiverId: m.receiverId,
    kind: m.kind,
    body: m.body,
    status: m.status,
    error: m.error,
    attempts: m.attempts,
    createdAt: m.createdAt,
    deliveredAt: m.deliveredAt,
  };
}
