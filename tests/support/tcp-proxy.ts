// A TCP proxy to a local port that a test can cut (every connection dropped, new ones refused) and heal: a link to the
// database that goes away and comes back, where a network namespace cannot be made.
import { connect, createServer, type Server, type Socket } from 'node:net';

export interface TcpProxy {
  /** Where the proxy listens (127.0.0.1). */
  readonly port: number;
  cut(): Promise<void>;
  heal(): Promise<void>;
  close(): Promise<void>;
}

export async function tcpProxy(target: number): Promise<TcpProxy> {
  const sockets = new Set<Socket>();
  let srv: Server | null = null;
  let own = 0;
  const listen = () =>
    new Promise<void>((resolve) => {
      const s = createServer((c) => {
        const up = connect(target, '127.0.0.1');
        for (const x of [c, up]) {
          sockets.add(x);
          x.on('error', () => undefined);
          x.on('close', () => sockets.delete(x));
        }
        c.pipe(up).pipe(c);
      });
      s.listen(own, '127.0.0.1', () => {
        own = (s.address() as { port: number }).port;
        srv = s;
        resolve();
      });
    });
  const cut = async () => {
    const s = srv;
    srv = null;
    const closed = s ? new Promise((r) => s.close(() => r(undefined))) : Promise.resolve();
    for (const x of sockets) x.destroy();
    await closed;
  };
  await listen();
  return {
    get port() {
      return own;
    },
    cut,
    heal: listen,
    close: cut,
  };
}
