import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { REPO } from './support/cao-client.js';
import { connectHttp, startServe, stopProc } from './support/http-client.js';
import { pidsWithEnv, waitFor } from './support/procs.js';
import { readRecord } from './support/record.js';

const home = mkdtempSync(join(tmpdir(), 'cao-crash-'));
const record = join(home, 'record.jsonl');
const SCRIPT = { default: { answer: 'ok', delayMs: 150 } };
const cleanup: Array<() => unknown> = [];
afterAll(async () => {
  for (const f of cleanup.reverse()) await f();
  rmSync(home, { recursive: true, force: true });
});

describe('hub crash (kill -9) in the middle of deliveries', () => {
  it('delivers nothing twice, fails mail to workers that died with the hub, keeps mail to external supervisors', { timeout: 180_000 }, async () => {
    const env = { CAO_MOCK_SCRIPT: JSON.stringify(SCRIPT), CAO_MOCK_RECORD: record };
    const first = await startServe(home, env);
    cleanup.push(() => stopProc(first.proc, 'SIGKILL'));
    const boss = await connectHttp(first.hub, 'boss');
    const alice = await connectHttp(first.hub, 'alice');
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const r = await boss.call('assign', { agent_profile: 'developer', provider: 'mock', message: `warm up ${i}` });
      ids.push((r.structuredContent as { terminal_id: string }).terminal_id);
    }
    // Mail to the external supervisor "boss": only ever read through read_inbox.
    for (let i = 0; i < 20; i++) await alice.call('send_message', { receiver_id: 'boss', message: `for boss ${i}` });
    // A sender process floods the workers; the hub is killed while deliveries are in flight.
    const sender = spawn(
      process.execPath,
      [join(REPO, 'tests', 'support', 'sender.mjs'), first.hub.url, first.hub.token, 'flood', '600', ids.join(',')],
      {
        stdio: 'ignore',
      },
    );
    cleanup.push(() => sender.kill('SIGKILL'));
    await waitFor(
      () => readRecord(record).filter((r) => r.event === 'input' && /stress/.test(r.text ?? '')).length,
      (n) => n >= 10,
      60_000,
      100,
    );
    first.proc.kill('SIGKILL');
    await new Promise((r) => first.proc.once('exit', r));
    sender.kill('SIGKILL');
    await boss.close();
    await alice.close();

    const second = await startServe(home, env);
    cleanup.push(() => stopProc(second.proc));
    // Every process of the dead hub's workers is gone (SIGHUP, or killed by the new hub's recovery).
    for (const id of ids)
      expect(
        await waitFor(
          () => pidsWithEnv('CAO_TERMINAL_ID', id),
          (p) => p.length === 0,
          10_000,
        ),
      ).toEqual([]);

    const db = new Database(join(home, 'cao.db'), { readonly: true });
    cleanup.push(() => db.close());
    const toWorkers = db
      .prepare(`select id, body, status, error from messages where receiver_id in (${ids.map(() => '?').join(',')})`)
      .all(...ids) as Array<{ id: number; body: string; status: string; error: string | null }>;
    expect(toWorkers.filter((m) => m.status === 'pending' || m.status === 'delivering')).toEqual([]);
    const failed = toWorkers.filter((m) => m.status === 'failed');
    expect(failed.length).toBeGreaterThan(0);
    for (const m of failed) expect(m.error).toMatch(/died with the previous hub/);
    const workers = db.prepare(`select id, status, ended_at from terminals where kind = 'worker'`).all() as Array<{
      status: string;
      ended_at: number | null;
    }>;
    for (const w of workers) expect(w.ended_at).not.toBeNull();

    // No message was typed twice: count by what the agents recorded.
    const typed = readRecord(record)
      .filter((r) => r.event === 'input')
      .map((r) => /stress s=\S+ n=(\d+)/.exec(r.text ?? '')?.[1])
      .filter(Boolean);
    expect(new Set(typed).size).toBe(typed.length);
    const delivered = toWorkers.filter((m) => m.status === 'delivered' && m.body.startsWith('stress')).length;
    expect(typed.length).toBeGreaterThanOrEqual(delivered);

    // The external supervisor's mail survived the crash and is readable from the new hub.
    const boss2 = await connectHttp(second.hub, 'boss');
    cleanup.push(() => boss2.close());
    const inbox = await boss2.call('read_inbox', { limit: 100 });
    const bodies = (inbox.structuredContent as { messages: Array<{ body: string }> }).messages.map((m) => m.body);
    expect(bodies.filter((b) => b.startsWith('for boss'))).toEqual(Array.from({ length: 20 }, (_, i) => `for boss ${i}`));
  });
});
