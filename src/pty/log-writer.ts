import { createWriteStream, type WriteStream } from 'node:fs';
import { join } from 'node:path';
import type { Bus, BusEvents } from '../bus/bus.js';
import { logsDir } from '../util/paths.js';

/** Appends a terminal's raw output to `$CAO_HOME/logs/<id>.log` (a bus consumer, like the screen). */
export class TerminalLogWriter {
  readonly file: string;
  private readonly stream: WriteStream;
  private readonly handler: (e: BusEvents['output']) => void;

  constructor(
    private readonly bus: Bus,
    readonly terminalId: string,
  ) {
    this.file = join(logsDir(), `${terminalId}.log`);
    this.stream = createWriteStream(this.file, { flags: 'a', mode: 0o600 });
    this.stream.on('error', (err) => process.stderr.write(`cao-mcp: log ${this.file}: ${err.message}\n`));
    this.handler = (e) => {
      if (e.terminalId === terminalId) this.stream.write(e.data);
    };
    bus.on('output', this.handler);
  }

  close(): Promise<void> {
    this.bus.off('output', this.handler);
    return new Promise((r) => this.stream.end(r));
  }
}
