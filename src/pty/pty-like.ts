import type { PtySpawnOptions } from './pty-process.js';

/** How a pty's process ended. `exitCode` -1 with no signal from a remote pty: the pty host was lost. */
export interface PtyExit {
  exitCode: number;
  signal?: number;
}

/**
 * What a worker needs of its pty, wherever the pty lives: in this process (`PtyProcess`) or in the pty host
 * (`RemotePty`, src/ptyhost/). The pid is also the process group id (the child is a session leader).
 */
export interface PtyLike {
  readonly pid: number;
  readonly alive: boolean;
  /** Resolves when the process has exited (or, for a remote pty, when its host is gone). */
  readonly exit: Promise<PtyExit>;
  /** `tag`: an opaque label the pty host records when it hands these bytes to the pty (a local pty ignores it). */
  write(data: string, tag?: string): void;
  resize(cols: number, rows: number): void;
  /** Signals the whole process group. */
  signalGroup(signal: NodeJS.Signals): void;
  /** SIGTERM the group, SIGKILL after `graceMs`; resolves when no process of the group is left. */
  terminate(graceMs?: number): Promise<void>;
}

/** Makes a worker's pty: `onData` gets its output, in order, from the first byte. */
export type PtyFactory = (opts: PtySpawnOptions, onData: (data: string) => void) => PtyLike;
