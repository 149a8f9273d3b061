// The pty host's wire protocol: newline-delimited JSON over a Unix socket, one object a line.
// Requests `{id, op, ...}` are answered `{id, ok: true, ...}` or `{id, ok: false, error}`, in the order
// they were received; events `{ev, ...}` are pushed to attached clients between answers.
import { join } from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import type { PtySpawnOptions } from '../pty/pty-process.js';
import type { ScreenImage } from '../screen/serialize.js';

export const PROTOCOL = 1;

export const socketPathIn = (home: string) => join(home, 'ptyhost.sock');
/** The host's log (JSON lines, written by the host itself). */
export const logPathIn = (home: string) => join(home, 'logs', 'ptyhost.log');
/** Where a host started by a client has its stdio: what does not go through the logger (a crash's stack). */
export const stderrPathIn = (home: string) => join(home, 'logs', 'ptyhost.stderr.log');

/** Opaque JSON the hub stores with a terminal (e.g. the worker's token): never logged. */
export type Meta = unknown;

export interface ExitInfo {
  exitCode: number;
  signal?: number;
}

export interface TagRecord {
  tag: string;
  /** When the tagged bytes were handed to the pty (ms since the epoch). */
  at: number;
}

export interface HostTerminalInfo {
  tid: string;
  pid: number;
  cols: number;
  rows: number;
  alive: boolean;
  exit?: ExitInfo;
  meta: Meta;
  createdAt: number;
}

/** A spawn: what a local pty takes, plus the terminal's id and what the hub keeps with it. */
export interface SpawnRequest extends PtySpawnOptions {
  tid: string;
  meta?: Meta;
}

/** The answers' fields, by op (`ok` and `id` aside). */
export interface Answers {
  hello: { protocol: number; pid: number; version: string };
  spawn: { pid: number };
  list: { terminals: HostTerminalInfo[] };
  attach: { image: ScreenImage; pid: number; exit?: ExitInfo };
  detach: object;
  write: object;
  resize: object;
  signal: object;
  terminate: object;
  forget: object;
  lastTags: { tags: TagRecord[] };
  shutdown: object;
}
export type Op = keyof Answers;

export type HostEvent = { ev: 'data'; tid: string; data: string } | { ev: 'exit'; tid: string; exitCode: number; signal?: number };

/** Splits a byte stream into lines and parses each as JSON (a line that does not parse goes to `onBad`). */
export function lineReader(onMessage: (msg: Record<string, unknown>) => void, onBad: (line: string) => void): (chunk: Buffer) => void {
  let rest = '';
  // a character split between two reads stays whole
  const decoder = new StringDecoder('utf8');
  return (chunk) => {
    rest += decoder.write(chunk);
    let nl: number;
    while ((nl = rest.indexOf('\n')) >= 0) {
      const line = rest.slice(0, nl);
      rest = rest.slice(nl + 1);
      if (!line.trim()) continue;
      let msg: unknown;
      try {
        msg = JSON.parse(line);
      } catch {
        onBad(line);
        continue;
      }
      if (msg && typeof msg === 'object' && !Array.isArray(msg)) onMessage(msg as Record<string, unknown>);
      else onBad(line);
    }
  };
}
