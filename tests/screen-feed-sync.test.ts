import { afterEach, describe, expect, it } from 'vitest';
import { createBus } from '../src/bus/bus.js';
import { onTerminal } from '../src/bus/by-terminal.js';
import { ScreenFeed } from '../src/screen/screen-feed.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const cleanups: (() => void)[] = [];
afterEach(() => cleanups.splice(0).forEach((f) => f()));

function rig() {
  const bus = createBus();
  const feed = new ScreenFeed(bus, 't1', { cols: 80, rows: 10, reply: () => undefined });
  const quiet: string[] = [];
  const off = onTerminal(bus, 'settled', 't1', (e) => {
    if (e.quiet) quiet.push(feed.screen.snapshot(10).lines.join('|').trim());
  });
  cleanups.push(() => {
    off();
    feed.dispose();
  });
  return { quiet, out: (data: string) => bus.emit('output', { terminalId: 't1', data }) };
}

describe('ScreenFeed: a synchronized update (DEC 2026) is one frame', () => {
  it('a pause inside the update is not a quiet screen; the end of the update is', async () => {
    const r = rig();
    r.out('\x1b[?2026h\x1b[H● SECOND-copil');
    await sleep(200); // far past the 40 ms of quiet, the update still open
    expect(r.quiet).toEqual([]);
    r.out('ot-2\x1b[?2026l');
    await sleep(150);
    expect(r.quiet).toHaveLength(1);
    expect(r.quiet[0]).toContain('● SECOND-copilot-2');
  });

  it('an update left open is looked at after a second all the same', async () => {
    const r = rig();
    r.out('\x1b[?2026h\x1b[Hhalf a frame');
    await sleep(600);
    expect(r.quiet).toEqual([]);
    await sleep(700);
    expect(r.quiet).toHaveLength(1);
    expect(r.quiet[0]).toContain('half a frame');
  });
});
