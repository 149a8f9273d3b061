import { createWriteStream, type WriteStream } from 'node:fs';
import { join } from 'node:path';
import type { Bus } from '../bus/bus.js';
import { onTerminal } from '../bus/by-terminal.js';
import { logsDir } from '../util/paths.js';

/** Output is batched: one file write per second (or 64 KiB) instead of one per pty chunk. */
const FLUSH_MS = 1000;
const FLUSH_BYTES = 64 * 1024;

/**
 * Appends a terminal's raw output to `$CAO_HOME/logs/<id>.log` (a bus consumer, like the screen).
 * Logs are read by people, so a second of delay costs nothing; a write per chunk cost a third of
 * the hub's CPU at 100 busy agents.
 */
export class TerminalLogWriter {
  readonly file: string;
  private readonly stream: WriteStream;
  private readonly unsubscribe: () => void;
  private pending: string[] = [];
  private pendingBytes = 0;
  private timer: NodeJS.Timeout | null = null;

  constructor(
    bus: Bus,
    readonly terminalId: string,
  ) {
    this.file = join(logsDir(), `${terminalId}.log`);
    this.stream = createWriteStream(this.file, { flags: 'a', mode: 0o600 });
    this.stream.on('error', (err) => process.stderr.write(`cao-mcp: log ${this.file}: ${err.message}\n`));
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
    this.stream.write(this.pending.join(''));
    this.pending = [];
    this.pendingBytes = 0;
  }

  close(): Promise<void> {
    this.unsubscribe();
    this.flush();
    return new Promise((r) => this.stream.end(r));
  }
}
