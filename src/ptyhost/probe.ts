import { connect } from 'node:net';
import { lineReader, PROTOCOL } from './protocol.js';

export interface HelloAnswer {
  protocol: number;
  pid: number;
  version: string;
}

/** Asks whatever listens on `socketPath` for its `hello`; null when nothing answers like a pty host in time. */
export function probeHello(socketPath: string, timeoutMs = 1000): Promise<HelloAnswer | null> {
  return new Promise((resolve) => {
    const sock = connect(socketPath);
    const done = (v: HelloAnswer | null) => {
      clearTimeout(timer);
      sock.destroy();
      resolve(v);
    };
    const timer = setTimeout(() => done(null), timeoutMs);
    sock.on('error', () => done(null));
    sock.on('close', () => done(null));
    sock.on('connect', () => sock.write(`${JSON.stringify({ id: 0, op: 'hello' })}\n`));
    sock.on(
      'data',
      lineReader(
        (m) => {
          if (m.id === 0 && m.ok === true && typeof m.protocol === 'number') done(m as unknown as HelloAnswer);
        },
        () => done(null),
      ),
    );
  });
}

export const speaksOurProtocol = (h: HelloAnswer | null) => h !== null && h.protocol === PROTOCOL;
