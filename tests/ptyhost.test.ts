/**
 * The pty host's protocol, run for real: a host process per test on a temp CAO_HOME, its Unix socket, real
 * ptys running /bin/sh scripts and the built mock agent, clients in this process and in child processes.
 */
import { spawn } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { RemotePty } from '../src/ptyhost/remote-pty.js';
import { Screen } from '../src/screen/screen.js';
import { pidAlive } from '../src/util/process.js';
import { agentJs, baseEnv, Cleanup, clientJs, remotePtyJs, shOpts, sleep, spawnRemote, startHost, until } from './support/ptyhost.js';

const cleanup = new Cleanup();
afterEach(() => cleanup.run());

async function hostAndClient() {
  const home = cleanup.home();
  cleanup.hosts.push(await startHost(home));
  return { home, c: await cleanup.client(home) };
}

/** Resolves once `screen` has parsed everything written to it so far. */
const settled = (s: Screen) => s.write('');

describe('pty host', () => {
  it('answers hello with its protocol, pid and version', async () => {
    const { c } = await hostAndClient();
    const h = await c.request('hello');
    expect(h.protocol).toBe(1);
    expect(h.pid).toBe(cleanup.hosts[0]!.pid);
    expect(h.version).toMatch(/^\d+\.\d+\.\d+/);
  });

  it('spawns a terminal: writes reach it, its output comes back, list shows it with its meta', async () => {
    const { c } = await hostAndClient();
    const { pty, out } = await spawnRemote(c, 't1', shOpts('while read l; do echo "echo:$l"; done'), { token: 'tok-1' });
    expect(pty.pid).toBeGreaterThan(0);
    expect(pidAlive(pty.pid)).toBe(true);
    pty.write('hello there\r');
    await until('the echo', () => out().includes('echo:hello there'));
    const [t, ...rest] = await c.list();
    expect(rest).toEqual([]);
    expect(t).toMatchObject({ tid: 't1', pid: pty.pid, cols: 80, rows: 24, alive: true, meta: { token: 'tok-1' } });
    expect(t!.exit).toBeUndefined();
    expect(c.knownPids().get('t1')).toBe(pty.pid);
  });

  it('refuses what it cannot do, with a reason: unknown op, unknown terminal, a tid in use, bad fields', async () => {
    const { c } = await hostAndClient();
    await expect(c.request('nope' as 'list')).rejects.toThrow(/unknown op "nope"/);
    await expect(c.request('write', { tid: 'ghost', data: 'x' })).rejects.toThrow(/no terminal "ghost"/);
    await spawnRemote(c, 'dup', shOpts('sleep 30'));
    await expect(RemotePty.spawn(c, 'dup', shOpts('sleep 30'), () => {})).rejects.toThrow(/exists/);
    await expect(c.request('spawn', { ...shOpts('true'), tid: 'bad', cols: 0 })).rejects.toThrow(/cols must be/);
    await expect(c.request('signal', { tid: 'dup', signal: 'SIGNOPE' })).rejects.toThrow(/unknown signal/);
    await expect(c.forget('dup')).rejects.toThrow(/is running/);
  });

  it('resizes the pty and its screen together', async () => {
    const { c } = await hostAndClient();
    const { pty, out } = await spawnRemote(c, 'r', shOpts('while read l; do stty size; done'));
    pty.resize(100, 30);
    pty.write('\r');
    await until('the new size', () => out().includes('30 100'));
    const [t] = await c.list();
    expect([t!.cols, t!.rows]).toEqual([100, 30]);
    const a = await c.request('attach', { tid: 'r' });
    expect([a.image.cols, a.image.rows]).toEqual([100, 30]);
  });

  it('records tagged writes when it hands them to the pty, and lastTags lists them in order', async () => {
    const { c } = await hostAndClient();
    const { pty, out } = await spawnRemote(c, 'tags', shOpts('while read l; do echo "got:$l"; done'));
    expect(await c.lastTags('tags')).toEqual([]);
    pty.write('hello', 'msg:1:paste');
    pty.write('\r', 'msg:1:enter');
    pty.write('untagged\r');
    pty.write('second', 'msg:2:paste');
    await until('the second line', async () => (await c.lastTags('tags')).length === 3);
    const tags = await c.lastTags('tags');
    expect(tags.map((t) => t.tag)).toEqual(['msg:1:paste', 'msg:1:enter', 'msg:2:paste']);
    expect(tags.every((t, i) => i === 0 || t.at >= tags[i - 1]!.at)).toBe(true);
    await until('the echo', () => out().includes('got:hello') && out().includes('got:untagged'));
    for (let i = 0; i < 40; i++) pty.write('', `bulk:${i}`);
    await until('the bulk tags', async () => (await c.lastTags('tags')).at(-1)?.tag === 'bulk:39');
    const kept = await c.lastTags('tags');
    expect(kept.length).toBe(32);
    expect(kept[0]!.tag).toBe('bulk:8');
  });

  it('an attach image of the mock agent, drawn in a fresh screen, reads the rows a screen fed the raw stream reads', async () => {
    const { home, c } = await hostAndClient();
    // the hub's part: one local screen, fed the raw stream, answers the terminal's queries
    let pty: RemotePty | null = null;
    const local = new Screen({ cols: 100, rows: 30, onReply: (d) => pty?.write(d) });
    const opts = { command: process.execPath, args: [agentJs, '--name', 'host-test'], env: baseEnv(), cwd: home, cols: 100, rows: 30 };
    pty = await RemotePty.spawn(c, 'mock', opts, (d) => local.feed(d));
    const text = () => local.snapshot().lines.join('\n');
    await until('the idle footer', () => text().includes('? for shortcuts'));
    pty.write('\x1b[200~first message\x1b[201~');
    await sleep(30);
    pty.write('\r');
    await until('an answer', () => /first message/.test(text()) && text().includes('? for shortcuts'));
    await sleep(300);

    const c2 = await cleanup.client(home);
    const adopted = new Screen({ cols: 100, rows: 30 });
    const second = await RemotePty.adopt(c2, 'mock', (d) => adopted.feed(d), {
      onImage: (img) => {
        expect([img.cols, img.rows]).toEqual([100, 30]);
        adopted.feed(img.data);
      },
    });
    expect(second.pid).toBe(pty.pid);
    await settled(adopted);
    await settled(local);
    expect(adopted.snapshot().lines).toEqual(local.snapshot().lines);
    expect(adopted.snapshot().cursorLine).toBe(local.snapshot().cursorLine);
    expect(adopted.bracketedPaste).toBe(true);
    // and the live stream keeps both the same
    pty.write('\x1b[200~second message\x1b[201~');
    await sleep(30);
    pty.write('\r');
    await until('the second answer in the adopted screen', () => adopted.snapshot().lines.join('\n').includes('second message'));
    await sleep(300);
    await settled(adopted);
    await settled(local);
    expect(adopted.snapshot().lines).toEqual(local.snapshot().lines);
    local.dispose();
    adopted.dispose();
  });

  it('attach in the middle of a stream: image + live chunks hold every number exactly once (attaches at 6 moments)', async () => {
    const { home, c } = await hostAndClient();
    const N = 3000;
    const script = `i=0; while [ $i -lt ${N} ]; do i=$((i+1)); echo "n$i"; if [ $((i % 25)) -eq 0 ]; then sleep 0.01; fi; done; read x`;
    const { pty, out } = await spawnRemote(c, 'seq', shOpts(script));
    await until('the stream under way', () => out().includes('n100\r\n'));
    const views: { image: string; live: string }[] = [];
    for (let k = 0; k < 6; k++) {
      const ck = await cleanup.client(home);
      const v = { image: '', live: '' };
      views.push(v);
      const adopted = await RemotePty.adopt(ck, 'seq', (d) => (v.live += d), { onImage: (i) => (v.image = i.data) });
      expect(adopted.pid).toBe(pty.pid);
      await sleep(40 + 17 * k);
    }
    const all = Array.from({ length: N }, (_, i) => i + 1);
    await until('the last number everywhere', () => views.every((v) => v.live.includes(`n${N}\r\n`)), 30_000);
    const counts: number[] = [];
    for (const v of views) {
      const screen = new Screen({ cols: 80, rows: 24, scrollback: 5000 });
      await screen.write(v.image + v.live);
      const nums = screen
        .snapshot()
        .lines.map((l) => /^n(\d+)$/.exec(l)?.[1])
        .filter((x) => x !== undefined)
        .map(Number);
      expect(nums).toEqual(all);
      // no overlap in the raw bytes either: the image's last number is followed by the next one live
      const last = Math.max(0, ...(v.image.match(/n\d+/g) ?? []).map((x) => Number(x.slice(1))));
      expect(v.live.match(/n\d+/g)?.[0]).toBe(`n${last + 1}`);
      counts.push(last);
      screen.dispose();
    }
    // the attaches really happened mid-stream, at different points
    expect(counts.every((n) => n > 0 && n < N)).toBe(true);
    expect(new Set(counts).size).toBeGreaterThan(1);
    // and the spawner's own copy holds them all, once
    expect(out().match(/n\d+/g)).toEqual(all.map((i) => `n${i}`));
  });

  it('a client that closes, or is killed -9, leaves its terminal running; a new client adopts it', async () => {
    const { home, c } = await hostAndClient();
    const { pty } = await spawnRemote(c, 'keep', shOpts('while read l; do echo "still:$l"; done'));
    const pid = pty.pid;
    c.close();
    expect(await pty.exit).toEqual({ exitCode: -1 });

    // a client in another process spawns a second terminal and dies by SIGKILL
    const script = `
      const { PtyHostClient } = await import(${JSON.stringify(clientJs)});
      const { RemotePty } = await import(${JSON.stringify(remotePtyJs)});
      const c = await PtyHostClient.connect({ home: ${JSON.stringify(home)} });
      const p = await RemotePty.spawn(c, 'orphaned', { command: '/bin/sh', args: ['-c', 'while read l; do echo "alive:$l"; done'],
        env: { PATH: process.env.PATH, TERM: 'xterm-256color' }, cwd: '/', cols: 80, rows: 24 }, () => {});
      process.stdout.write(String(p.pid) + '\\n');
      setInterval(() => {}, 1000);`;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    const childPid = await new Promise<number>((r) => child.stdout.once('data', (d: Buffer) => r(Number(String(d).trim()))));
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));

    const c2 = await cleanup.client(home);
    const ts = await c2.list();
    expect(ts.map((t) => [t.tid, t.pid, t.alive])).toEqual([
      ['keep', pid, true],
      ['orphaned', childPid, true],
    ]);
    for (const [tid, word] of [
      ['keep', 'still'],
      ['orphaned', 'alive'],
    ] as const) {
      let out = '';
      const p = await RemotePty.adopt(c2, tid, (d) => (out += d));
      p.write('again\r');
      await until(`${tid}'s echo`, () => out.includes(`${word}:again`));
      expect(pidAlive(p.pid)).toBe(true);
    }
  });

  it('exit: every client hears it; a client that reconnects reads the exit info; forget drops it', async () => {
    const { home, c } = await hostAndClient();
    const c2 = await cleanup.client(home);
    const heard: unknown[] = [];
    c2.listen('ends', { exit: (e) => heard.push(e) });
    const { pty } = await spawnRemote(c, 'ends', shOpts('read x; exit 7'));
    const sig = await spawnRemote(c, 'killed', shOpts('sleep 30'));
    pty.write('go\r');
    expect(await pty.exit).toEqual({ exitCode: 7 });
    sig.pty.signalGroup('SIGKILL');
    expect(await sig.pty.exit).toEqual({ exitCode: 0, signal: 9 });
    await until('the other client hearing it', () => heard.length === 1);
    expect(heard).toEqual([{ exitCode: 7 }]);
    c.close();
    c2.close();

    const c3 = await cleanup.client(home);
    const ts = await c3.list();
    expect(ts.map((t) => [t.tid, t.alive, t.exit])).toEqual([
      ['ends', false, { exitCode: 7 }],
      ['killed', false, { exitCode: 0, signal: 9 }],
    ]);
    const late = await RemotePty.adopt(c3, 'ends', () => {});
    expect(late.alive).toBe(false);
    expect(await late.exit).toEqual({ exitCode: 7 });
    await c3.forget('ends');
    expect((await c3.list()).map((t) => t.tid)).toEqual(['killed']);
  });

  it('terminate ends the whole group, even a process that ignores SIGTERM', async () => {
    const { c } = await hostAndClient();
    const { pty, out } = await spawnRemote(c, 'stubborn', shOpts(`trap '' TERM; sleep 60 & echo "bg:$!"; while :; do sleep 0.1; done`));
    await until('the background pid', () => /bg:\d+/.test(out()));
    const bg = Number(/bg:(\d+)/.exec(out())![1]);
    const t0 = Date.now();
    await pty.terminate(300);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(250);
    expect(pidAlive(bg)).toBe(false);
    expect(() => process.kill(-pty.pid, 0)).toThrow(/ESRCH/);
    expect((await pty.exit).signal).toBe(9);
  });
});
