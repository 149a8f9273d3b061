import { afterEach, describe, expect, it } from 'vitest';
import { submitInput } from '../src/agents/input.js';
import { StatusMonitor } from '../src/agents/monitor.js';
import type { Terminal } from '../src/agents/terminal.js';
import { createBus } from '../src/bus/bus.js';
import { geminiCliProvider } from '../src/providers/gemini-cli.js';
import { ScreenFeed } from '../src/screen/screen-feed.js';

/*
 * submitInput against a simulated Gemini CLI screen (the layout of tests/providers-gemini.test.ts, drawn through a
 * real emulator): the first Enter lands inside Gemini's paste guard and becomes a newline, drawn after a frame that
 * is caught mid-redraw (no input box on it), the way the real CLI did under load in the full real-CLI suite.
 */
const W = 100;
const rule = (ch: string) => ch.repeat(W);
const banner = [' ▝▜▄     Gemini CLI v0.61.0', ''];
const composer = (input: string[]) => [
  ' '.repeat(W - 17) + '? for shortcuts',
  rule('─'),
  ' YOLO Ctrl+Y',
  rule('▄'),
  ...input.map((l) => ` ${l}`),
  rule('▀'),
  ' workspace (/directory)          sandbox          /model',
];
const draw = (rows: string[]) => `\x1b[H\x1b[2J${rows.join('\r\n')}`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const cleanups: (() => void)[] = [];
afterEach(() => cleanups.splice(0).forEach((f) => f()));

function simulatedGemini(opts: { newlineEnters: number }) {
  const bus = createBus();
  const feed = new ScreenFeed(bus, 't1', { cols: W, rows: 30, reply: () => undefined });
  const monitor = new StatusMonitor(bus, 't1', feed, geminiCliProvider);
  cleanups.push(() => {
    monitor.dispose();
    feed.dispose();
  });
  const out = (data: string) => bus.emit('output', { terminalId: 't1', data });
  const writes: string[] = [];
  let typed = '';
  let newlines = 0;
  let enters = 0;
  const t = {
    id: 't1',
    alive: true,
    feed,
    monitor,
    provider: geminiCliProvider,
    assertMayType: () => undefined,
    write(data: string) {
      writes.push(data);
      if (data.startsWith('\x1b[200~')) {
        typed = data.slice(6, -6);
        out(draw([...banner, ...composer([`* ${typed}`])]));
      } else if (data === '\r') {
        enters++;
        if (enters <= opts.newlineEnters) {
          // mid-redraw for 40 ms (no box), then the box with the text and a new empty row in it
          newlines++;
          out(draw(banner));
          setTimeout(() => out(draw([...banner, ...composer([`* ${typed}`, ...Array<string>(newlines).fill('  ')])])), 40);
        } else {
          out(draw([...banner, rule('▄'), ` > ${typed}`, rule('▀'), '', '✦ done', '', ...composer(['*   Type your message or @path/to/file'])]));
        }
      }
    },
  };
  // bracketed paste on, as Gemini asks for it
  out('\x1b[?2004h' + draw([...banner, ...composer(['*   Type your message or @path/to/file'])]));
  return { t: t as unknown as Terminal, writes, enters: () => enters };
}

describe('submitInput: an Enter taken as a newline', () => {
  it('is not confirmed on a frame caught mid-redraw: the text is seen still in the box and Enter is sent again', async () => {
    const g = simulatedGemini({ newlineEnters: 1 });
    await sleep(100);
    await submitInput(g.t, 'do the first task');
    expect(g.enters()).toBe(2);
    const screen = g.t.feed.screen.snapshot(30).lines.join('\n');
    expect(screen).toContain('✦ done');
    expect(geminiCliProvider.inputPending!(g.t.monitor.detectSnapshot())).toBe(false);
  });

  it('gives up with input_not_taken when no Enter is ever taken, instead of reporting the task typed', async () => {
    const g = simulatedGemini({ newlineEnters: 99 });
    await sleep(100);
    await expect(submitInput(g.t, 'do the first task', { confirmMs: 300 })).rejects.toMatchObject({ code: 'input_not_taken' });
    expect(g.enters()).toBe(3);
  });
});
