// The contract every provider keeps, as one table over all of them: the generic checks below, and for the CLIs
// captured by `npm run capture` their golden screens (tests/support/captures.ts). What one CLI does beyond the
// contract stays in its own tests/providers-<cli>.test.ts; abuse-argv.test.ts keeps the token off every argv.
import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { claudeCodeProvider } from '../src/providers/claude-code.js';
import { codexProvider } from '../src/providers/codex.js';
import { copilotCliProvider } from '../src/providers/copilot-cli.js';
import { droidProvider } from '../src/providers/droid.js';
import { geminiCliProvider } from '../src/providers/gemini-cli.js';
import { kiloCodeProvider } from '../src/providers/kilo-code.js';
import { kimiCliProvider } from '../src/providers/kimi-cli.js';
import { kiroCliProvider } from '../src/providers/kiro-cli.js';
import { mockProvider } from '../src/providers/mock.js';
import { opencodeProvider } from '../src/providers/opencode.js';
import { piProvider } from '../src/providers/pi.js';
import { qwenCodeProvider } from '../src/providers/qwen-code.js';
import { getProvider } from '../src/providers/registry.js';
import { PROVIDER_IDS, type LaunchContext, type Provider, type ProviderId } from '../src/providers/types.js';
import type { ScreenSnapshot } from '../src/screen/snapshot.js';
import { snapshotFromText } from '../src/screen/snapshot.js';
import { FIXTURES, describeRealCaptures, type RealCaptureOptions } from './support/captures.js';
import { testLaunchContext } from './support/launch-context.js';

interface Row {
  provider: Provider;
  /** The CLI's golden screens in tests/fixtures/real/ (`<capture>-<state>.txt`), when it has any. */
  capture?: { name: string; title: string; opts?: RealCaptureOptions };
}

/** Every provider id (a Record, so a new id that has no row does not compile). */
const PROVIDERS: Record<ProviderId, Row> = {
  mock: { provider: mockProvider },
  claude_code: { provider: claudeCodeProvider, capture: { name: 'claude', title: 'Claude Code 2.1.197' } },
  codex: { provider: codexProvider, capture: { name: 'codex', title: 'Codex 0.169' } },
  gemini_cli: { provider: geminiCliProvider, capture: { name: 'gemini', title: 'Gemini CLI 0.61' } },
  opencode: { provider: opencodeProvider, capture: { name: 'opencode', title: 'OpenCode 1.18.33' } },
  // no `npm run capture` screens in real/: their own tests read the screens in tests/fixtures/cao/
  kiro_cli: { provider: kiroCliProvider },
  kimi_cli: { provider: kimiCliProvider },
  qwen_code: {
    provider: qwenCodeProvider,
    capture: {
      name: 'qwen',
      title: 'Qwen Code 0.24.4',
      opts: {
        otherStates: [
          'starting',
          'mcp-connecting',
          'processing-early',
          'completed',
          'completed-second',
          'tool-completed',
          'question-moved',
          'question-answered',
        ],
      },
    },
  },
  copilot_cli: {
    provider: copilotCliProvider,
    capture: {
      name: 'copilot',
      title: 'Copilot CLI 1.0.102',
      opts: {
        otherStates: [
          'idle-manual-approval',
          'completed',
          'completed-second',
          'tool-running',
          'tool-completed',
          'question-moved',
          'question-answered',
        ],
      },
    },
  },
  kilo_code: { provider: kiloCodeProvider, capture: { name: 'kilo', title: 'Kilo Code 7.7.7', opts: { otherStates: ['home', 'completed'] } } },
  droid: {
    provider: droidProvider,
    capture: {
      name: 'droid',
      title: 'Factory Droid 0.225.2',
      opts: { otherStates: ['trust', 'completed-second', 'tool-completed', 'question-answered'] },
    },
  },
  pi: {
    provider: piProvider,
    capture: {
      name: 'pi',
      title: 'pi 0.73.1',
      opts: { otherStates: ['streaming', 'completed', 'completed-second', 'tool-completed', 'tool-completed-e2e'] },
    },
  },
};

const rows = Object.entries(PROVIDERS) as [ProviderId, Row][];

describe('the provider table', () => {
  it('has one row per provider id, each holding the provider the registry gives out', () => {
    expect(rows.map(([id]) => id).sort()).toEqual([...PROVIDER_IDS].sort());
    for (const [id, { provider }] of rows) expect(getProvider(id)).toBe(provider);
  });

  it('ids are unique, and each provider says its own id', () => {
    for (const [id, { provider }] of rows) expect(provider.id).toBe(id);
    expect(new Set(rows.map(([, r]) => r.provider.id)).size).toBe(rows.length);
  });

  it('every CLI with screens in tests/fixtures/real/ has its row, and no two rows share a capture', () => {
    const captured = new Set(
      readdirSync(path.join(FIXTURES, 'real'))
        .filter((f) => f.endsWith('.txt') && !f.endsWith('.raw.txt'))
        .map((f) => f.slice(0, f.indexOf('-'))),
    );
    const names = rows.flatMap(([, r]) => (r.capture ? [r.capture.name] : []));
    expect(new Set(names).size).toBe(names.length);
    expect([...captured].sort()).toEqual([...names].sort());
  });
});

