// Real Claude Code and Codex workers (issue 14): one handoff in a git worktree of the project, then a cold and a warm
// handoff; the warm one must be served by the spare and answer exactly its own task. Run: bash scripts/test-real.sh
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { PROVIDER_OF, textOf, versionOf, withRealHub, type RealHub } from './support/hub.js';
import { recordTiming } from './support/timings.js';
import type { AnyCli } from '../support/real-clis/index.js';

interface Handoff {
  success: boolean;
  output: string;
  terminal_id: string;
  message: string;
  warm: boolean;
  duration_ms: number;
  worktree: { path: string; branch: string; state: string; files_changed: number } | null;
}

const git = (cwd: string, ...args: string[]) => execFileSync('git', args, { cwd, encoding: 'utf8' }).trim();

async function handoff(h: RealHub, provider: string, message: string, extra: Record<string, unknown> = {}): Promise<Handoff> {
  const r = await h.call('handoff', { agent_profile: 'developer', provider, message, ...extra }, 240_000);
  expect(r.isError, textOf(r)).toBeFalsy();
  const sc = r.structuredContent as unknown as Handoff;
  expect(sc.success, sc.message).toBe(true);
  return sc;
}

/** The model requests whose last user text holds `needle`, as JSON text. */
const requestsFor = (h: RealHub, needle: string) => h.fm.requests.map((r) => JSON.stringify(r.body ?? '')).filter((b) => b.includes(needle));

for (const cli of ['claude', 'codex'] as AnyCli[]) {
  const provider = PROVIDER_OF[cli];
  describe(`${provider} on the real ${cli} ${versionOf(cli)}: worktrees and warm workers`, () => {
    it(`${provider}: a handoff in a worktree runs there; a warm handoff answers exactly its own task`, async () => {
      const script = {
        turns: [
          { match: 'worktree task', text: `TREE-${cli}`, delayMs: 300 },
          { match: 'first task', text: `FIRST-${cli}`, delayMs: 300 },
          { match: 'second task', text: `SECOND-${cli}`, delayMs: 300 },
        ],
      };
      await withRealHub(
        [cli],
        `${cli}-worktree-warm`,
        script,
        async (h) => {
          writeFileSync(path.join(h.project, 'README.md'), '# project\n');
          git(h.project, 'init', '-q', '-b', 'main');
          git(h.project, 'add', '.');
          git(h.project, '-c', 'user.name=T', '-c', 'user.email=t@example.com', 'commit', '-qm', 'init');

          // 1. in a new worktree (a folder the CLI has never seen: its trust dialog is answered by cao-mcp)
          const tree = await handoff(h, provider, 'do the worktree task', { worktree: true });
          expect(tree.output).toBe(`TREE-${cli}`);
          expect(tree.worktree).toMatchObject({ branch: `cao/developer-${tree.terminal_id}`, state: 'removed', files_changed: 0 });
          // the CLI ran in the worktree: its request to the model names that folder as its working directory
          expect(requestsFor(h, 'worktree task').some((b) => b.includes(tree.worktree!.path))).toBe(true);
          expect(git(h.project, 'branch', '--list', tree.worktree!.branch)).toBe('');

          // 2. cold, then 3. warm: the spare kept after the cold one takes the next task
          const cold = await handoff(h, provider, 'do the first task');
          expect(cold).toMatchObject({ output: `FIRST-${cli}`, warm: false });
          const until = Date.now() + 120_000;
          while (!(await h.agents()).some((a) => (a as unknown as { warm?: boolean }).warm && a.status === 'idle')) {
            if (Date.now() > until) throw new Error('no warm spare became ready');
            await new Promise((r) => setTimeout(r, 300));
          }
          // (three lines: a bracketed paste of several lines, then Enter 50 ms later, must submit it whole)
          const warm = await handoff(h, provider, 'do the second task\nthe second line of it\nand its third line');
          recordTiming(cli, 'handoff cold', cold.duration_ms);
          recordTiming(cli, 'handoff warm', warm.duration_ms);
          expect(warm).toMatchObject({ output: `SECOND-${cli}`, warm: true });
          expect(warm.terminal_id).not.toBe(cold.terminal_id);
          // nothing of the previous task reached the warm worker's model
          const seen = requestsFor(h, 'second task');
          expect(seen.length).toBeGreaterThan(0);
          expect(seen.some((b) => b.includes('the second line of it') && b.includes('and its third line'))).toBe(true);
          for (const b of seen) {
            expect(b).not.toContain('first task');
            expect(b).not.toContain(`FIRST-${cli}`);
          }
          const turns = h.fm.log.filter((e) => e.kind !== 'side');
          expect(turns.map((e) => e.answer)).toEqual([{ text: `TREE-${cli}` }, { text: `FIRST-${cli}` }, { text: `SECOND-${cli}` }]);
        },
        { env: { CAO_WARM_POOL: '1' } },
      );
    });
  });
}
