import * as pty from '@lydell/node-pty';
import { Screen } from '../../../src/screen/screen.js';
import type { LaunchSpec } from './common.js';

export interface SubmitOptions {
  enterDelayMs?: number;
  accepted?: () => boolean;
  retries?: number;
  retryMs?: number;
}

export interface RunningTui {
  pid: number;
  screen: Screen;
  /** Raw output received so far. */
  raw(): string;
  /** The rendered rows (scrollback + visible), as text. */
  text(): string;
  /** Resolves once `pred(text)` holds on the rendered screen; rejects with the screen after `timeoutMs`. */
  waitFor(pred: RegExp | ((text: string) => boolean), timeoutMs: number, what?: string): Promise<string>;
  write(data: string): void;
  /**
   * Bracketed paste if the app asked for it, then Enter as a separate write after `enterDelayMs`. With
   * `accepted`, re-sends Enter (up to `retries` times, every `retryMs`) until it returns true: a TUI that is
   * still settling can swallow the first Enter. Resolves with the number of Enter presses it took.
   */
  submit(text: string, opts?: SubmitOptions): Promise<number>;
  exited: Promise<{ exitCode: number; signal?: number }>;
  /** SIGKILL to the whole process group (node-pty makes the child a session leader). */
  kill(): void;
}

/** Spawns a seeded real CLI in a node-pty and renders it with the project's Screen. */
export function startRealTui(spec: LaunchSpec, cols = 120, rows = 40): RunningTui {
  const p = pty.spawn(spec.command, spec.args, { name: 'xterm-256color', cols, rows, cwd: spec.cwd, env: spec.env });
  const screen = new Screen({ cols, rows, onReply: (d) => p.write(d) });
  let raw = '';
  const listeners = new Set<() => void>();
  p.onData((d) => {
    raw += d;
    void screen.write(d).then(() => listeners.forEach((l) => l()));
  });
  const exited = new Promise<{ exitCode: number; signal?: number }>((resolve) => p.onExit(resolve));
  const text = () => screen.snapshot().lines.join('\n');
  const run: RunningTui = {
    pid: p.pid,
    screen,
    raw: () => raw,
    text,
    waitFor(pred, timeoutMs, what = String(pred)) {
      const test = typeof pred === 'function' ? pred : (t: string) => pred.test(t);
      return new Promise((resolve, reject) => {
        const check = () => {
          const t = text();
          if (test(t)) {
            done();
            resolve(t);
          }
        };
        const done = () => {
          clearTimeout(timer);
          listeners.delete(check);
        };
        const timer = setTimeout(() => {
          done();
          reject(
            new Error(
              `${spec.cli}: timed out after ${timeoutMs} ms waiting for ${what}; screen:\n${screen.snapshot().lines.slice(-rows).join('\n')}`,
            ),
          );
        }, timeoutMs);
        listeners.add(check);
        check();
      });
    },
    write: (d) => p.write(d),
    async submit(msg, opts = {}) {
      const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
      p.write(screen.bracketedPaste ? `\x1b[200~${msg}\x1b[201~` : msg);
      await sleep(opts.enterDelayMs ?? 150);
      p.write('\r');
      if (!opts.accepted) return 1;
      const retries = opts.retries ?? 3;
      for (let presses = 1; presses <= retries + 1; presses++) {
        const until = Date.now() + (opts.retryMs ?? 2000);
        while (Date.now() < until) {
          if (opts.accepted()) return presses;
          await sleep(50);
        }
        if (presses <= retries) p.write('\r');
      }
      throw new Error(
        `${spec.cli}: the prompt was not accepted after ${(opts.retries ?? 3) + 1} Enter presses; screen:\n${screen.snapshot().lines.slice(-rows).join('\n')}`,
      );
    },
    exited,
    kill() {
      try {
        process.kill(-p.pid, 'SIGKILL');
      } catch {
        /* already gone */
      }
    },
  };
  return run;
}
