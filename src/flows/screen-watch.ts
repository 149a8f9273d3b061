import type { Bus, BusEvents } from '../bus/bus.js';
import type { Terminal } from '../agents/terminal.js';
import { serializeAfterPending } from '../screen/serialize.js';
import { describeCause } from '../status/cause.js';

/** Where a watched screen goes (the dashboard's SSE stream): named events of plain data, then an end. */
export interface ScreenSink {
  send(event: 'screen' | 'output' | 'status' | 'end', data: unknown): void;
  end(): void;
  onClose(fn: () => void): void;
}

/** Output chunks arriving within this window go out as one event (a streaming TUI writes many tiny chunks). */
const COALESCE_MS = 8;
/** A resize without any output after it is noticed this fast. */
const RESIZE_POLL_MS = 500;

/**
 * One agent's live screen, as events (the dashboard sends them over SSE):
 *   `screen` {cols, rows, data, status}  draw this into an empty terminal of that size (sent first, and again after a resize)
 *   `output` {data}                      the agent's raw output, in order, right after the last `screen`
 *   `status` {status, question}          its status changed
 *   `end`    {reason}                    it exited; the stream closes
 * The first `screen` and the `output` after it join without a gap or an overlap (see serializeAfterPending).
 */
export function watchScreen(sse: ScreenSink, bus: Bus, t: Terminal, opts: { scrollback: number }): void {
  let queue: string[] | null = [];
  let pending = '';
  let flushTimer: NodeJS.Timeout | null = null;
  let size = '';

  const flush = () => {
    if (flushTimer) clearTimeout(flushTimer);
    flushTimer = null;
    if (pending) sse.send('output', { data: pending });
    pending = '';
  };

  /** (Re)starts the stream with a full image; output meanwhile waits in the queue. */
  const sendImage = () => {
    flush();
    queue = [];
    size = `${t.feed.screen.cols}x${t.feed.screen.rows}`;
    serializeAfterPending(t.feed.screen, { scrollback: opts.scrollback })
      .then((img) => {
        sse.send('screen', { ...img, status: t.status });
        const q = queue ?? [];
        queue = null;
        for (const d of q) pending += d;
        flush();
      })
      .catch((e: Error) => {
        sse.send('end', { reason: `could not read the screen: ${e.message}` });
        sse.end();
      });
  };

  const resized = () => `${t.feed.screen.cols}x${t.feed.screen.rows}` !== size;

  const onOutput = (e: BusEvents['output']) => {
    if (e.terminalId !== t.id) return;
    if (queue) return void queue.push(e.data);
    if (resized()) {
      // The emulator got this chunk before us (its listener was registered first), so the image taken now holds it.
      sendImage();
      return;
    }
    pending += e.data;
    flushTimer ??= setTimeout(flush, COALESCE_MS);
  };
  const onStatus = (e: BusEvents['status']) => {
    if (e.terminalId !== t.id) return;
    flush();
    if (e.status === 'exited') {
      sse.send('end', { reason: describeCause(e.cause) });
      sse.end();
      return;
    }
    sse.send('status', { status: e.status, question: e.status === 'waiting_user_answer' ? t.questionNow() : null });
  };
  const poll = setInterval(() => {
    if (!queue && resized()) sendImage();
  }, RESIZE_POLL_MS);

  bus.on('output', onOutput);
  bus.on('status', onStatus);
  sse.onClose(() => {
    clearInterval(poll);
    if (flushTimer) clearTimeout(flushTimer);
    bus.off('output', onOutput);
    bus.off('status', onStatus);
  });
  sendImage();
}
