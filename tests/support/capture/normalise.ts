import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** Where the captured CLI seems to run, on every committed screen: the same on every machine. */
export const CAPTURE_CWD = '/home/dev/prj';
export const CAPTURE_HOME = '/home/dev';
export const CAPTURE_TMP = '/tmp/cao-capture';

export interface Rewrite {
  from: string;
  to: string;
}

/**
 * The rewrites that make a capture independent of the machine and the run: the working directory, the
 * throwaway HOME and the temp root, longest first (the working directory may sit inside the temp root).
 */
export function machineRewrites(dirs: { cwd: string; home: string; tmpRoot: string }): Rewrite[] {
  const all: Rewrite[] = [
    { from: dirs.cwd, to: CAPTURE_CWD },
    { from: dirs.home, to: CAPTURE_HOME },
    { from: dirs.tmpRoot, to: CAPTURE_TMP },
  ];
  return all.filter((r) => r.from && r.from !== r.to).sort((a, b) => b.from.length - a.from.length);
}

/** Applies the rewrites to text (a rendered row, a colour row, a raw stream, a provenance value). */
export function normalise(text: string, rewrites: Rewrite[]): string {
  let out = text;
  for (const r of rewrites) out = out.split(r.from).join(r.to);
  return out;
}

/** CSI, OSC, charset and other short escape sequences, as they sit between drawn characters in a pty stream. */
const ESCAPES = String.raw`(?:\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[()*+][0-~]|\x1b[@-Z\\-_=>78])`;
const reEscape = (ch: string) => ch.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

/**
 * Applies the rewrites to a raw pty stream. A TUI may draw a path character by character with escapes in
 * between (colours, cursor moves): a rewrite of equal length replaces the characters and keeps those escapes,
 * so the stream still renders to the normalised screens.
 */
export function normaliseStream(raw: string, rewrites: Rewrite[]): string {
  let out = raw;
  for (const r of rewrites) {
    const from = Array.from(r.from);
    const to = Array.from(r.to);
    if (from.length !== to.length) {
      out = normalise(out, [r]);
      continue;
    }
    const re = new RegExp(from.map(reEscape).join(`(${ESCAPES}*)`), 'g');
    // m[1..n-1] are the escapes between the n characters (then come the offset and the whole string)
    out = out.replace(re, (...m: unknown[]) => to.map((ch, i) => ch + (i < to.length - 1 ? (m[i + 1] as string) : '')).join(''));
  }
  return out;
}

/** The text of a stream with its escape sequences removed (to look for leftovers drawn in pieces). */
export const withoutEscapes = (raw: string) => raw.replace(new RegExp(ESCAPES, 'g'), '');

/** The rewrites' `from` strings still in `text` (a capture must never carry a path of the machine). */
export function leftovers(text: string, rewrites: Rewrite[]): string[] {
  return rewrites.filter((r) => text.includes(r.from) || withoutEscapes(text).includes(r.from)).map((r) => r.from);
}

/**
 * A fresh working directory `<temp dir>/<random>/prj` whose path is as long as CAPTURE_CWD when the temp dir allows
 * it (`/tmp/abcd/prj`): the rewrite then keeps every column in place, in the screens and in the raw stream, so the
 * raw stream still renders to the committed screens. Its name is CAPTURE_CWD's: CLIs that show the project's name
 * (Qwen Code's footer, window titles) show `prj`, the same on every run. Remove it with `path.dirname(dir)`.
 */
export function makeCaptureCwd(tmpDir = os.tmpdir()): string {
  const name = path.basename(CAPTURE_CWD);
  const rand = CAPTURE_CWD.length - tmpDir.length - name.length - 2;
  for (let attempt = 0; rand >= 3 && attempt < 50; attempt++) {
    const parent = path.join(tmpDir, randomBytes(16).toString('hex').slice(0, rand));
    try {
      mkdirSync(parent);
    } catch {
      continue; // taken
    }
    mkdirSync(path.join(parent, name));
    return path.join(parent, name);
  }
  const parent = mkdtempSync(path.join(tmpDir, 'cao-'));
  mkdirSync(path.join(parent, name));
  return path.join(parent, name);
}
