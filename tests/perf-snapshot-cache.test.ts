/*
 * The cached detection snapshot must equal Screen.snapshot exactly, whatever the output does to the buffer:
 * scrolling (and trimming once the scrollback is full), erasing the scrollback (ED 3), scroll regions, inserted and
 * deleted lines, reverse index, the alternate screen, a full reset, resizes. Random streams, checked after every write.
 */
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { createBus } from '../src/bus/bus.js';
import { Screen } from '../src/screen/screen.js';
import { ScreenFeed } from '../src/screen/screen-feed.js';
import { SnapshotCache } from '../src/screen/snapshot-cache.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const fixtures = path.join(repoRoot, 'tests', 'fixtures', 'cao');

const disposers: Array<() => void> = [];
afterEach(() => {
  for (const d of disposers.splice(0)) d();
});

/** xorshift32: a small seeded generator, so a failure can be replayed. */
function rng(seed: number) {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 2 ** 32;
  };
}

const WORDS = ['alpha', 'beta', 'gamma', 'δέλτα', '宽字符', 'x', '', '   ', 'tail   '];

function randomOp(r: () => number, rows: number): string {
  const n = (k: number) => Math.floor(r() * k);
  const word = () => WORDS[n(WORDS.length)];
  switch (n(22)) {
    case 0:
    case 1:
    case 2:
    case 3:
      return `${word()} ${word()} ${n(1000)}\r\n`;
    case 4:
      return `${'long line '.repeat(1 + n(30))}\r\n`; // soft-wrapped
    case 5:
      return `\x1b[${1 + n(rows)};${1 + n(40)}H${word()}`; // cursor position + text
    case 6:
      return `\x1b[${1 + n(5)}A${word()}`;
    case 7:
      return `\x1b[${[0, 1, 2][n(3)]}J`;
    case 8:
      return '\x1b[3J'; // erase the scrollback
    case 9:
      return `\x1b[${[0, 1, 2][n(3)]}K${word()}`;
    case 10: {
      const top = 1 + n(rows - 2);
      return `\x1b[${top};${top + 1 + n(rows - top)}r`; // scroll region
    }
    case 11:
      return '\x1b[r'; // region off
    case 12:
      return `\x1b[${1 + n(3)}L`; // insert lines
    case 13:
      return `\x1b[${1 + n(3)}M`; // delete lines
    case 14:
      return '\x1bM'; // reverse index
    case 15:
      return `\x1b[${1 + n(4)}S`; // scroll up
    case 16:
      return `\x1b[${1 + n(4)}T`; // scroll down
    case 17:
      return r() < 0.5 ? '\x1b[?1049h' : '\x1b[?1049l'; // alternate screen
    case 18:
      return r() < 0.1 ? '\x1bc' : '\r\n\r\n\r\n'; // full reset (rarely)
    case 19:
      return '\n'.repeat(1 + n(rows + 5)); // a burst of scrolling
    case 20:
      return `\r\x1b[${1 + n(6)}A\x1b[J${word()}\r\n${word()}`; // an inline renderer's redraw
    default:
      return `\x1b[2K\x1b[1A\x1b[2K\x1b[G${word()}`; // Ink's erase-lines
  }
}

function check(screen: Screen, cache: SnapshotCache, maxLines: number, where: string): void {
  const want = screen.snapshot(maxLines);
  const got = cache.snapshot(maxLines);
  expect(got, where).toEqual(want);
}

