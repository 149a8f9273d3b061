import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { REPO } from './support/cao-client.js';
import { connectHttp, startServe, stopProc } from './support/http-client.js';
import { waitFor } from './support/procs.js';
import { readRecord } from './support/record.js';

const run = promisify(execFile);
const AGENTS = 10;
const SENDERS = 4;
const PER_SENDER = 500; // 2,000 messages

const home = mkdtempSync(join(tmpdir(), 'cao-stress-'));
const record = join(home, 'record.jsonl');
const cleanup: Array<() => Promise<void> | void> = [];
afterAll(async () => {
  for (const f of cleanup.reverse()) await f();
  rmSync(home, { recursive: true, force: true });
});

describe('inbox stress', () => {
  it(
    `${SENDERS * PER_SENDER} messages from ${SENDERS} processes to ${AGENTS} agents: each delivered exactly once, in per-sender order`,
    { timeout: 300_000 },
    async () => {
      const serve = await startServe(home, { CAO_MOCK_SCRIPT: JSON.stringify({ default: { answer: 'ok' } }), CAO_MOCK_RECORD: record });
      cleanup.push(() => stopProc(serve.proc));
      const boss = await connectHttp(serve.hub, 'boss');
      cleanup.push(() => boss.close());
      const ids: string[] = [];
      for (let i = 0; i < AGENTS; i++) {
        const r = await boss.call('assign', { agent_profile: 'developer', provider: 'mock', message: `warm up ${i}` });
        ids.push((r.structuredContent as { terminal_id: string }).terminal_id);
      }
      const senders = Array.from({ length: SENDERS }, (_, k) =>
        run(
          process.execPath,
          [join(REPO, 'tests', 'support', 'sender.mjs'), serve.hub.url, serve.hub.token, `sender${k}`, String(PER_SENDER), ids.join(',')],
          {
            cwd: REPO,
            maxBuffer: 1 << 20,
          },
        ),
      );
      const results = (await Promise.all(senders)).map((r) => JSON.parse(r.stdout) as { sent: number; failed: number });
      expect(results.reduce((a, r) => a + r.sent, 0)).toBe(SENDERS * PER_SENDER);

      const db = new Database(join(home, 'cao.db'), { readonly: true });
      cleanup.push(() => void db.close());
      const open = () => (db.prepare(`select count(*) as n from messages where status in ('pending','delivering')`).get() as { n: number }).n;
      await waitFor(open, (n) => n === 0, 240_000, 500);
      const states = db.prepare(`select status, count(*) as n from messages group by status`).all() as Array<{ status: string; n: number }>;
      expect(states).toEqual([{ status: 'delivered', n: SENDERS * PER_SENDER + AGENTS }]);

      // What the agents actually received, by the agent's own record (not the database's word).
      const pidToId = new Map(
        (db.prepare(`select id, pid from terminals where kind = 'worker'`).all() as Array<{ id: string; pid: number }>).map((r) => [r.pid, r.id]),
      );
      const seen = new Map<string, number>();
      const lastN = new Map<string, number>();
      for (const line of readRecord(record)) {
        if (line.event !== 'input') continue;
        const m = /stress s=(\S+) n=(\d+) r=([0-9a-f]{8})/.exec(line.text ?? '');
        if (!m) continue;
        const [, sender, nStr, receiver] = m;
        expect(pidToId.get(line.pid)).toBe(receiver); // reached the agent it was sent to
        const key = `${sender}/${nStr}`;
        seen.set(key, (seen.get(key) ?? 0) + 1);
        const chain = `${sender}->${receiver}`;
        const n = Number(nStr);
        expect(n).toBeGreaterThan(lastN.get(chain) ?? -1); // per-sender order at each receiver
        lastN.set(chain, n);
      }
      const dupes = [...seen.entries()].filter(([, c]) => c > 1);
      expect(dupes).toEqual([]);
      expect(seen.size).toBe(SENDERS * PER_SENDER);
    },
  );
});
