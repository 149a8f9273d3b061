import { existsSync } from 'node:fs';
import { PtyProcess } from '../pty/pty-process.js';
import { Screen } from '../screen/screen.js';
import { serializeAfterPending, type ScreenImage } from '../screen/serialize.js';
import type { ExitInfo, HostTerminalInfo, Meta, SpawnRequest, TagRecord } from './protocol.js';

const BASH = '/bin/bash';
const hasBash = existsSync(BASH);

/**
 * node-pty leaves each master fd open across fork, so a child inherits the masters of every pty spawned
 * before it. Then a pty's master outlives the host (kill -9): the child holding it keeps it open, so the pty
 * never hangs up and its group never gets SIGHUP. bash closes them and execs the command (same pid; bash
 * adds SHLVL and _ to the environment). POSIX sh cannot: it takes single-digit fds only. Without bash the
 * command runs as given and a kill -9 of the host leaves more behind (see README, "Pty host").
 */
export function closingMasters(command: string, args: string[], fds: number[]): { command: string; args: string[] } {
  const close = fds.filter((fd) => Number.isInteger(fd) && fd > 2);
  if (!close.length || !hasBash) return { command, args };
  return { command: BASH, args: ['-c', `exec ${close.map((fd) => `${fd}>&-`).join(' ')}; exec "$0" "$@"`, command, ...args] };
}

/** Tagged writes remembered per terminal (a message's paste and its Enter, a few messages back). */
const TAGS_KEPT = 32;

/** Someone who receives a terminal's output: a connection, seen by the terminal as a sink. */
export interface OutputSink {
  data(tid: string, data: string): void;
}

/**
 * One pty owned by the host: the process, a headless screen fed every byte (no terminal replies: only the
 * hub's emulator answers queries, or the CLI would get two answers), the sinks attached to it, its tags.
 */
export class HostTerminal {
  readonly tid: string;
  readonly pty: PtyProcess;
  readonly screen: Screen;
  readonly meta: Meta;
  readonly createdAt = Date.now();
  exitInfo: ExitInfo | null = null;
  exitedAt = 0;
  private readonly sinks = new Set<OutputSink>();
  /** Sinks whose attach image is being made: their chunks wait here, to follow the image. */
  private readonly pending = new Map<OutputSink, string[]>();
  private readonly tags: TagRecord[] = [];

  /** `otherMasters`: the other ptys' master fds, to close in this child (see closingMasters). */
  constructor(req: SpawnRequest, otherMasters: number[], onExit: (t: HostTerminal) => void) {
    this.tid = req.tid;
    this.meta = req.meta ?? null;
    this.screen = new Screen({ cols: req.cols, rows: req.rows });
    const { command, args } = closingMasters(req.command, req.args, otherMasters);
    this.pty = new PtyProcess({ command, args, env: req.env, cwd: req.cwd, cols: req.cols, rows: req.rows }, (data) => this.onData(data));
    void this.pty.exit.then((e) => {
      this.exitInfo = e.signal ? { exitCode: e.exitCode, signal: e.signal } : { exitCode: e.exitCode };
      this.exitedAt = Date.now();
      onExit(this);
    });
  }

  private onData(data: string): void {
    // The screen and the sinks get each chunk in the same tick: that is what makes an attach image seamless.
    this.screen.feed(data);
    for (const s of this.sinks) s.data(this.tid, data);
    for (const q of this.pending.values()) q.push(data);
  }

  get alive(): boolean {
    return this.pty.alive;
  }

  info(): HostTerminalInfo {
    const i: HostTerminalInfo = {
      tid: this.tid,
      pid: this.pty.pid,
      cols: this.screen.cols,
      rows: this.screen.rows,
      alive: this.alive,
      meta: this.meta,
      createdAt: this.createdAt,
    };
    if (this.exitInfo) i.exit = this.exitInfo;
    return i;
  }

  /**
   * Attaches `sink`: resolves with an image of every byte written so far; `send` runs with it, then the sink
   * gets every later chunk, none twice, none missing. An already attached sink is re-imaged.
   */
  async attach(sink: OutputSink, send: (image: ScreenImage) => void, scrollback?: number): Promise<void> {
    this.sinks.delete(sink);
    const queue: string[] = [];
    this.pending.set(sink, queue);
    let image: ScreenImage;
    try {
      image = await serializeAfterPending(this.screen, scrollback === undefined ? {} : { scrollback });
    } finally {
      this.pending.delete(sink);
    }
    send(image);
    for (const d of queue) sink.data(this.tid, d);
    this.sinks.add(sink);
  }

  /** Adds `sink` from now on, with no image (the spawner, which has seen every byte: there were none). */
  follow(sink: OutputSink): void {
    this.sinks.add(sink);
  }

  detach(sink: OutputSink): void {
    this.sinks.delete(sink);
    this.pending.delete(sink);
  }

  write(data: string, tag?: string): void {
    if (!this.alive) return;
    this.pty.write(data);
    if (tag === undefined) return;
    this.tags.push({ tag, at: Date.now() });
    if (this.tags.length > TAGS_KEPT) this.tags.shift();
  }

  lastTags(): TagRecord[] {
    return [...this.tags];
  }

  resize(cols: number, rows: number): void {
    if (!this.alive) return;
    this.pty.resize(cols, rows);
    this.screen.resize(cols, rows);
  }

  dispose(): void {
    this.sinks.clear();
    this.pending.clear();
    this.screen.dispose();
  }
}
