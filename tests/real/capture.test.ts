import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { getProvider } from '../../src/providers/registry.js';
import type { ProviderId } from '../../src/providers/types.js';
import { renderRaw } from '../../src/screen/screen.js';
import { snapshotFromText, snapshotText } from '../../src/screen/snapshot.js';
import { captureScenario } from '../support/capture/run.js';
import { scenariosFor } from '../support/capture/scenarios.js';
import { PROVIDER_OF, writeCapture } from '../support/capture/write.js';

// The capture tool (npm run capture) on a real CLI, into a temp dir: the files it writes, and the provider reading
// each fresh screen as the state it was taken in. Claude Code: the quickest of the four to start; pi: the quickest of the
// five added later (a CLI the tool learnt after the first four).

const out = mkdtempSync(path.join(os.tmpdir(), 'cao-capture-test-'));
const committed = path.join(import.meta.dirname, '..', 'fixtures', 'real');
afterAll(() => rmSync(out, { recursive: true, force: true }));

const WANT: Record<string, string> = {
  idle: 'idle',
  typed: 'idle',
  processing: 'processing',
  answered: 'completed',
  'idle-after': 'completed',
  question: 'waiting_user_answer',
};

for (const cli of ['claude', 'pi'] as const) {
  describe(`npm run capture on the real ${cli}`, () => {
    const p = getProvider(PROVIDER_OF[cli] as ProviderId);

    for (const scenario of scenariosFor(cli)) {
      it(`${scenario.id}: writes every state, the raw stream and the provenance; the provider reads each state`, async () => {
        const c = await captureScenario(cli, scenario);
        const files = writeCapture(out, c);
        const expected = [
          ...scenario.states.flatMap((s) => [`${cli}-${s}.txt`, `${cli}-${s}.ansi.txt`]),
          `${cli}-${scenario.id}.raw.txt`,
          `${cli}.provenance.json`,
        ];
        expect(files.sort()).toEqual(expected.sort());
        for (const state of scenario.states) {
          const text = readFileSync(path.join(out, `${cli}-${state}.txt`), 'utf8');
          expect(text.split('\n')).toHaveLength(51); // 50 rows and a final newline
          expect(text).not.toMatch(/\/tmp\/|cao-capture-/);
          const s = snapshotFromText(text);
          expect(p.detect(s), `${state}:\n${text}`).toBe(WANT[state]);
          if (state === 'answered') expect(p.extractLastAnswer(s)).toBe('PONG-123');
          const colour = await renderRaw(readFileSync(path.join(out, `${cli}-${state}.ansi.txt`), 'utf8').replace(/\n/g, '\r\n'), 200, 50);
          expect(snapshotText(colour)).toBe(snapshotText(s));
        }
        const prov = JSON.parse(readFileSync(path.join(out, `${cli}.provenance.json`), 'utf8'));
        expect(prov.scenarios[scenario.id]).toMatchObject({ command: `npm run capture -- ${cli} ${scenario.id}`, states: expect.any(Object) });
        expect(JSON.stringify(prov)).not.toMatch(/\/tmp\/ca[A-Za-z0-9]{6}|cao-capture-[A-Za-z0-9]{6}/);
      });
    }

    it('a re-record gives the committed fresh screen unchanged (nothing of the machine or the run in it)', () => {
      const fresh = readFileSync(path.join(out, `${cli}-idle.txt`), 'utf8');
      expect(fresh).toBe(readFileSync(path.join(committed, `${cli}-idle.txt`), 'utf8'));
      // the same files as the committed set the tool wrote (pi's folder also holds screens recorded by hand, more-clis.md)
      const prov = JSON.parse(readFileSync(path.join(committed, `${cli}.provenance.json`), 'utf8')) as {
        scenarios: Record<string, { raw: string; states: Record<string, { plain: string; ansi: string }> }>;
      };
      const named = Object.values(prov.scenarios).flatMap((sc) => [sc.raw, ...Object.values(sc.states).flatMap((st) => [st.plain, st.ansi])]);
      expect(
        readdirSync(out)
          .filter((f) => f.startsWith(`${cli}-`) && f.endsWith('.txt'))
          .sort(),
      ).toEqual(named.sort());
    });
  });
}
