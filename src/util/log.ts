import { fchmodSync, fstatSync, openSync, renameSync, statSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { pino, type DestinationStream, type Logger, type LevelWithSilent } from 'pino';

type SonicBoom = ReturnType<typeof pino.destination>;
import { logsDir } from './paths.js';

/**
 * The process logger: JSON lines (`time`, `level`, `pid`, `component`, `msg`, fields) appended to one file
 * under `$CAO_HOME/logs/` (0600 in the 0700 dir): `hub.log` for a hub and the stdio fronts, `ptyhost.log`
 * for the pty host. Never stdout (a stdio server's stdout carries JSON-RPC only), never a worker thread:
 * pino's own SonicBoom destination writes asynchronously from this thread and is flushed synchronously on
 * exit. Past `CAO_LOG_FILE_MAX_BYTES` (default 10 MiB) the file is rotated: `hub.log` → `hub.log.1` → `hub.log.2`.
 * Level: `CAO_LOG_LEVEL` (debug, info, warn, error, silent; default info).
 */

export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;
export const LOG_MAX_BYTES_DEFAULT = 10 * 1024 * 1024;
/** Old files kept beside the live one: `<file>.1` (the newest) … `<file>.<LOG_KEEP>`. */
export const LOG_KEEP = 2;

/**
 * Fields never written, whatever a call site passes: tokens, authorization headers, environments, bodies.
 * A safety net: call sites log ids, kinds and sizes, not these.
 */
export const REDACT_PATHS = ['token', 'clientToken', 'authorization', 'env', 'body', 'password', 'secret'].flatMap((k) => [k, `*.${k}`, `*.*.${k}`]);

export interface LogOptions {
  /** A file name under `$CAO_HOME/logs/` or an absolute path. Default `hub.log`. */
  file?: string;
  level?: string;
  maxBytes?: number;
  keep?: number;
}

let root: Logger | null = null;
let monitoring = false;
let dest: RotatingFile | null = null;
const children = new Map<string, Logger>();

/** The level `CAO_LOG_LEVEL` asks for (`info` when unset or not a level). */
export function levelFromEnv(value = process.env.CAO_LOG_LEVEL): LevelWithSilent {
  const v = (value ?? '').trim().toLowerCase();
  return (LOG_LEVELS as readonly string[]).includes(v) ? (v as LevelWithSilent) : 'info';
}

function maxBytesFromEnv(): number {
  const v = Number(process.env.CAO_LOG_FILE_MAX_BYTES);
  return Number.isFinite(v) && v > 0 ? v : LOG_MAX_BYTES_DEFAULT;
}

/**
 * Makes (or remakes) the process logger. Entry points call it first (`cao-mcp pty-host` with `ptyhost.log`);
 * without a call the first `logger()` makes the default one (`hub.log`).
 */
export function configureLog(opts: LogOptions = {}): Logger {
  closeLog();
  const name = opts.file ?? 'hub.log';
  try {
    const file = isAbsolute(name) ? name : join(logsDir(), name);
    dest = new RotatingFile(file, opts.maxBytes ?? maxBytesFromEnv(), Math.max(1, opts.keep ?? LOG_KEEP));
  } catch (e) {
    // no logs dir (a read-only home): say so once, on stderr, and log nothing rather than fail the caller
    process.stderr.write(`cao-mcp: cannot open the log ${name}: ${(e as Error).message}; logging off\n`);
    root = pino({ level: 'silent' }, { write: () => undefined }); // a destination of its own: never stdout
    return root;
  }
  if (!monitoring) {
    // A crash is in the log too (Node still prints it on stderr and exits; the exit hook writes what is queued).
    process.on('uncaughtExceptionMonitor', (err, origin) => void (root && logger('process').fatal({ err, origin }, 'uncaught exception')));
    monitoring = true;
  }
  root = pino(
    {
      level: opts.level ?? levelFromEnv(),
      base: { pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    },
    dest,
  );
  return root;
}

/** The logger of one part of the process (`hub`, `delivery`, `journal`, `worktrees`, `http`, `ptyhost`…). */
export function logger(component: string): Logger {
  const r = root ?? configureLog();
  let child = children.get(component);
  if (!child) {
    child = r.child({ component });
    children.set(component, child);
  }
  return child;
}

/**
 * Resolves once every line logged so far is in the file (at most `ms` later). Exit flushes by itself, but
 * synchronously: a write still in flight then can land after the lines flushed behind it (order by `time`).
 */
export function flushLog(ms = 2000): Promise<void> {
  return dest?.drained(ms) ?? Promise.resolve();
}

/** Ends the file (its queued lines are still written) and forgets the logger (tests; reconfiguring). */
export function closeLog(): void {
  dest?.close();
  dest = null;
  root = null;
  children.clear();
}

/** The file the process logger writes to (null before the first log). */
export function logFile(): string | null {
  return dest?.file ?? null;
}

/**
 * A pino destination that rotates by size: pino's SonicBoom (async writes from this thread, flushed
 * synchronously on exit) plus a byte count. The file is opened synchronously and handed over as a descriptor,
 * so a process that logs and exits at once (a second pty host) still writes its lines; rotating opens the
 * new file and ends the old stream, whose queued lines land in the renamed file. Several processes may append
 * to one file (every hub process and stdio front of a home writes `hub.log`): each counts what the file held
 * when it opened it plus its own lines, and one that finds the file already rotated by another only reopens it.
 * So a file shared by n busy writers can pass the limit by up to n times before it turns over.
 */
class RotatingFile implements DestinationStream {
  private boom: SonicBoom | null = null;
  private readonly ending = new Set<SonicBoom>();
  private size = 0;
  private ino = 0;
  private broken = false;

  constructor(
    readonly file: string,
    private readonly maxBytes: number,
    private readonly keep: number,
  ) {
    this.open();
  }

  private open(): void {
    const fd = openSync(this.file, 'a', 0o600);
    try {
      fchmodSync(fd, 0o600); // a file made by an older version, or by hand
    } catch {
      /* not ours */
    }
    const st = fstatSync(fd);
    this.size = st.size;
    this.ino = st.ino;
    const boom = pino.destination({ dest: fd, sync: false });
    boom.on('error', (err: Error) => {
      // One line on stderr (never stdout), then the logger goes quiet rather than taking the process down.
      if (!this.broken) process.stderr.write(`cao-mcp: log ${this.file}: ${err.message}; logging off\n`);
      this.broken = true;
    });
    this.boom = boom;
  }

  write(line: string): void {
    if (this.broken || !this.boom) return;
    this.boom.write(line);
    this.size += Buffer.byteLength(line);
    if (this.size > this.maxBytes) this.rotate();
  }

  private rotate(): void {
    // Our own writes may still be queued, so the file's size says little; whether it is still ours says enough.
    if (inodeOf(this.file) === this.ino) {
      try {
        for (let i = this.keep - 1; i >= 1; i--) renameIfThere(`${this.file}.${i}`, `${this.file}.${i + 1}`);
        renameSync(this.file, `${this.file}.1`);
      } catch {
        /* another process rotated it between the stat and the rename */
      }
    } // else another process rotated it: our descriptor still points at an old file
    const old = this.boom;
    try {
      this.open();
    } catch (e) {
      this.broken = true;
      process.stderr.write(`cao-mcp: log ${this.file}: ${(e as Error).message}; logging off\n`);
    }
    if (old) this.retire(old);
  }

  /** Once neither the stream nor one a rotation ended has anything queued or in flight. */
  drained(ms: number): Promise<void> {
    const streams = [...this.ending, ...(this.boom ? [this.boom] : [])];
    return Promise.all(
      streams.map(
        (b) =>
          new Promise<void>((resolve) => {
            const timer = setTimeout(done, ms);
            function done() {
              clearTimeout(timer);
              b.off('drain', check);
              b.off('close', done);
              resolve();
            }
            // SonicBoom says when a write ended ('drain'), not whether one is under way: its own fields do
            function check() {
              const q = b as unknown as { _writing: boolean; _len: number; destroyed: boolean };
              if (q.destroyed || (!q._writing && q._len === 0)) done();
            }
            b.on('drain', check);
            b.on('close', done);
            check();
          }),
      ),
    ).then(() => undefined);
  }

  close(): void {
    if (this.boom) this.retire(this.boom);
    this.boom = null;
  }

  /** Ends a stream: what it has queued is still written (to the file it was opened on), then it closes. */
  private retire(b: SonicBoom): void {
    this.ending.add(b);
    b.once('close', () => this.ending.delete(b));
    try {
      b.end();
    } catch {
      this.ending.delete(b); // already closed
    }
  }
}

function inodeOf(file: string): number {
  try {
    return statSync(file).ino;
  } catch {
    return -1;
  }
}

function renameIfThere(from: string, to: string): void {
  try {
    renameSync(from, to);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
}
