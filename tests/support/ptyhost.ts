// Real pty hosts for the ptyhost tests: each in its own temp CAO_HOME, started from the built CLI.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PtyHostClient } from '../../src/ptyhost/client.js';
import { probeHello } from '../../src/ptyhost/probe.js';
import { socketPathIn } from '../../src/ptyhost/protocol.js';
import { RemotePty } from '../../src/ptyhost/remote-pty.js';
import type { PtySpawnOptions } from '../../src/pty/pty-process.js';
import { groupAlive, killGroup, pidAlive } from '../../src/util/process.js';
import { repoRoot } from '../fixtures/mock/harness.js';
import { logText } from './logs.js';

export const mainJs = join(repoRoot, 'dist', 'cli', 'main.js');
export const clientJs = join(repoRoot, 'dist', 'ptyhost', 'client.js');
export const remotePtyJs = join(repoRoot, 'dist', 'ptyhost', 'remote-pty.js');
export const agentJs = join(repoRoot, 'dist', 'mock', 'agent.js');

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export function tempHome(): string {
  return mkdtempSync(join(tmpdir(), 'cao-ptyhost-'));
}

export function baseEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined) env[k] = v;
  return { ...env, TERM: 'xterm-256color' };
}

export function shOpts(script: string, more: Partial<PtySpawnOptions> = {}): PtySpawnOptions {
  return { command: '/bin/sh', args: ['-c', script], env: baseEnv(), cwd: tmpdir(), cols: 80, rows: 24, ...more };
}

/** A host started as our child (in its own session, like the client starts it), once it answers. */
export interface HostProc {
  proc: ChildProcess;
  pid: number;
  exited: Promise<number | null>;
  /** This host's lines of `$CAO_HOME/logs/ptyhost.log` (their messages), then what it wrote on stderr. */
  log: () => string;
}

export async function startHost(home: string, env: Record<string, string> = {}): Promise<HostProc> {
  const proc = spawn(process.execPath, [mainJs, 'pty-host'], {
    detached: true,
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, CAO_HOME: home, ...env },
  });
  let err = '';
  proc.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | null>((r) => proc.on('exit', (code) => r(code)));
  const deadline = Date.now() + 10_000;
  while (!(await probeHello(socketPathIn(home), 500))) {
    if (Date.now() > deadline || proc.exitCode !== null) throw new Error(`pty host did not answer: ${err}`);
    await sleep(50);
  }
  return { proc, pid: proc.pid!, exited, log: () => `${logText(home, 'ptyhost.log', proc.pid)}\n${err}` };
}

export function spawnRemote(c: PtyHostClient, tid: string, opts: PtySpawnOptions, meta?: unknown): Promise<{ pty: RemotePty; out: () => string }> {
  let out = '';
  return RemotePty.spawn(c, tid, opts, (d) => (out += d), meta).then((pty) => ({ pty, out: () => out }));
}

export async function until(what: string, ok: () => boolean | Promise<boolean>, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await ok())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(25);
  }
}

/** Tracks what a test started, and ends it all: clients, hosts (SIGKILL), and any group left behind. */
export class Cleanup {
  readonly homes: string[] = [];
  readonly clients: PtyHostClient[] = [];
  readonly hosts: HostProc[] = [];
  readonly groups: number[] = [];

  home(): string {
    const h = tempHome();
    this.homes.push(h);
    return h;
  }

  async client(home: string): Promise<PtyHostClient> {
    const c = await PtyHostClient.connect({ home });
    this.clients.push(c);
    return c;
  }

  async run(): Promise<void> {
    for (const c of this.clients.splice(0)) {
      for (const pid of c.knownPids().values()) this.groups.push(pid);
      c.close();
    }
    for (const h of this.hosts.splice(0)) if (pidAlive(h.pid)) h.proc.kill('SIGKILL');
    for (const g of this.groups.splice(0)) if (groupAlive(g)) killGroup(g, 'SIGKILL');
    for (const h of this.homes.splice(0)) rmSync(h, { recursive: true, force: true });
  }
}
