/**
 * The pty host's lifetime, run for real: one host per CAO_HOME, a stale socket replaced, the socket's mode,
 * idle exit, shutdown and SIGTERM ending every process group, and what a kill -9 of the host leaves.
 */
import { spawn } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { PtyHostClient } from '../src/ptyhost/client.js';
import { probeHello } from '../src/ptyhost/probe.js';
import { logPathIn, socketPathIn } from '../src/ptyhost/protocol.js';
import { groupAlive, pidAlive } from '../src/util/process.js';
import { Cleanup, mainJs, shOpts, sleep, spawnRemote, startHost, until } from './support/ptyhost.js';
import { logText } from './support/logs.js';

const cleanup = new Cleanup();
afterEach(() => cleanup.run());

/** `process.kill(-pgid, 0)`: true while any process of the group exists. */
const groupExists = (pgid: number) => groupAlive(pgid);

/** Spawns a terminal whose group holds a shell and a background child; returns both pids. */
async function groupOfTwo(c: PtyHostClient, tid: string, trapTerm = false) {
  const { pty, out } = await spawnRemote(c, tid, shOpts(`${trapTerm ? "trap '' TERM; " : ''}sleep 60 & echo "bg:$!"; while :; do sleep 0.1; done`));
  await until(`${tid}'s background child`, () => /bg:\d+/.test(out()));
  return { pty, bg: Number(/bg:(\d+)/.exec(out())![1]) };
}

/** A host that runs to its end; `log` is its lines of ptyhost.log (written before it exits) and its stderr. */
function runHostOnce(home: string): Promise<{ code: number | null; log: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [mainJs, 'pty-host'], { env: { ...process.env, CAO_HOME: home }, stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    p.stderr.on('data', (d: Buffer) => (err += d.toString()));
    p.on('exit', (code) => resolve({ code, log: `${logText(home, 'ptyhost.log', p.pid)}\n${err}` }));
  });
}

