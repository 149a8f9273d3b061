import serializeModule from '@xterm/addon-serialize';
import type { Screen } from './screen.js';

// @xterm/addon-serialize is CommonJS: take the class off the default export.
const { SerializeAddon } = serializeModule as unknown as typeof import('@xterm/addon-serialize');

/** A rendered screen as escape sequences: written into an empty terminal of `cols`×`rows`, it draws the same screen. */
export interface ScreenImage {
  cols: number;
  rows: number;
  /** Cursor position and modes included (bracketed paste, application cursor keys…). */
  data: string;
}

export interface SerializeOptions {
  /** Rows of scrollback to include above the visible rows (default: all the emulator kept). */
  scrollback?: number;
}

/** Serializes what the emulator has parsed so far (writes still queued are not in it). */
export function serializeScreen(screen: Screen, opts: SerializeOptions = {}): ScreenImage {
  const addon = new SerializeAddon();
  // The headless terminal accepts the addon like the browser one; it only reads the buffer.
  screen.term.loadAddon(addon as unknown as Parameters<Screen['term']['loadAddon']>[0]);
  try {
    const data = addon.serialize({ scrollback: opts.scrollback });
    return { cols: screen.cols, rows: screen.rows, data };
  } finally {
    addon.dispose();
  }
}

/**
 * Serializes the screen exactly as it stands after every output written to it *until now* — no more, no less.
 * xterm parses writes in order and runs a write's callback right after its chunk, before the next one: an
 * empty write queued now fires once everything queued before it is parsed and nothing after it is. So a
 * consumer that subscribes to the terminal's output in the same tick as it calls this gets a seamless
 * stream: this image, then every later chunk.
 */
export function serializeAfterPending(screen: Screen, opts: SerializeOptions = {}): Promise<ScreenImage> {
  return new Promise((resolve, reject) => {
    screen.term.write('', () => {
      try {
        resolve(serializeScreen(screen, opts));
      } catch (e) {
        reject(e as Error);
      }
    });
  });
}
