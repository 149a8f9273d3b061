// Durable hub (issue 13): the workers' ptys live in the pty host, so a hub killed -9 in the middle of a message
// storm loses nothing: the next hub adopts every worker (same process), delivers every message exactly once
// (counted from what the agents recorded) and detection goes on. A kill -9 of the pty host ends every worker.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { CLI, REPO, stopEverything } from './support/cao-client.js';
import { connectHttp, hubRecords, startHubProcess, stopProc, type HttpCaller, type HubInfo } from './support/http-client.js';
import { pidAlive, pidsWithEnv, waitFor } from './support/procs.js';
import { readRecord } from './support/record.js';
import { logText } from './support/logs.js';

const home = mkdtempSync(join(tmpdir(), 'cao-durable-adopt-'));
const record = join(home, 'record.jsonl');
const SCRIPT = { rules: [{ match: 'answer me', answer: 'ANSWERED-AFTER-ADOPTION' }], default: { answer: 'ok', delayMs: 30 } };
const env = { CAO_MOCK_SCRIPT: JSON.stringify(SCRIPT), CAO_MOCK_RECORD: record, CAO_HUB_IDLE_SECONDS: '300', CAO_PTYHOST_IDLE_SECONDS: '60' };
const cleanup: Array<() => unknown> = [];
afterAll(async () => {
  for (const f of cleanup.reverse()) await f();
  stopEverything(home); // and the pty host
  rmSync(home, { recursive: true, force: true });
});

/** Starts `cao-mcp hub` (the durable daemon) and waits for its record. */
async function startDaemon(): Promise<{ proc: ChildProcess; hub: HubInfo; stderr: () => string }> {
  const d = await startHubProcess(home, ['hub'], env);
  cleanup.push(() => stopProc(d.proc, 'SIGKILL'));
  return d;
}

const db = () => {
  const d = new Database(join(home, 'cao.db'), { readonly: true });
  cleanup.push(() => d.close());
  return d;
};
type Row = { id: number; body: string; status: string; error: string | null };
const messagesTo = (ids: string[]): Row[] =>
  db()
    .prepare(`select id, body, status, error from messages where receiver_id in (${ids.map(() => '?').join(',')})`)
    .all(...ids) as Row[];
const typedStress = () =>
  readRecord(record)
    .filter((r) => r.event === 'input')
    .map((r) => /stress s=\S+ n=(\d+) r=(\w+)/.exec(r.text ?? ''))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => `${m[2]}:${m[1]}`);
const ptyHostPid = () => Number((JSON.parse(readFileSync(join(home, 'ptyhost.groups.json'), 'utf8')) as { host: number }).host);

