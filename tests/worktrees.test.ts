// Workers in git worktrees: real `cao-mcp serve`, real git repositories in temp folders, the mock agent CLI editing
// files and committing in its working directory, over real MCP clients (Streamable HTTP).
import { execFileSync, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI } from './support/cao-client.js';
import { connectHttp, startServe, stopProc, type HttpCaller, type HubInfo } from './support/http-client.js';
import { waitFor } from './support/procs.js';

const SCRIPT = {
  rules: [
    // commits its change
    {
      match: 'edit and commit',
      writes: [{ path: 'shared.txt', content: 'changed and committed\n' }],
      commands: [['git', 'commit', '-qam', 'worker commit']],
      answer: 'COMMITTED',
    },
    // leaves its change uncommitted, plus a new file
    {
      match: 'edit only',
      writes: [
        { path: 'shared.txt', content: 'edited, not committed\n' },
        { path: 'new.txt', content: 'a\nb\n' },
      ],
      answer: 'EDITED',
    },
    { match: 'write ignored', writes: [{ path: 'build/out.o', content: 'object\n' }], answer: 'BUILT' },
    { match: 'slow edit', delayMs: 1500, writes: [{ path: 'shared.txt', content: 'slow change\n' }], answer: 'SLOW-DONE' },
  ],
  default: { answer: 'NOTHING-CHANGED' },
};

let home: string;
let repo: string;
let serve: { proc: ChildProcess; hub: HubInfo; stderr: () => string };
let c: HttpCaller;

const git = (cwd: string, ...args: string[]) => execFileSync('git', args, { cwd, encoding: 'utf8' }).trim();
const json = (r: { structuredContent?: unknown }) => r.structuredContent as Record<string, any>;
const textOf = (r: { content: unknown }) => (r.content as { type: string; text: string }[]).map((x) => x.text).join('\n');

function makeRepo(dir: string): string {
  mkdirSync(dir, { recursive: true });
  git(dir, 'init', '-q', '-b', 'main');
  git(dir, 'config', 'user.email', 'test@example.com');
  git(dir, 'config', 'user.name', 'Test');
  writeFileSync(path.join(dir, 'shared.txt'), 'original\n');
  writeFileSync(path.join(dir, '.gitignore'), 'build/\n');
  git(dir, 'add', '.');
  git(dir, 'commit', '-qm', 'init');
  return dir;
}

beforeAll(async () => {
  home = mkdtempSync(path.join(tmpdir(), 'cao-worktrees-'));
  repo = makeRepo(path.join(home, 'repo'));
  // Warm spares are off here: this file is about worktrees (tests/warm.test.ts is about spares).
  serve = await startServe(path.join(home, 'cao'), { CAO_MOCK_SCRIPT: JSON.stringify(SCRIPT), CAO_WARM_POOL: '0' });
  c = await connectHttp(serve.hub, 'boss');
});
afterAll(async () => {
  await c?.close();
  if (serve) await stopProc(serve.proc);
  rmSync(home, { recursive: true, force: true });
});

const base = { agent_profile: 'developer', provider: 'mock', working_directory: '' };
const worker = (extra: Record<string, unknown>) => ({ ...base, working_directory: repo, ...extra });

async function agent(id: string): Promise<Record<string, any>> {
  const all = json(await c.call('list_agents', { include_ended: true })).agents as Record<string, any>[];
  return all.find((a) => a.id === id)!;
}

