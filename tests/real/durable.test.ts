import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { pidsWithEnv, versionOf, withRealHub } from './support/hub.js';
import { recordTiming } from './support/timings.js';

// Durable workers with real CLIs: a real Claude Code and a real Codex worker, their ptys in the pty host, outlive a
// kill -9 of the hub daemon; the next hub (started by the same stdio front on its next call) adopts them: same
// processes, statuses read again from their rebuilt screens, and each answers a new message. Run: bash scripts/test-real.sh

const FIRST = 'DURABLE-FIRST-ANSWER-4410';
const SECOND = 'DURABLE-SECOND-ANSWER-4411';
const TURN_MS = 120_000;

describe(`durable workers: claude_code ${versionOf('claude')} and codex ${versionOf('codex')} across a kill -9 of the hub`, () => {
  it('the next hub adopts both (same pids), reads their statuses, and each answers the next message', async () => {
    // each scripted turn is answered once: one per worker and message
    const script = {
      turns: [
        { match: 'first durable task for claude_code', text: FIRST, delayMs: 300 },
        { match: 'first durable task for codex', text: FIRST, delayMs: 300 },
        { match: 'after the restart, claude_code', text: SECOND, delayMs: 300 },
        { match: 'after the restart, codex', text: SECOND, delayMs: 300 },
      ],
    };
    await withRealHub(['claude', 'codex'], 'durable', script, async (h) => {
      const ids: string[] = [];
      const providers = ['claude_code', 'codex'];
      for (const provider of providers) {
        const { terminal_id } = await h.ok<{ terminal_id: string }>('assign', {
          agent_profile: 'developer',
          provider,
          message: `do the first durable task for ${provider}`,
        });
        ids.push(terminal_id);
      }
      for (const id of ids) {
        await h.waitStatus(id, (s) => s === 'completed', TURN_MS, 'completed first turn');
        const first = await h.ok<{ output: string }>('read_output', { terminal_id: id });
        expect(first.output).toBe(FIRST);
      }
      const pids = ids.map((id) => pidsWithEnv('CAO_TERMINAL_ID', id)[0]);
      expect(pids.every((p) => p !== undefined)).toBe(true);
      const lock = path.join(h.caoHome, 'hubd.pid');
      const oldHub = Number(readFileSync(lock, 'utf8').trim());

      process.kill(oldHub, 'SIGKILL');
      const t0 = Date.now();
      // the front answers the calls the dead hub had, then connects to a new one (starting it) on the next call
      let agents: Array<{ id: string; status: string; ended: boolean }> = [];
      for (let i = 0; i < 60 && !ids.every((id) => agents.some((a) => a.id === id && !a.ended && a.status === 'completed')); i++) {
        // a call the dead hub was answering, or the first on its dead session, is answered with an error: try again
        const r = await h.call('list_agents', {}).catch(() => null);
        if (r && !r.isError) agents = (r.structuredContent as { agents: typeof agents }).agents;
        else await new Promise((res) => setTimeout(res, 500));
      }
      recordTiming('claude+codex', 'hub kill -9 → both adopted', Date.now() - t0);
      for (const id of ids) expect(agents.find((a) => a.id === id)).toMatchObject({ status: 'completed', ended: false });
      expect(Number(readFileSync(lock, 'utf8').trim())).not.toBe(oldHub);
      // the same processes, all along
      ids.forEach((id, i) => expect(pidsWithEnv('CAO_TERMINAL_ID', id)).toContain(pids[i]));

      for (const [i, id] of ids.entries()) {
        await h.ok('send_message', { receiver_id: id, message: `now, after the restart, ${providers[i]}: the second one` });
        const second = await h.ok<{ status: string; output: string }>(
          'read_output',
          { terminal_id: id, wait_seconds: TURN_MS / 1000 },
          TURN_MS + 30_000,
        );
        expect(second, JSON.stringify(second)).toMatchObject({ status: 'completed', output: SECOND });
      }
      const turns = h.fm.log.filter((e) => e.kind !== 'side');
      expect(turns.map((e) => e.answer)).toEqual([{ text: FIRST }, { text: FIRST }, { text: SECOND }, { text: SECOND }]);
    });
  });
});