/** A screen with nothing on it: as the terminal is before the CLI drew anything. */
const emptyScreens = (p: Provider): [string, ScreenSnapshot][] => [
  ['no rows', snapshotFromText('')],
  ['blank rows', { lines: Array<string>(p.rows).fill(''), viewportTop: 0, cols: p.cols, rows: p.rows, cursorLine: 0, altScreen: false }],
];

const SECRET = 'contract-token-5a4b3c2d1e0f';

for (const [id, { provider: p, capture }] of rows) {
  describe(`${id}: provider contract`, () => {
    it('has a label, a sane terminal size and timings', () => {
      expect(p.label.trim()).not.toBe('');
      for (const n of [p.cols, p.rows]) expect(Number.isInteger(n)).toBe(true);
      expect(p.cols).toBeGreaterThanOrEqual(80);
      expect(p.cols).toBeLessThanOrEqual(500);
      expect(p.rows).toBeGreaterThanOrEqual(24);
      expect(p.rows).toBeLessThanOrEqual(200);
      expect(p.startupTimeoutMs).toBeGreaterThan(0);
      expect(p.input.enterDelayMs).toBeGreaterThanOrEqual(0);
      // a bracketed paste may be followed sooner, never later, than typed text
      expect(p.input.pasteEnterDelayMs ?? p.input.enterDelayMs).toBeLessThanOrEqual(p.input.enterDelayMs);
      expect(p.input.pasteEnterDelayMs ?? 0).toBeGreaterThanOrEqual(0);
      expect(p.input.submitKey).not.toBe('');
      if (p.readyWithoutBusyMs !== undefined) expect(p.readyWithoutBusyMs).toBeGreaterThan(0);
    });

    it('quits by keys, then by killing its process group after a grace period', () => {
      expect(p.exit.keys.length).toBeGreaterThan(0);
      for (const k of p.exit.keys) expect(k).not.toBe('');
      expect(p.exit.graceMs).toBeGreaterThan(0);
    });

    it('startup dialogs have unique ids and keys that dismiss them', () => {
      const ids = p.startupDialogs.map((d) => d.id);
      expect(new Set(ids).size).toBe(ids.length);
      for (const d of p.startupDialogs) {
        expect(d.id.trim()).not.toBe('');
        expect(d.keys.length).toBeGreaterThan(0);
      }
    });

    for (const [what, s] of emptyScreens(p)) {
      it(`an empty screen (${what}): no status that needs a turn, no answer, no question, no dialog, no draft`, () => {
        expect(['completed', 'processing', 'waiting_user_answer']).not.toContain(p.detect(s));
        expect(p.extractLastAnswer(s)).toBeNull();
        expect(p.pendingQuestion(s)).toBeNull();
        for (const d of p.startupDialogs) expect(d.match(s)).toBe(false);
        if (p.inputPending) expect(p.inputPending(s)).toBe(false);
      });
    }

    describe('launch', () => {
      let dir: string;
      beforeAll(() => {
        dir = mkdtempSync(path.join(tmpdir(), `cao-contract-${id}-`));
        mkdirSync(path.join(dir, 'bin'));
        mkdirSync(path.join(dir, 'work'));
      });
      afterAll(() => rmSync(dir, { recursive: true, force: true }));

      // a stand-in CLI on PATH that answers a `--help` probe
      const ctx = (): LaunchContext =>
        testLaunchContext({
          dir,
          workingDirectory: path.join(dir, 'work'),
          token: SECRET,
          env: { HOME: path.join(dir, 'home'), CAO_TERMINAL_ID: 'abcdef12' },
        });

      /** Everything under `dir` but the stand-in CLI and the working directory, with its permission bits. */
      const written = (): Map<string, number> => {
        const out = new Map<string, number>();
        const walk = (d: string) => {
          for (const e of readdirSync(d, { withFileTypes: true })) {
            const f = path.join(d, e.name);
            out.set(path.relative(dir, f), statSync(f).mode & 0o777);
            if (e.isDirectory()) walk(f);
          }
        };
        walk(dir);
        for (const mine of ['bin', path.join('bin', 'cli'), 'work']) out.delete(mine);
        return out;
      };

      it('runs in the working directory, keeps the terminal id in the environment, leaves its context alone', async () => {
        const c = ctx();
        const before = JSON.stringify(c);
        const spec = await p.launch(c);
        expect(JSON.stringify(c)).toBe(before);
        expect(spec.command.trim()).not.toBe('');
        expect(spec.cwd).toBe(c.workingDirectory);
        expect(spec.env.CAO_TERMINAL_ID).toBe('abcdef12');
        for (const a of spec.args) expect(typeof a).toBe('string');
      });

      it('writes nothing into the working directory, and what it writes elsewhere only its owner can read', async () => {
        await p.launch(ctx());
        expect(readdirSync(path.join(dir, 'work'))).toEqual([]);
        for (const [f, mode] of written()) expect({ f, mode: (mode & 0o077).toString(8) }).toEqual({ f, mode: '0' });
      });

      it('launching again gives the same command', async () => {
        const a = await p.launch(ctx());
        const b = await p.launch(ctx());
        expect(b).toEqual(a);
      });
    });
  });

  if (capture) describeRealCaptures(capture.name, p, capture.title, capture.opts);
}