describe('worktrees', () => {
  it('two parallel assigned workers change the same file in their own worktrees, without conflict; both branches are reported', async () => {
    const [a, b] = await Promise.all([
      c.call('assign', worker({ message: 'edit and commit A', worktree: true })),
      c.call('assign', worker({ message: 'slow edit B', worktree: 'feature/b' })),
    ]);
    expect(a.isError, textOf(a)).toBeFalsy();
    expect(b.isError, textOf(b)).toBeFalsy();
    const wa = json(a).worktree;
    const wb = json(b).worktree;
    expect(wa).toMatchObject({ state: 'active', branch: `cao/developer-${json(a).terminal_id}`, base_commit: git(repo, 'rev-parse', 'HEAD') });
    expect(wb).toMatchObject({ state: 'active', branch: 'feature/b' });
    expect(wa.path).not.toBe(wb.path);
    // outside the checkout: the user's own builds and searches never walk into them
    expect(wa.path.startsWith(repo)).toBe(false);
    await waitFor(
      () => (existsSync(path.join(wb.path, 'shared.txt')) ? readFileSync(path.join(wb.path, 'shared.txt'), 'utf8') : ''),
      (t) => t === 'slow change\n',
      20_000,
    );
    await waitFor(
      () => git(wa.path, 'log', '-1', '--format=%s'),
      (s) => s === 'worker commit',
      20_000,
    );
    expect(readFileSync(path.join(wa.path, 'shared.txt'), 'utf8')).toBe('changed and committed\n');
    expect(readFileSync(path.join(repo, 'shared.txt'), 'utf8')).toBe('original\n'); // the caller's checkout is untouched
    // each worker ran inside its own worktree
    expect((await agent(json(a).terminal_id)).working_directory).toBe(wa.path);

    await c.call('stop_agent', { terminal_id: json(a).terminal_id });
    await c.call('stop_agent', { terminal_id: json(b).terminal_id });
    const ea = await waitFor(
      () => agent(json(a).terminal_id),
      (x) => x.worktree?.state !== 'active',
      20_000,
    );
    const eb = await waitFor(
      () => agent(json(b).terminal_id),
      (x) => x.worktree?.state !== 'active',
      20_000,
    );
    expect(ea.worktree).toMatchObject({
      state: 'kept',
      files_changed: 1,
      insertions: 1,
      deletions: 1,
      commits: 1,
      committed: true,
      uncommitted_files: 0,
    });
    expect(eb.worktree).toMatchObject({
      state: 'kept',
      files_changed: 1,
      insertions: 1,
      deletions: 1,
      commits: 0,
      committed: false,
      uncommitted_files: 1,
    });
    expect(git(repo, 'show', `${wa.branch}:shared.txt`)).toBe('changed and committed');
    expect(git(repo, 'branch', '--list', 'feature/b')).toContain('feature/b');
    // `cao-mcp ls --all` shows each worker's branch, and that it was kept
    const ls = cli(['ls', '--all']).stdout;
    expect(ls).toContain('WORKTREE');
    expect(ls).toContain('feature/b (kept)');
    // both listed by `cao-mcp worktrees` until the user removes them
    const listed = JSON.parse(cli(['worktrees', '--json']).stdout).worktrees as { branch: string; state: string }[];
    expect(listed.filter((w) => w.state === 'kept').map((w) => w.branch)).toEqual(expect.arrayContaining([wa.branch, 'feature/b']));
  });

  it('a handoff whose worker changed nothing removes its worktree and its branch; one with changes keeps it, with its diff in the result', async () => {
    const clean = json(await c.call('handoff', worker({ message: 'just answer', worktree: true })));
    expect(clean).toMatchObject({
      success: true,
      output: 'NOTHING-CHANGED',
      worktree: { state: 'removed', files_changed: 0, commits: 0, committed: false },
    });
    expect(existsSync(clean.worktree.path)).toBe(false);
    expect(git(repo, 'branch', '--list', clean.worktree.branch)).toBe('');

    // ignored files (build output) are not changes: removed too
    const built = json(await c.call('handoff', worker({ message: 'write ignored', worktree: true })));
    expect(built.worktree).toMatchObject({ state: 'removed', files_changed: 0 });
    expect(existsSync(built.worktree.path)).toBe(false);

    const dirty = json(await c.call('handoff', worker({ message: 'edit only', worktree: true })));
    expect(dirty).toMatchObject({ success: true, output: 'EDITED' });
    // shared.txt: 1 line out, 1 in; new.txt: 2 lines in (untracked files count)
    expect(dirty.worktree).toMatchObject({
      state: 'kept',
      files_changed: 2,
      insertions: 3,
      deletions: 1,
      commits: 0,
      committed: false,
      uncommitted_files: 2,
    });
    expect(readFileSync(path.join(dirty.worktree.path, 'new.txt'), 'utf8')).toBe('a\nb\n');

    // removing it: refused while it holds uncommitted work, then forced; the branch stays
    const refused = cli(['worktrees', 'rm', dirty.terminal_id]);
    expect(refused.status).not.toBe(0);
    expect(refused.stderr).toContain('2 uncommitted files');
    expect(existsSync(dirty.worktree.path)).toBe(true);
    const forced = cli(['worktrees', 'rm', dirty.worktree.branch, '--force']);
    expect(forced.status, forced.stderr).toBe(0);
    expect(existsSync(dirty.worktree.path)).toBe(false);
    expect(git(repo, 'branch', '--list', dirty.worktree.branch)).toContain(dirty.worktree.branch);
    expect(JSON.parse(cli(['worktrees', '--json']).stdout).worktrees.map((w: { terminalId: string }) => w.terminalId)).not.toContain(
      dirty.terminal_id,
    );
  });

  it('a worktree removed by hand (git worktree remove) drops out of the listing', async () => {
    const kept = json(await c.call('handoff', worker({ message: 'edit and commit C', worktree: true })));
    expect(kept.worktree.state).toBe('kept');
    git(repo, 'worktree', 'remove', '--force', kept.worktree.path);
    const rows = JSON.parse(cli(['worktrees', '--json']).stdout).worktrees as { terminalId: string }[];
    expect(rows.map((r) => r.terminalId)).not.toContain(kept.terminal_id);
  });

  it('a profile can ask for a worktree by default', async () => {
    mkdirSync(path.join(repo, '.cao', 'profiles'), { recursive: true });
    writeFileSync(
      path.join(repo, '.cao', 'profiles', 'isolated.md'),
      '---\ndescription: works in its own worktree\nworktree: true\n---\nYou work alone.\n',
    );
    const r = json(await c.call('handoff', { agent_profile: 'isolated', provider: 'mock', working_directory: repo, message: 'just answer' }));
    expect(r).toMatchObject({ success: true, worktree: { state: 'removed', branch: `cao/isolated-${r.terminal_id}` } });
    // and the call can say no
    const off = json(
      await c.call('handoff', { agent_profile: 'isolated', provider: 'mock', working_directory: repo, message: 'just answer', worktree: false }),
    );
    expect(off.worktree).toBeNull();
  });

  it('refuses, before anything is started, with a clear error: not a repository, a branch that exists, a dirty base, a bad branch name, git missing', async () => {
    const before = (json(await c.call('list_agents', { include_ended: true })).agents as unknown[]).length;
    const plain = path.join(home, 'not-a-repo');
    mkdirSync(plain, { recursive: true });
    const err = async (args: Record<string, unknown>, tool = 'handoff') => {
      const r = await c.call(tool, { ...base, message: 'just answer', ...args });
      expect(r.isError, JSON.stringify(r)).toBe(true);
      return textOf(r);
    };
    expect(await err({ working_directory: plain, worktree: true })).toMatch(
      /^Error: \[not_a_git_repo\] working directory ".*not-a-repo" is not inside a git work tree/,
    );
    expect(await err({ working_directory: repo, worktree: 'main' }, 'assign')).toMatch(
      /^Error: \[branch_exists\] branch "main" already exists in .*repo; pick another name/,
    );
    expect(await err({ working_directory: repo, worktree: 'bad..name' })).toMatch(
      /^Error: \[bad_request\] worktree branch "bad..name" is not a valid git branch name/,
    );
    expect(await err({ working_directory: repo, worktree_base: 'HEAD' })).toMatch(/^Error: \[bad_request\] worktree_base was given without worktree/);
    expect(await err({ working_directory: repo, worktree: true, worktree_base: 'no-such-ref' })).toMatch(
      /^Error: \[bad_request\] worktree_base "no-such-ref" is not a commit/,
    );
    writeFileSync(path.join(repo, 'shared.txt'), 'uncommitted in the caller\n');
    try {
      expect(await err({ working_directory: repo, worktree: true })).toMatch(
        /^Error: \[dirty_base\] your checkout .*repo has uncommitted changes to 1 tracked file \(shared\.txt\), which a new worktree would not have/,
      );
      // starting from the last commit anyway, when asked
      const r = json(await c.call('handoff', worker({ message: 'just answer', worktree: true, worktree_base: 'HEAD' })));
      expect(r).toMatchObject({ success: true, worktree: { state: 'removed' } });
    } finally {
      git(repo, 'checkout', '--', 'shared.txt');
    }
    // refusals started nothing (only the one allowed handoff above ran)
    expect((json(await c.call('list_agents', { include_ended: true })).agents as unknown[]).length).toBe(before + 1);

    const noGit = await startServe(path.join(home, 'cao-nogit'), {
      CAO_MOCK_SCRIPT: JSON.stringify(SCRIPT),
      CAO_GIT_BIN: path.join(home, 'no', 'git'),
    });
    const c2 = await connectHttp(noGit.hub, 'boss');
    try {
      const r = await c2.call('handoff', worker({ message: 'just answer', worktree: true }));
      expect(textOf(r)).toMatch(/^Error: \[git_missing\] worktree needs git, and git was not found/);
      expect(json(await c2.call('list_agents', { include_ended: true })).agents).toEqual([]);
    } finally {
      await c2.close();
      await stopProc(noGit.proc);
    }
  });

  it('a hub that died with a worker in a worktree: the next hub settles it', async () => {
    const h = await startServe(path.join(home, 'cao-crash'), { CAO_MOCK_SCRIPT: JSON.stringify(SCRIPT), CAO_WARM_POOL: '0' });
    const c3 = await connectHttp(h.hub, 'boss');
    const r = json(await c3.call('assign', worker({ message: 'just answer', worktree: true })));
    await c3.close();
    await stopProc(h.proc, 'SIGKILL');
    expect(existsSync(r.worktree.path)).toBe(true);
    const h2 = await startServe(path.join(home, 'cao-crash'), { CAO_MOCK_SCRIPT: JSON.stringify(SCRIPT), CAO_WARM_POOL: '0' });
    try {
      const rows = await waitFor(
        () =>
          JSON.parse(cli(['worktrees', '--json', '--all'], path.join(home, 'cao-crash')).stdout).worktrees as { terminalId: string; state: string }[],
        (rs) => rs.some((x) => x.terminalId === r.terminal_id && x.state === 'removed'),
        20_000,
        200,
      );
      expect(rows.find((x) => x.terminalId === r.terminal_id)?.state).toBe('removed');
      expect(existsSync(r.worktree.path)).toBe(false);
    } finally {
      await stopProc(h2.proc);
    }
  });
});

function cli(args: string[], caoHome = path.join(home, 'cao')) {
  const r = spawnSync(process.execPath, [CLI, ...args], { env: { ...process.env, CAO_HOME: caoHome }, encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}