describe('durable hub: re-adoption from the pty host', () => {
  const ids: string[] = [];
  const pids = new Map<string, number>();
  let boss: HttpCaller;

  it(
    'kill -9 of the hub during a storm of 1,000 messages to 5 workers: same processes, every message delivered exactly once, none failed',
    { timeout: 300_000 },
    async () => {
      const first = await startDaemon();
      boss = await connectHttp(first.hub, 'boss');
      for (let i = 0; i < 5; i++) {
        const r = await boss.call('assign', { agent_profile: 'developer', provider: 'mock', message: `warm up ${i}` });
        expect(r.isError, JSON.stringify(r.content)).toBeFalsy();
        ids.push((r.structuredContent as { terminal_id: string }).terminal_id);
      }
      for (const id of ids) {
        const [pid] = await waitFor(
          () => pidsWithEnv('CAO_TERMINAL_ID', id),
          (p) => p.length > 0,
          20_000,
        );
        pids.set(id, pid!);
      }
      const sender = spawn(
        process.execPath,
        [join(REPO, 'tests', 'support', 'sender.mjs'), first.hub.url, first.hub.token, 'flood', '1000', ids.join(',')],
        {
          stdio: 'ignore',
        },
      );
      cleanup.push(() => sender.kill('SIGKILL'));
      // every message stored (the sender is done), deliveries still going: then the hub dies
      await new Promise((r) => sender.once('exit', r));
      await waitFor(typedStress, (t) => t.length >= 40, 120_000, 100);
      expect(typedStress().length).toBeLessThan(900);
      first.proc.kill('SIGKILL');
      await new Promise((r) => first.proc.once('exit', r));
      sender.kill('SIGKILL');
      await boss.close();
      const stored = messagesTo(ids).filter((m) => m.body.startsWith('stress'));
      expect(stored.length).toBe(1000);

      const second = await startDaemon();
      cleanup.push(() => stopProc(second.proc));
      const adoptedLine = await waitFor(
        () => logText(home, 'hub.log', second.proc.pid),
        (t) => /adopted 5 worker\(s\) from the pty host/.test(t),
        5000,
      );
      // a message the dead hub had claimed but not typed is back in the queue, and the journal says so, once each
      const requeued = Number(/(\d+) requeued\)/.exec(adoptedLine)![1]);
      const requeuedRows = await waitFor(
        () => db().prepare(`select detail from journal where type = 'message.requeued'`).all() as { detail: string }[],
        (r) => r.length >= requeued,
        10_000,
      );
      expect(requeuedRows).toHaveLength(requeued);
      for (const r of requeuedRows) expect(JSON.parse(r.detail)).toMatchObject({ why: 'adoption' });
      // the warm spare the first hub kept (after the first assign) is not adopted: ended, its process gone
      const spares = db().prepare(`select id, ended_at, last_error from terminals where kind = 'worker' and creator_id is null`).all() as Array<{
        id: string;
        ended_at: number | null;
        last_error: string | null;
      }>;
      expect(spares).toHaveLength(1);
      expect(spares[0]).toMatchObject({ last_error: 'warm spare of a previous hub' });
      expect(spares[0]!.ended_at).not.toBeNull();
      expect(
        await waitFor(
          () => pidsWithEnv('CAO_TERMINAL_ID', spares[0]!.id),
          (p) => p.length === 0,
          10_000,
        ),
      ).toEqual([]);
      // the same worker processes, all along
      for (const id of ids) expect(pidsWithEnv('CAO_TERMINAL_ID', id)).toContain(pids.get(id));
      // every stored message reaches its worker, none fails
      const settled = await waitFor(
        () => messagesTo(ids).filter((m) => m.body.startsWith('stress')),
        (rows) => rows.every((m) => m.status === 'delivered' || m.status === 'failed'),
        180_000,
        250,
      );
      expect(settled.filter((m) => m.status !== 'delivered')).toEqual([]);
      expect(settled.length).toBe(stored.length);
      // exactly once, counted from what the agents recorded
      const typed = typedStress();
      expect(new Set(typed).size).toBe(typed.length);
      expect(typed.length).toBe(settled.length);

      // detection resumes: an adopted worker answers a new message, and read_output sees the turn end
      boss = await connectHttp(second.hub, 'boss');
      cleanup.push(() => boss.close());
      const sent = await boss.call('send_message', { receiver_id: ids[0]!, message: 'answer me' });
      expect(sent.isError, JSON.stringify(sent.content)).toBeFalsy();
      const out = await boss.call('read_output', { terminal_id: ids[0]!, wait_seconds: 30 }, 60_000);
      expect(out.structuredContent).toMatchObject({ status: 'completed', output: 'ANSWERED-AFTER-ADOPTION' });
    },
  );

  it('cao-mcp stop --keep-workers (an upgrade): the hub ends, its workers run on, and the next hub adopts them', { timeout: 120_000 }, async () => {
    const running = hubRecords(home).find((r) => (r as { mode?: string }).mode === 'daemon' && pidAlive(r.pid))!;
    const out = execFileSync(process.execPath, [CLI, 'stop', '--keep-workers'], { env: { ...process.env, CAO_HOME: home }, encoding: 'utf8' });
    expect(out).toMatch(new RegExp(`stopped: daemon hub, pid ${running.pid}, .* \\(its workers run on\\)`));
    for (const id of ids) expect(pidsWithEnv('CAO_TERMINAL_ID', id)).toContain(pids.get(id));
    const rows = db().prepare(`select count(*) as n from terminals where kind = 'worker' and ended_at is null`).get() as { n: number };
    expect(rows.n).toBe(5);
    const next = await startDaemon();
    cleanup.push(() => stopProc(next.proc));
    await waitFor(
      () => logText(home, 'hub.log', next.proc.pid),
      (t) => /adopted 5 worker\(s\) from the pty host/.test(t),
      5000,
    );
    await boss.close();
    boss = await connectHttp(next.hub, 'boss');
    cleanup.push(() => boss.close());
    await boss.call('send_message', { receiver_id: ids[1]!, message: 'answer me' });
    const answer = await boss.call('read_output', { terminal_id: ids[1]!, wait_seconds: 30 }, 60_000);
    expect(answer.structuredContent).toMatchObject({ status: 'completed', output: 'ANSWERED-AFTER-ADOPTION' });
  });

  it(
    'kill -9 of the pty host: every worker process is gone, their undelivered mail failed with a reason, and the next start is clean',
    { timeout: 120_000 },
    async () => {
      expect(ids.length).toBe(5);
      const hostPid = ptyHostPid();
      process.kill(hostPid, 'SIGKILL');
      for (const id of ids)
        expect(
          await waitFor(
            () => pidsWithEnv('CAO_TERMINAL_ID', id),
            (p) => p.length === 0,
            15_000,
          ),
        ).toEqual([]);
      const rows = db().prepare(`select id, status, ended_at, last_error from terminals where kind = 'worker'`).all() as Array<{
        id: string;
        status: string;
        ended_at: number | null;
        last_error: string | null;
      }>;
      const ended = await waitFor(
        () =>
          // (a warm spare a previous hub left is ended already, with its own reason)
          rows
            .filter((r) => ids.includes(r.id))
            .map(
              (r) =>
                db().prepare('select ended_at, last_error from terminals where id = ?').get(r.id) as {
                  ended_at: number | null;
                  last_error: string | null;
                },
            ),
        (all) => all.every((r) => r.ended_at !== null),
        10_000,
      );
      for (const r of ended) expect(r.last_error).toMatch(/the pty host went away/);
      // every assign a hub began is closed in the journal, across a kill -9 and a --keep-workers restart: one start, one end
      const delegations = () =>
        db().prepare(`select terminal_id as id, type from journal where type in ('assign.started', 'assign.ended') order by id`).all() as {
          id: string;
          type: string;
        }[];
      const journalled = await waitFor(
        delegations,
        (rows) => rows.filter((r) => r.type === 'assign.ended' && ids.includes(r.id)).length >= 5,
        10_000,
      );
      for (const id of ids) expect(journalled.filter((r) => r.id === id).map((r) => r.type)).toEqual(['assign.started', 'assign.ended']);
      // the clean stop of the second hub is journalled, the kill -9 of the first is not
      const stops = db().prepare(`select detail from journal where type = 'hub.stopped'`).all() as { detail: string }[];
      expect(stops).toHaveLength(1);
      expect(JSON.parse(stops[0]!.detail)).toMatchObject({ keepWorkers: true });
      expect(JSON.parse(stops[0]!.detail).workers).toBeGreaterThanOrEqual(5);
      // nothing left pending or in flight to them
      expect(messagesTo(ids).filter((m) => m.status === 'pending' || m.status === 'delivering')).toEqual([]);
      // the hub starts a new pty host for the next worker
      const r = await boss.call('assign', { agent_profile: 'developer', provider: 'mock', message: 'answer me' });
      expect(r.isError, JSON.stringify(r.content)).toBeFalsy();
      const id = (r.structuredContent as { terminal_id: string }).terminal_id;
      const out = await boss.call('read_output', { terminal_id: id, wait_seconds: 30 }, 60_000);
      expect(out.structuredContent).toMatchObject({ output: 'ANSWERED-AFTER-ADOPTION' });
      expect(ptyHostPid()).not.toBe(hostPid);
    },
  );
});
