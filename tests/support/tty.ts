import * as nodePty from '@lydell/node-pty';
import xtermHeadless from '@xterm/headless';
import { waitFor } from './procs.js';

const { Terminal } = xtermHeadless as unknown as typeof import('@xterm/headless');

export interface TtyOptions {
  cols?: number;
  rows?: number;
  env?: Record<string, string>;
  cwd?: string;
  /** Answer terminal queries (cursor position, device attributes) like a real terminal does. Default true. */
  replies?: boolean;
}

/**
 * A command run in a real pty, as a person's terminal would run it: its output is rendered by a terminal
 * emulator of the same size, and the test reads the rendered screen, types, pastes and resizes.
 */
export class TtyRun {
  readonly pty: nodePty.IPty;
  readonly term: import('@xterm/headless').Terminal;
  raw = '';
  exitInfo: { exitCode: number; signal?: number } | null = null;
  readonly exit: Promise<{ exitCode: number; signal?: number }>;

  constructor(command: string, args: string[], opts: TtyOptions = {}) {
    const cols = opts.cols ?? 100;
    const rows = opts.rows ?? 30;
    this.term = new Terminal({ cols, rows, scrollback: 2000, allowProposedApi: true });
    this.pty = nodePty.spawn(command, args, {
      name: 'xterm-256color',
      cols,
      rows,
      cwd: opts.cwd ?? process.cwd(),
      env: { ...(process.env as Record<string, string>), TERM: 'xterm-256color', ...opts.env },
      encoding: 'utf8',
    });
    if (opts.replies !== false) this.term.onData((d) => this.exitInfo === null && this.pty.write(d));
    this.pty.onData((d) => {
      this.raw += d;
      this.term.write(d);
    });
    this.exit = new Promise((resolve) =>
      this.pty.onExit((e) => {
        this.exitInfo = e;
        resolve(e);
      }),
    );
  }

  get pid(): number {
    return this.pty.pid;
  }

  /** The visible rows, right-trimmed. */
  rows(): string[] {
    const b = this.term.buffer.active;
    const out: string[] = [];
    for (let y = 0; y < this.term.rows; y++) out.push((b.getLine(b.baseY + y)?.translateToString(true) ?? '').replace(/\s+$/u, ''));
    return out;
  }

  /** Scrollback and visible rows. */
  allText(): string {
    const b = this.term.buffer.active;
    const out: string[] = [];
    for (let y = 0; y < b.length; y++) out.push((b.getLine(y)?.translateToString(true) ?? '').replace(/\s+$/u, ''));
    return out.join('\n');
  }

  screen(): string {
    return this.rows().join('\n');
  }

  /** Waits until the visible screen matches; fails with the screen in the message. */
  async waitForScreen(what: string | RegExp, ms = 10_000): Promise<string> {
    const ok = (s: string) => (typeof what === 'string' ? s.includes(what) : what.test(s));
    const s = await waitFor(() => this.screen(), ok, ms, 30);
    if (!ok(s)) throw new Error(`screen never showed ${String(what)} within ${ms} ms; it shows:\n${s}\n--- exit: ${JSON.stringify(this.exitInfo)}`);
    return s;
  }

  async waitForRaw(what: string | RegExp, ms = 10_000): Promise<string> {
    const ok = (s: string) => (typeof what === 'string' ? s.includes(what) : what.test(s));
    const s = await waitFor(() => this.raw, ok, ms, 30);
    if (!ok(s)) throw new Error(`output never contained ${String(what)} within ${ms} ms; output:\n${s.slice(-3000)}`);
    return s;
  }

  write(data: string): void {
    this.pty.write(data);
  }

  /** Resizes the pty (the program gets SIGWINCH) and the emulator that renders it. */
  resize(cols: number, rows: number): void {
    this.pty.resize(cols, rows);
    this.term.resize(cols, rows);
  }

  /** Waits for the exit, failing after `ms`. */
  async waitExit(ms = 15_000): Promise<{ exitCode: number; signal?: number }> {
    let timer: NodeJS.Timeout | undefined;
    const r = await Promise.race([
      this.exit,
      new Promise<null>((res) => {
        timer = setTimeout(() => res(null), ms);
      }),
    ]);
    clearTimeout(timer);
    if (!r) throw new Error(`process did not exit within ${ms} ms; screen:\n${this.screen()}`);
    return r;
  }

  kill(signal = 'SIGKILL'): void {
    if (this.exitInfo) return;
    try {
      this.pty.kill(signal);
    } catch {
      /* already gone */
    }
  }

  dispose(): void {
    this.kill();
    this.term.dispose();
  }
}
