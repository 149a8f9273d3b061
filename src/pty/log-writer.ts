import { createWriteStream, renameSync, statSync, type WriteStream } from 'node:fs';
import { join } from 'node:path';
import type { Bus } from '../bus/bus.js';
import { onTerminal } from '../bus/by-terminal.js';
import { logsDir } from '../util/paths.js';
import { logger } from '../util/log.js';

/** Output is batched: one file write per second (or 64 KiB) instead of one per pty chunk. */
const FLUSH_MS = 1000;
const FLUSH_BYTES = 64 * 1024;

/** Default size at which a log is rotated (limits.logMaxBytes). */
export const LOG_MAX_BYTES = 16 * 1024 * 1024;

/**
 * Appends a terminal's raw output to `$CAO_HOME/logs/<id>.log` (a bus consumer, like the screen).
 * Logs are read by people, so a second of delay costs nothing; a write per chunk cost a third of
 * the hub's CPU at 100 busy agents. Past `maxBytes` the log is rotated: `<id>.log` becomes `<id>.log.1`
 * (replacing an older one), so one terminal's logs never take more than about twice that.
 */
export class TerminalLogWriter {
  readonly file: string;
  private stream: WriteStream;
  private size = 0;
  private readonly unsubscribe: () => void;
  private pending: string[] = [];
  private pendingBytes = 0;
  private timer: NodeJS.Timeout | null = null;

  constructor(
    bus: Bus,
    readonly terminalId: string,
    private readonly maxBytes = LOG_MAX_BYTES,
  ) {
    this.file = join(logsDir(), `${terminalId}.log`);
    try {
      this.size = statSync(this.file).size;
    } catch {
      this.size = 0;
    }
    this.stream = this.open();
    this.unsubscribe = onTerminal(bus, 'output', terminalId, (e) => {
      this.pending.push(e.data);
      this.pendingBytes += e.data.length;
      if (this.pendingBytes >= FLUSH_BYTES) this.flush();
      else this.timer ??= setTimeout(() => this.flush(), FLUSH_MS);
    });
  }

  /** Writes what is buffered now. */
  flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (!this.pending.length) return;
    const data = this.pending.join('');
    this.pending = [];
    this.pendingBytes = 0;
    if (this.size > 0 && this.size + Buffer.byteLength(data) > this.maxBytes) this.rotate();
    this.stream.write(data);
    this.size += Buffer.byteLength(data);
  }

  private open(): WriteStream {
    const stream = createWriteStream(this.file, { flags: 'a', mode: 0o600 });
    stream.on('error', (err) => logger('pty').error({ file: this.file, error: err.message }, 'cannot write a terminal log'));
    return stream;
  }

  /** `<id>.log` → `<id>.log.1`; writes still queued on the old stream land in the renamed file. */
  private rotate(): void {
    this.stream.end();
    try {
      renameSync(this.file, `${this.file}.1`);
    } catch (err) {
      logger('pty').error({ file: this.file, error: (err as Error).message }, 'could not rotate a terminal log');
    }
    this.stream = this.open();
    this.size = 0;
  }

  close(): Promise<void> {
    this.unsubscribe();
    this.flush();
    return new Promise((r) => this.stream.end(r));
  }
}
