import { existsSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { Provider } from '../../src/providers/types.js';
import { renderRaw } from '../../src/screen/screen.js';
import { snapshotFromText } from '../../src/screen/snapshot.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
/** The captured screens shared beside the repo (`../shared/fixtures`). */
export const FIXTURES = path.resolve(repoRoot, '..', 'shared', 'fixtures');
if (!existsSync(path.join(FIXTURES, 'real')) || !existsSync(path.join(FIXTURES, 'cao'))) {
  throw new Error(`shared fixtures missing: expected ${FIXTURES}/real and ${FIXTURES}/cao next to the repo`);
}

export const readFixture = (rel: string) => readFileSync(path.join(FIXTURES, rel), 'utf8');

/** Captured rows are joined by LF only; a terminal needs CR LF to start each row at column 0. */
export const crlf = (t: string) => t.replace(/\r?\n/g, '\r\n');

/**
 * The captures in `real/` (each CLI against the fake model, 200x50): every state has a rendered `.txt`
 * and a colour `.ansi.txt`; the scripted answer is `PONG-123`.
 */
const REAL_STATES: Record<string, { status: string; answer: string | null }> = {
  idle: { status: 'idle', answer: null },
  // text typed but not sent: the CLI is still ready for input and nothing was answered
  typed: { status: 'idle', answer: null },
  processing: { status: 'processing', answer: null },
  answered: { status: 'completed', answer: 'PONG-123' },
  'idle-after': { status: 'completed', answer: 'PONG-123' },
};

/** Status, answer, no question and no startup dialog, for every real capture of `cli`, plain and through the emulator. */
export function describeRealCaptures(cli: 'claude' | 'codex' | 'gemini' | 'opencode', p: Provider, title: string): void {
  describe(`${p.id}: real captures (${title}, 200x50)`, () => {
    it(`has an expectation for every ${cli} capture`, () => {
      const files = readdirSync(path.join(FIXTURES, 'real')).filter((f) => f.startsWith(`${cli}-`));
      expect(files.length).toBeGreaterThanOrEqual(9);
      for (const f of files) expect(Object.keys(REAL_STATES)).toContain(f.slice(cli.length + 1).replace(/(\.ansi)?\.txt$/, ''));
    });

    for (const [state, want] of Object.entries(REAL_STATES)) {
      it(`${state}: rendered text → ${want.status}`, () => {
        const s = snapshotFromText(readFixture(`real/${cli}-${state}.txt`));
        expect(p.detect(s)).toBe(want.status);
        expect(p.extractLastAnswer(s)).toBe(want.answer);
        expect(p.pendingQuestion(s)).toBeNull();
        for (const d of p.startupDialogs) expect(d.match(s)).toBe(false);
      });
      const ansi = path.join(FIXTURES, 'real', `${cli}-${state}.ansi.txt`);
      if (existsSync(ansi)) {
        it(`${state}: colour capture through the emulator → ${want.status}`, async () => {
          const s = await renderRaw(crlf(readFileSync(ansi, 'utf8')), 200, 50);
          expect(s.altScreen).toBe(false); // a capture, not a live stream: rendered on the normal buffer
          expect(p.detect(s)).toBe(want.status);
          expect(p.extractLastAnswer(s)).toBe(want.answer);
        });
      }
    }
  });
}