describe('SnapshotCache', () => {
  for (const seed of [1, 2, 3, 4, 5, 6, 7, 8]) {
    it(`equals Screen.snapshot on a random stream (seed ${seed})`, async () => {
      const r = rng(seed * 7919);
      const rows = 8 + Math.floor(r() * 10);
      // small scrollback: the buffer is soon full and every scroll trims a row
      const screen = new Screen({ cols: 40, rows, scrollback: 20 + Math.floor(r() * 40) });
      const cache = new SnapshotCache(screen.term);
      disposers.push(() => (cache.dispose(), screen.dispose()));
      const maxLines = rows + 15;
      for (let step = 0; step < 600; step++) {
        let data = '';
        for (let k = 1 + Math.floor(r() * 4); k > 0; k--) data += randomOp(r, rows);
        await screen.write(data);
        if (r() < 0.02) screen.resize(30 + Math.floor(r() * 30), rows + Math.floor(r() * 3) - 1);
        check(screen, cache, maxLines, `seed ${seed} step ${step} after ${JSON.stringify(data)}`);
        if (r() < 0.05) check(screen, cache, Infinity, `seed ${seed} step ${step} (all lines)`);
      }
    });
  }

  it('equals Screen.snapshot while the recorded raw streams are replayed in a loop', async () => {
    if (!existsSync(fixtures)) throw new Error(`fixtures missing: ${fixtures}`);
    const files = readdirSync(fixtures).filter((f) => f.endsWith('_raw.txt'));
    expect(files.length).toBeGreaterThan(0);
    const screen = new Screen({ cols: 200, rows: 50, scrollback: 400 });
    const cache = new SnapshotCache(screen.term);
    disposers.push(() => (cache.dispose(), screen.dispose()));
    for (let round = 0; round < 3; round++) {
      for (const f of files) {
        const data = readFileSync(path.join(fixtures, f), 'utf8').replace(/\r?\n/g, '\r\n');
        for (let i = 0; i < data.length; i += 1500) {
          await screen.write(data.slice(i, i + 1500));
          check(screen, cache, 350, `${f} at ${i} (round ${round})`);
        }
      }
    }
  });

  it('starts over after a resize (the emulator reflows wrapped rows in the scrollback)', async () => {
    const screen = new Screen({ cols: 40, rows: 8, scrollback: 100 });
    const cache = new SnapshotCache(screen.term);
    disposers.push(() => (cache.dispose(), screen.dispose()));
    let text = '';
    for (let i = 0; i < 30; i++) text += `${i}: ${'wrapped words '.repeat(5)}\r\n`;
    await screen.write(text);
    check(screen, cache, 60, 'before');
    for (const cols of [60, 25, 41]) {
      screen.resize(cols, 8); // same rows: the line store keeps its size
      check(screen, cache, 60, `after resize to ${cols} columns`);
      await screen.write('more\r\n');
      check(screen, cache, 60, `after output at ${cols} columns`);
    }
  });

  it('reads again only what changed: the rows a frame wrote, or the viewport and what scrolled out of it', async () => {
    const screen = new Screen({ cols: 80, rows: 10, scrollback: 1000 });
    const cache = new SnapshotCache(screen.term);
    disposers.push(() => (cache.dispose(), screen.dispose()));
    let text = '';
    for (let i = 0; i < 400; i++) text += `history ${i}\r\n`;
    await screen.write(text);
    cache.snapshot(310);
    // count row reads from here on
    const buf = screen.term.buffer.active;
    const getLine = buf.getLine.bind(buf);
    let reads = 0;
    const spy = (y: number) => {
      reads++;
      return getLine(y);
    };
    Object.defineProperty(screen.term.buffer, 'active', {
      get: () => Object.assign(Object.create(Object.getPrototypeOf(buf)), buf, { getLine: spy }),
      configurable: true,
    });
    // a spinner frame: redraws the bottom three rows, nothing scrolls
    await screen.write('\x1b[2A\x1b[J✶ Thinking… (1s)\r\n\r\nfooter');
    check(screen, cache, 310, 'after a frame');
    const frameReads = reads;
    reads = 0;
    cache.snapshot(310);
    expect(frameReads).toBeGreaterThanOrEqual(1 + 310); // check() read every row once for Screen.snapshot
    expect(frameReads - 310).toBeLessThanOrEqual(3); // the cache: only the rows the frame wrote
    expect(reads).toBe(0); // nothing written since: nothing read
    // output that scrolls: the viewport and the rows that scrolled out of it
    await screen.write('one\r\ntwo\r\n');
    cache.snapshot(310);
    expect(reads).toBeGreaterThanOrEqual(10);
    expect(reads).toBeLessThanOrEqual(10 + 2);
    check(screen, cache, 310, 'after scrolling');
  });

  it('a ScreenFeed gives the monitor the same snapshot as the screen', async () => {
    const bus = createBus();
    const feed = new ScreenFeed(bus, 't', { cols: 60, rows: 12, reply: () => undefined });
    disposers.push(() => feed.dispose());
    const r = rng(99);
    for (let step = 0; step < 300; step++) {
      bus.emit('output', { terminalId: 't', data: randomOp(r, 12) + randomOp(r, 12) });
      await feed.screen.write('');
      expect(feed.detectSnapshot(40)).toEqual(feed.screen.snapshot(40));
    }
  });
});
