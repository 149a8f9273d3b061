import { Terminal } from '../agents/terminal.js';
import type { TerminalRow } from '../db/schema.js';
import type { MessageQueue } from '../inbox/messages.js';
import { getProvider } from '../providers/registry.js';
import { PROVIDER_IDS, type ProviderId } from '../providers/types.js';
import type { PtyHostClient } from '../ptyhost/client.js';
import type { HostTerminalInfo } from '../ptyhost/protocol.js';
import { RemotePty } from '../ptyhost/remote-pty.js';
import type { TerminalRegistry } from '../registry/terminals.js';
import { messageOf } from '../util/errors.js';
import { groupAlive, killGroup } from '../util/process.js';
import { messageTag } from './messaging.js';
import type { WorkerMeta, WorkerPool } from './workers.js';
import { logger } from '../util/log.js';

export interface AdoptDeps {
  registry: TerminalRegistry;
  inbox: MessageQueue;
  pool: WorkerPool;
  host: PtyHostClient;
}

export interface AdoptResult {
  /** Workers a previous hub started, live in the pty host, now this hub's (same process, same pid). */
  adopted: string[];
  /** Workers of a dead hub that the pty host no longer runs: ended, their mail failed with the reason. */
  ended: string[];
  /** Messages that were being typed when the previous hub died, and what became of each. */
  inFlight: { delivered: number; finished: number; requeued: number };
  ms: number;
}

/**
 * Re-adoption, at the start of a durable hub: every worker a previous hub started and the pty host still runs
 * becomes this hub's. Its screen is rebuilt from the host's image (the detector then reads the status it would
 * have read without the restart), its token is admitted again, its row passes to this hub. A message that was
 * being typed is settled by what the pty host saw of it: its Enter written → delivered; only its paste → the
 * Enter is written now → delivered; nothing → pending again, with no attempt counted. Never typed twice.
 */
export async function adoptWorkers(d: AdoptDeps): Promise<AdoptResult> {
  const started = Date.now();
  const inHost = new Map((await d.host.list()).map((i) => [i.tid, i]));
  const result: AdoptResult = { adopted: [], ended: [], inFlight: { delivered: 0, finished: 0, requeued: 0 }, ms: 0 };
  const claimed = new Set<string>();
  const live: { row: TerminalRow; info: HostTerminalInfo; token: string }[] = [];
  for (const row of await d.registry.listTerminals({ kind: 'worker' })) {
    if (row.hubId === d.pool.hubId || !d.pool.isPreviousHub(row.hubId)) continue; // ours already, or a live hub's (or another host's)
    const info = inHost.get(row.id);
    claimed.add(row.id);
    const token = (info?.meta as Partial<WorkerMeta> | null)?.token;
    // A warm spare (owned by nobody) of the previous hub is not adopted: this hub keeps its own spares.
    if (info?.alive && token && isProvider(row.provider) && row.creatorId !== null) {
      live.push({ row, info, token });
      continue;
    }
    const why = info?.exit
      ? `exited with code ${info.exit.exitCode} while no hub was running`
      : row.creatorId === null
        ? 'warm spare of a previous hub'
        : 'hub restarted';
    if (info?.alive) await d.host.request('terminate', { tid: row.id, graceMs: 500 }).catch(() => undefined);
    await d.registry.endTerminal(row.id, 'exited', why);
    await d.inbox.failInFlight(row.id, `receiver ${row.id} ${why}; a message being typed into it may have been partly typed`);
    if (info) await d.host.forget(row.id).catch(() => undefined);
    // a worker of a hub that ran its ptys itself: leftovers of its group must not outlive it
    else if (row.pid && row.pid > 1 && groupAlive(row.pid)) killGroup(row.pid, 'SIGKILL');
    result.ended.push(row.id);
  }
  // All attached at once: each waits on the host's answer and its own image, not on the others.
  await Promise.all(
    live.map(async ({ row, info, token }) => {
      try {
        const t = await attach(d, row, info, token);
        result.adopted.push(row.id);
        await settleInFlight(d, t, result.inFlight);
      } catch (e) {
        logger('hub').warn({ terminalId: row.id, error: messageOf(e) }, 'could not adopt a worker; ended');
        await d.registry.endTerminal(row.id, 'exited', `could not be adopted: ${messageOf(e)}`).catch(() => null);
        result.ended.push(row.id);
      }
    }),
  );
  // Terminals the host runs that no live row owns (their hub's row ended meanwhile): nobody can reach them.
  for (const info of inHost.values()) {
    if (claimed.has(info.tid) || !info.alive) continue;
    const row = await d.registry.getTerminal(info.tid);
    if (row && row.endedAt === null) continue;
    await d.host.request('terminate', { tid: info.tid, graceMs: 500 }).catch(() => undefined);
    await d.host.forget(info.tid).catch(() => undefined);
  }
  result.ms = Date.now() - started;
  return result;
}

/** A Terminal over the host's live terminal: its image first, then the live stream; statuses from its screen. */
async function attach(d: AdoptDeps, row: TerminalRow, info: HostTerminalInfo, token: string): Promise<Terminal> {
  const cwd = row.workingDirectory ?? process.cwd();
  let terminal: Terminal | null = null;
  const t = new Terminal({
    id: row.id,
    bus: d.pool.bus,
    provider: getProvider(row.provider as ProviderId),
    profileName: row.profile ?? 'worker',
    creatorId: row.creatorId,
    workingDirectory: cwd,
    launch: { command: '', args: [], env: {}, cwd },
    logMaxBytes: d.pool.limits.logMaxBytes,
    typingGate: d.pool.typingGate,
    ptyFactory: (_opts, onData) =>
      RemotePty.attach(d.host, row.id, onData, {
        onImage: (img) => {
          // the image is drawn for the size the host's screen has (a person may have resized it)
          if (terminal && (img.cols !== terminal.feed.screen.cols || img.rows !== terminal.feed.screen.rows))
            terminal.feed.resize(img.cols, img.rows);
          onData(img.data);
        },
      }),
  });
  terminal = t;
  await (t.pty as RemotePty).ready;
  if (t.pid !== info.pid) throw new Error(`the pty host reports pid ${t.pid}, the row ${info.pid}`);
  await d.pool.take(t, token);
  // Once the image is parsed, detections become statuses (its startup dialogs were dealt with long ago).
  await new Promise<void>((resolve) => t.feed.screen.term.write('', resolve));
  t.monitor.markStarted();
  return t;
}

/** Settles each message the previous hub was typing into `t`, by the tags the pty host recorded. */
async function settleInFlight(d: AdoptDeps, t: Terminal, counts: AdoptResult['inFlight']): Promise<void> {
  const messages = await d.inbox.inFlightFor(t.id);
  if (!messages.length) return;
  const tags = new Set((await d.host.lastTags(t.id)).map((x) => x.tag));
  for (const m of messages) {
    const tag = messageTag(m.id);
    if (tags.has(`${tag}:enter`)) {
      await d.inbox.markDelivered(m.id);
      counts.delivered++;
    } else if (tags.has(`${tag}:paste`)) {
      // pasted, never submitted: its text waits in the input box; submit it as the typing would have
      t.write(t.provider.input.submitKey, 'keys', `${tag}:enter`);
      await d.inbox.markDelivered(m.id);
      counts.finished++;
    } else {
      await d.inbox.requeue(m.id);
      counts.requeued++;
    }
  }
}

function isProvider(p: string | null): boolean {
  return p !== null && (PROVIDER_IDS as readonly string[]).includes(p);
}
