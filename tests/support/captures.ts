import { existsSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { Provider } from '../../src/providers/types.js';
import { renderRaw } from '../../src/screen/screen.js';
import { snapshotFromText, snapshotText } from '../../src/screen/snapshot.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
/** The captured screens, part of the repository (tests/fixtures/README.md says how they were made). */
export const FIXTURES = path.join(repoRoot, 'tests', 'fixtures');
if (!existsSync(path.join(FIXTURES, 'real')) || !existsSync(path.join(FIXTURES, 'cao'))) {
  throw new Error(`captured screens missing: expected ${FIXTURES}/real and ${FIXTURES}/cao (they are part of the repository)`);
}

export const readFixture = (rel: string) => readFileSync(path.join(FIXTURES, rel), 'utf8');

/** Captured rows are joined by LF only; a terminal needs CR LF to start each row at column 0. */
export const crlf = (t: string) => t.replace(/\r?\n/g, '\r\n');

/**
 * The captures in `real/` (`npm run capture`: each CLI against the fake model, 200x50): every state has a
 * rendered `.txt` and a colour `.ansi.txt`; the scripted answer is `PONG-123`. `question` (a dialog the
 * model opened with the CLI's question tool) exists for the CLIs that have one.
 */
const REAL_STATES: Record<string, { status: string; answer: string | null; question?: RegExp }> = {
  idle: { status: 'idle', answer: null },
  // text typed but not sent: the CLI is still ready for input and nothing was answered
  typed: { status: 'idle', answer: null },
  processing: { status: 'processing', answer: null },
  answered: { status: 'completed', answer: 'PONG-123' },
  'idle-after': { status: 'completed', answer: 'PONG-123' },
  question: { status: 'waiting_user_answer', answer: null, question: /Which colour should the button be\?/ },
};

/** Screens only: the raw stream (`<cli>-<scenario>.raw.txt`) and the provenance record are not states. */
const isScreen = (f: string) => f.endsWith('.txt') && !f.endsWith('.raw.txt');

export interface RealCaptureOptions {
  /**
   * Other screens of this CLI in `real/`, which the provider's own test checks (here they are only allowed to
   * exist): the ones recorded by hand before the capture tool landed (`real/more-clis.md`), and a start-up notice
   * the tool takes first (Droid's `trust`).
   */
  otherStates?: string[];
}

/** Status, answer, no question and no startup dialog, for every real capture of `cli`, plain and through the emulator. */
export function describeRealCaptures(cli: string, p: Provider, title: string, opts: RealCaptureOptions = {}): void {
  const prov = path.join(FIXTURES, 'real', `${cli}.provenance.json`);
  const record = existsSync(prov)
    ? (JSON.parse(readFileSync(prov, 'utf8')) as {
        terminal: { cols: number; rows: number };
        scenarios: Record<string, { raw: string; states: Record<string, unknown> }>;
      })
    : undefined;
  // the size the tool recorded at (200x50; Kilo 200x60)
  const { cols, rows } = record?.terminal ?? { cols: 200, rows: 50 };
  const known = [...Object.keys(REAL_STATES), ...(opts.otherStates ?? [])];
  describe(`${p.id}: real captures (${title}, ${cols}x${rows})`, () => {
    it(`has an expectation for every ${cli} capture`, () => {
      const files = readdirSync(path.join(FIXTURES, 'real')).filter((f) => f.startsWith(`${cli}-`) && isScreen(f));
      expect(files.length).toBeGreaterThanOrEqual(10);
      for (const f of files) expect(known).toContain(f.slice(cli.length + 1).replace(/(\.ansi)?\.txt$/, ''));
    });

    for (const [state, want] of Object.entries(REAL_STATES)) {
      const plain = path.join(FIXTURES, 'real', `${cli}-${state}.txt`);
      // every CLI has the standard states; `question` only where the CLI has a question dialog
      if (state === 'question' && !existsSync(plain)) continue;
      it(`${state}: rendered text → ${want.status}`, () => {
        const s = snapshotFromText(readFileSync(plain, 'utf8'));
        expect(p.detect(s)).toBe(want.status);
        expect(p.extractLastAnswer(s)).toBe(want.answer);
        if (want.question) expect(p.pendingQuestion(s)).toMatch(want.question);
        else expect(p.pendingQuestion(s)).toBeNull();
        for (const d of p.startupDialogs) expect(d.match(s)).toBe(false);
      });
      const ansi = path.join(FIXTURES, 'real', `${cli}-${state}.ansi.txt`);
      if (existsSync(ansi)) {
        it(`${state}: colour capture through the emulator → ${want.status}`, async () => {
          const s = await renderRaw(crlf(readFileSync(ansi, 'utf8')), cols, rows);
          expect(s.altScreen).toBe(false); // a capture, not a live stream: rendered on the normal buffer
          expect(p.detect(s)).toBe(want.status);
          expect(p.extractLastAnswer(s)).toBe(want.answer);
          // the colour rows draw exactly the plain rows
          expect(snapshotText(s)).toBe(snapshotText(snapshotFromText(readFileSync(plain, 'utf8'))));
        });
      }
    }

    // the raw pty stream of a scenario, replayed into a fresh emulator, ends on that scenario's last screen
    const scenarios = record?.scenarios ?? {};
    for (const [id, sc] of Object.entries(scenarios)) {
      const last = Object.keys(sc.states).at(-1);
      it(`${id}: the raw stream renders to the ${last} screen`, async () => {
        const s = await renderRaw(readFileSync(path.join(FIXTURES, 'real', sc.raw), 'utf8'), cols, rows);
        const visible = { ...s, lines: s.lines.slice(s.viewportTop) };
        expect(snapshotText(visible)).toBe(snapshotText(snapshotFromText(readFixture(`real/${cli}-${last}.txt`))));
      });
    }
  });
}
