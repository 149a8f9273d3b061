import * as nodePty from '@lydell/node-pty';
import { groupAlive, killGroup } from '../util/process.js';
import type { PtyLike } from './pty-like.js';

export interface PtySpawnOptions {
  command: string;
  args: string[];
  env: Record<string, string>;
  cwd: string;
  cols: number;
  rows: number;
}

/**
 * A child process in a pseudo-terminal. node-pty makes the child a session and process-group leader
 * (setsid), so its pid is also its process group id: killing `-pid` reaches everything it started.
 */
export class PtyProcess implements PtyLike {
  private readonly pty: nodePty.IPty;
  private exited = false;
  private readonly exitPromise: Promise<{ exitCode: number; signal?: number }>;

  constructor(opts: PtySpawnOptions, onData: (data: string) => void) {
    this.pty = nodePty.spawn(opts.command, opts.args, {
      name: opts.env.TERM || 'xterm-256color',
      cols: opts.cols,
      rows: opts.rows,
      cwd: opts.cwd,
      env: opts.env,
      encoding: 'utf8',
    });
    this.pty.onData(onData);
    this.exitPromise = new Promise((resolve) =>
      this.pty.onExit((e) => {
        this.exited = true;
        resolve(e);
      }),
    );
  }

  get pid(): number {
    return this.pty.pid;
  }

  get alive(): boolean {
    return !this.exited;
  }

  /**
   * The pty master's file descriptor in this process (node-pty has it, untyped). node-pty does not mark it
   * close-on-exec, so every pty spawned later inherits it; the pty host closes it in those children.
   */
  get masterFd(): number | undefined {
    const fd = (this.pty as unknown as { fd?: unknown }).fd;
    return typeof fd === 'number' ? fd : undefined;
  }

  /** Resolves when the process has exited. */
  get exit(): Promise<{ exitCode: number; signal?: number }> {
    return this.exitPromise;
  }

  write(data: string): void {
    if (!this.exited) this.pty.write(data);
  }

  resize(cols: number, rows: number): void {
    if (!this.exited) this.pty.resize(cols, rows);
  }

  /** Signals the whole process group (the CLI and everything it spawned). */
  signalGroup(signal: NodeJS.Signals): void {
    killGroup(this.pty.pid, signal);
  }

  /** Ends the process group: SIGTERM, then SIGKILL after `graceMs`; resolves when no process of the group is left. */
  async terminate(graceMs = 1500): Promise<void> {
    if (groupAlive(this.pid)) {
      this.signalGroup('SIGTERM');
      const deadline = Date.now() + graceMs;
      while (groupAlive(this.pid) && Date.now() < deadline) await sleep(50);
      if (groupAlive(this.pid)) this.signalGroup('SIGKILL');
    }
    if (this.alive) this.pty.kill('SIGKILL');
    const deadline = Date.now() + 3000;
    while (groupAlive(this.pid) && Date.now() < deadline) await sleep(25);
  }
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
