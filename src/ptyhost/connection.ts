import type { Socket } from 'node:net';
import { lineReader, type HostEvent } from './protocol.js';
import type { OutputSink } from './host-terminal.js';

/** One client of the host: a socket that reads requests and writes answers and events, one JSON a line. */
export class Connection implements OutputSink {
  private static next = 1;
  readonly n = Connection.next++;
  closed = false;

  constructor(
    readonly socket: Socket,
    onRequest: (c: Connection, msg: Record<string, unknown>) => void,
    onBad: (c: Connection, line: string) => void,
  ) {
    const read = lineReader(
      (m) => onRequest(this, m),
      (l) => onBad(this, l),
    );
    socket.on('data', read);
    socket.on('close', () => (this.closed = true));
    socket.on('error', () => {
      /* a client that vanished: 'close' follows */
    });
  }

  send(msg: object): void {
    if (this.closed || this.socket.destroyed) return;
    this.socket.write(`${JSON.stringify(msg)}\n`);
  }

  event(e: HostEvent): void {
    this.send(e);
  }

  data(tid: string, data: string): void {
    this.send({ ev: 'data', tid, data });
  }

  answer(id: unknown, fields: object): void {
    this.send({ id, ok: true, ...fields });
  }

  fail(id: unknown, error: string): void {
    this.send({ id, ok: false, error });
  }
}