describe('pty host lifetime', () => {
  it('one host per CAO_HOME: a second one sees the first answering and exits 0 without taking over', async () => {
    const home = cleanup.home();
    const first = await startHost(home);
    cleanup.hosts.push(first);
    const c = await cleanup.client(home);
    const { pty } = await spawnRemote(c, 'mine', shOpts('sleep 60'));
    const second = await runHostOnce(home);
    expect(second.code).toBe(0);
    expect(second.log).toMatch(/another pty host answers/);
    expect((await probeHello(socketPathIn(home)))?.pid).toBe(first.pid);
    const c2 = await cleanup.client(home);
    expect((await c2.list()).map((t) => [t.tid, t.pid, t.alive])).toEqual([['mine', pty.pid, true]]);
  });

  it('replaces a stale socket file (nothing answers there); the socket is 0600 in a 0700 CAO_HOME', async () => {
    const home = cleanup.home();
    const sock = socketPathIn(home);
    // a listener killed -9 leaves its socket file behind
    const squatter = spawn(process.execPath, ['-e', `require('net').createServer().listen(${JSON.stringify(sock)}, () => console.log('up'))`], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    await new Promise((r) => squatter.stdout.once('data', r));
    squatter.kill('SIGKILL');
    await new Promise((r) => squatter.once('exit', r));
    expect(statSync(sock).isSocket()).toBe(true);
    expect(await probeHello(sock)).toBeNull();

    const host = await startHost(home);
    cleanup.hosts.push(host);
    expect((await probeHello(sock))?.pid).toBe(host.pid);
    expect(statSync(sock).mode & 0o777).toBe(0o600);
    expect(statSync(home).mode & 0o777).toBe(0o700);
    await until('the host logs the stale socket', () => /replaced a stale socket file/.test(host.log()));
  });

  it('exits by itself after the idle period with no live terminal and no client, not while a terminal runs', async () => {
    const home = cleanup.home();
    const host = await startHost(home, { CAO_PTYHOST_IDLE_SECONDS: '1' });
    cleanup.hosts.push(host);
    const c = await PtyHostClient.connect({ home });
    const { pty } = await spawnRemote(c, 'busy', shOpts('sleep 60'));
    c.close();
    await sleep(2000);
    expect(pidAlive(host.pid)).toBe(true);
    const c2 = await PtyHostClient.connect({ home });
    await c2.request('terminate', { tid: 'busy', graceMs: 200 });
    expect(groupExists(pty.pid)).toBe(false);
    await sleep(1500);
    // a client is still connected: no idle exit yet
    expect(pidAlive(host.pid)).toBe(true);
    const t0 = Date.now();
    c2.close();
    expect(await host.exited).toBe(0);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(900);
    expect(Date.now() - t0).toBeLessThan(5000);
    expect(existsSync(socketPathIn(home))).toBe(false);
    expect(host.log()).toMatch(/stopping: idle for 1 s/);
  });

  it('shutdown ends every process group (a SIGTERM-ignoring one too), answers, then the host exits', async () => {
    const home = cleanup.home();
    const host = await startHost(home);
    cleanup.hosts.push(host);
    const c = await cleanup.client(home);
    const a = await groupOfTwo(c, 'a');
    const b = await groupOfTwo(c, 'b', true);
    const closed = new Promise<string>((r) => c.onClose(r));
    await c.shutdown();
    for (const g of [a, b]) {
      expect(groupExists(g.pty.pid)).toBe(false);
      expect(pidAlive(g.bg)).toBe(false);
    }
    expect(await host.exited).toBe(0);
    await closed;
    expect(existsSync(socketPathIn(home))).toBe(false);
  });

  it('SIGTERM (and SIGINT) end every process group before the host exits', async () => {
    for (const sig of ['SIGTERM', 'SIGINT'] as const) {
      const home = cleanup.home();
      const host = await startHost(home);
      cleanup.hosts.push(host);
      const c = await cleanup.client(home);
      const a = await groupOfTwo(c, 'a', true);
      const exit = a.pty.exit;
      process.kill(host.pid, sig);
      expect(await host.exited).toBe(0);
      expect(groupExists(a.pty.pid)).toBe(false);
      expect(pidAlive(a.bg)).toBe(false);
      expect((await exit).signal).toBe(9);
      expect(host.log()).toContain(`stopping: ${sig}`);
    }
  });

  it('the client starts a missing host detached, logs to $CAO_HOME/logs/ptyhost.log, and finds the same one next time', async () => {
    const home = cleanup.home();
    const c = await PtyHostClient.connect({ home, start: true });
    cleanup.clients.push(c);
    expect(pidAlive(c.hostPid)).toBe(true);
    const c2 = await PtyHostClient.connect({ home, start: true });
    cleanup.clients.push(c2);
    expect(c2.hostPid).toBe(c.hostPid);
    await spawnRemote(c, 'x', shOpts('sleep 60'), { token: 'secret-token-value' });
    await c.shutdown();
    await until('the host gone', () => !pidAlive(c.hostPid));
    const { readFileSync } = await import('node:fs');
    const log = readFileSync(logPathIn(home), 'utf8');
    expect(log).toMatch(/listening/);
    expect(log).toMatch(/spawn x: sh pid \d+/);
    expect(log).not.toContain('secret-token-value');
    await expect(PtyHostClient.connect({ home })).rejects.toThrow(/no pty host answers/);
  });

  it('kill -9 of the host: the client learns at once; ptys hang up, so groups die unless they ignore SIGHUP; the next host ends those', async () => {
    const home = cleanup.home();
    const host = await startHost(home);
    cleanup.hosts.push(host);
    const c = await cleanup.client(home);
    const lost = new Promise<string>((r) => c.onClose(r));
    const plain = await groupOfTwo(c, 'plain');
    const deaf = `trap '' HUP; while :; do sleep 0.1; done`;
    const deaf1 = await spawnRemote(c, 'deaf1', shOpts(deaf));
    const deaf2 = await spawnRemote(c, 'deaf2', shOpts(deaf));
    const plain2 = await groupOfTwo(c, 'plain2');
    await sleep(200);
    const t0 = Date.now();
    process.kill(host.pid, 'SIGKILL');
    expect(await lost).toMatch(/closed the connection/);
    expect(await plain.pty.exit).toEqual({ exitCode: -1 });
    expect(plain.pty.hostLost).toBe(true);
    expect(await deaf1.pty.exit).toEqual({ exitCode: -1 });
    // the master side closed: the session leader and its foreground group get SIGHUP (spawned before and
    // after the others: no child holds another pty's master)
    await until('the plain groups gone', () => [plain, plain2].every((g) => !groupExists(g.pty.pid) && !pidAlive(g.bg)), 5000);
    const hupMs = Date.now() - t0;
    expect(hupMs).toBeLessThan(5000);
    // a group that ignores SIGHUP outlives its pty (SIG_IGN is inherited by its children across exec)
    await sleep(1000);
    expect(groupExists(deaf1.pty.pid)).toBe(true);
    expect(groupExists(deaf2.pty.pid)).toBe(true);
    // the client still knows every pid: a hub can end what is left
    expect([...c.knownPids().keys()]).toEqual(['plain', 'deaf1', 'deaf2', 'plain2']);
    await deaf1.pty.terminate(300);
    expect(groupExists(deaf1.pty.pid)).toBe(false);
    // and the next host ends the groups the dead one left (it wrote them down)
    const next = await startHost(home);
    cleanup.hosts.push(next);
    expect(groupExists(deaf2.pty.pid)).toBe(false);
    await until('the host logs the groups it ended', () => next.log().includes(`ended 1 process group(s) a previous host left: ${deaf2.pty.pid}`));
  });

  it('a host that is alive keeps its groups even if its socket file is gone and a second host starts', async () => {
    const home = cleanup.home();
    const first = await startHost(home);
    cleanup.hosts.push(first);
    const c = await cleanup.client(home);
    const { pty } = await spawnRemote(c, 'mine', shOpts('sleep 60'));
    const { unlinkSync } = await import('node:fs');
    unlinkSync(socketPathIn(home));
    const second = await startHost(home);
    cleanup.hosts.push(second);
    expect(groupExists(pty.pid)).toBe(true);
    expect(second.log()).not.toContain('previous host left');
  });
});
