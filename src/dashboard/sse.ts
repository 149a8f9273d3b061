import type { IncomingMessage, ServerResponse } from 'node:http';

/** One Server-Sent Events stream. Data is JSON (one line), so any text — newlines, escapes — travels safely. */
export interface SseStream {
  send(event: string, data: unknown): void;
  /** Runs once when the client goes away or the stream is ended. */
  onClose(fn: () => void): void;
  end(): void;
  readonly closed: boolean;
}

const HEARTBEAT_MS = 15_000;

export function openSse(req: IncomingMessage, res: ServerResponse): SseStream {
  res.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-store',
    connection: 'keep-alive',
    'x-accel-buffering': 'no',
  });
  // Ask the browser to wait a little before reconnecting after a drop (it does so by itself).
  res.write('retry: 1500\n\n');
  req.socket.setNoDelay(true);
  let closed = false;
  const closers: Array<() => void> = [];
  const heartbeat = setInterval(() => res.write(': keep-alive\n\n'), HEARTBEAT_MS);
  const close = () => {
    if (closed) return;
    closed = true;
    clearInterval(heartbeat);
    for (const fn of closers.splice(0)) {
      try {
        fn();
      } catch {
        /* a closer's failure must not keep the others from running */
      }
    }
  };
  req.on('close', close);
  res.on('close', close);
  res.on('error', close);
  return {
    send(event, data) {
      if (closed) return;
      res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
    },
    onClose(fn) {
      if (closed) fn();
      else closers.push(fn);
    },
    end() {
      if (!closed) res.end();
      close();
    },
    get closed() {
      return closed;
    },
  };
}
