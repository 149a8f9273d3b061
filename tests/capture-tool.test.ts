import { existsSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { Screen, renderRaw } from '../src/screen/screen.js';
import { snapshotText } from '../src/screen/snapshot.js';
import { visibleRowsAnsi } from './support/capture/ansi.js';
import { CAPTURE_CWD, CAPTURE_HOME, leftovers, machineRewrites, makeCaptureCwd, normalise, normaliseStream } from './support/capture/normalise.js';
import type { ScenarioCapture } from './support/capture/run.js';
import { scenariosFor } from './support/capture/scenarios.js';
import { cliOf, provenanceWith, type Provenance } from './support/capture/write.js';
import { ALL_REAL_CLIS, REAL_CLI_VERSIONS } from './support/real-clis/index.js';

// The pure parts of the capture tool (npm run capture); recording itself needs the real CLIs: tests/real/capture.test.ts.

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

describe('capture: normalisation', () => {
  const dirs = { cwd: '/tmp/caAbC123', home: '/tmp/cao-capture-x1/cao-claude-home-y2', tmpRoot: '/tmp/cao-capture-x1' };

  it('rewrites the working dir, the throwaway HOME and the temp root, longest first', () => {
    const r = machineRewrites(dirs);
    expect(r.map((x) => x.from)).toEqual([dirs.home, dirs.tmpRoot, dirs.cwd]);
    const text = `cwd ${dirs.cwd}/src, config ${dirs.home}/.claude.json, log ${dirs.tmpRoot}/x.log`;
    expect(normalise(text, r)).toBe(`cwd ${CAPTURE_CWD}/src, config ${CAPTURE_HOME}/.claude.json, log /tmp/cao-capture/x.log`);
    expect(leftovers(normalise(text, r), r)).toEqual([]);
    expect(leftovers(text, r)).toHaveLength(3);
  });

  it('rewrites a path in a raw stream even when escapes sit between its characters, keeping them', () => {
    const r = [{ from: '/tmp/caAbC123', to: CAPTURE_CWD }];
    const raw = 'x\x1b[38;5;1m/\x1b[0mt\x1b[1;2Hmp/ca\x1b]8;;\x07AbC123 y /tmp/caAbC123';
    expect(leftovers(raw, r)).toEqual(['/tmp/caAbC123']);
    const n = normaliseStream(raw, r);
    expect(n).toBe('x\x1b[38;5;1m/\x1b[0mh\x1b[1;2Home/d\x1b]8;;\x07ev/prj y /home/dev/prj');
    expect(leftovers(n, r)).toEqual([]);
  });

  it('makes a working dir as long as the path it is rewritten to, so every column stays in place', () => {
    const dir = makeCaptureCwd('/tmp');
    try {
      expect(existsSync(dir)).toBe(true);
      expect(dir.length).toBe(CAPTURE_CWD.length);
      // named like the normalised one: a CLI that shows the project's name shows the same on every run
      expect(path.basename(dir)).toBe(path.basename(CAPTURE_CWD));
    } finally {
      rmSync(path.dirname(dir), { recursive: true, force: true });
    }
  });
});

describe('capture: colour rows', () => {
  it('draw the same screen as the stream they were taken from, attributes included', async () => {
    const s = new Screen({ cols: 40, rows: 6 });
    const stream =
      '\x1b[1mbold\x1b[0m \x1b[38;5;174mpalette\x1b[0m \x1b[38;2;1;2;3;48;2;9;8;7mrgb\x1b[0m\r\n\x1b[7minv\x1b[27m \x1b[91mbright\x1b[39m 中文 end\r\n\x1b[44m    \x1b[0m';
    await s.write(stream);
    const rows = visibleRowsAnsi(s.term);
    expect(rows).toHaveLength(6);
    // a blank that shows nothing of its attributes goes under the current ones (however the app drew it)
    expect(rows[0]).toBe('\x1b[0;1mbold \x1b[0;38;5;174mpalette \x1b[0;38;2;1;2;3;48;2;9;8;7mrgb\x1b[0m');
    expect(rows[1]).toBe('\x1b[0;7minv\x1b[0m \x1b[0;91mbright \x1b[0m中文 end');
    // trailing blanks are dropped unless they are coloured (a TUI's background)
    expect(rows[2]).toBe('\x1b[0;44m    \x1b[0m');
    expect(rows[3]).toBe('');
    // a rewrite applies to the characters, whatever their colours
    expect(visibleRowsAnsi(s.term, [{ from: 'palette', to: 'PALETTE' }])[0]).toContain('\x1b[0;38;5;174mPALETTE \x1b[0;38;2');
    // of another length: each new character takes the attributes of the cell at its offset
    const shorter = await renderRaw(visibleRowsAnsi(s.term, [{ from: 'd palette r', to: 'D-P-R' }]).join('\r\n'), 40, 6);
    expect(shorter.lines[0]).toBe('bolD-P-Rgb');
    const again = await renderRaw(rows.join('\r\n'), 40, 6);
    expect(snapshotText(again)).toBe(snapshotText(s.snapshot()));
    s.dispose();
  });
});

describe('capture: command line and scenarios', () => {
  it('accepts provider ids and short names', () => {
    expect(['claude_code', 'claude', 'codex', 'gemini_cli', 'gemini', 'opencode'].map(cliOf)).toEqual([
      'claude',
      'claude',
      'codex',
      'gemini',
      'gemini',
      'opencode',
    ]);
    const more = ['qwen_code', 'qwen', 'copilot_cli', 'copilot', 'kilo_code', 'kilo', 'droid', 'pi'];
    expect(more.map(cliOf)).toEqual(['qwen', 'qwen', 'copilot', 'copilot', 'kilo', 'kilo', 'droid', 'pi']);
    expect(cliOf('kiro_cli')).toBeUndefined();
  });

  it('has the standard states for every CLI and a question dialog where the CLI has one', () => {
    for (const cli of ALL_REAL_CLIS) {
      const [standard, ...rest] = scenariosFor(cli);
      // Droid's folder-trust notice comes first
      expect(standard.states).toEqual([...(cli === 'droid' ? ['trust'] : []), 'idle', 'typed', 'processing', 'answered', 'idle-after']);
      // Codex has no question tool under cao-mcp's flags, pi none at all
      expect(rest.map((s) => s.id)).toEqual(cli === 'codex' || cli === 'pi' ? [] : ['question']);
    }
  });
});

describe('capture: provenance', () => {
  const capture = (id: 'standard' | 'question', recordedAt: string): ScenarioCapture => {
    const scenario = scenariosFor('claude').find((s) => s.id === id)!;
    const states = scenario.states.map((state, i) => ({ state, atMs: i * 1000, text: '', ansi: '' }));
    return {
      cli: 'claude',
      scenario,
      recordedAt,
      args: [],
      states,
      raw: '',
      requests: [],
      rewrites: [{ what: 'working directory', to: CAPTURE_CWD }],
    };
  };

  it('records CLI, version, terminal, command and script; a re-recorded scenario replaces its own entry only', () => {
    const first = provenanceWith(undefined, capture('standard', '2026-01-01T00:00:00.000Z'));
    expect(first).toMatchObject({
      cli: 'claude',
      provider: 'claude_code',
      version: REAL_CLI_VERSIONS.claude.version,
      terminal: { cols: 200, rows: 50 },
    });
    expect(first.scenarios.standard).toMatchObject({ command: 'npm run capture -- claude standard', raw: 'claude-standard.raw.txt' });
    expect(Object.keys(first.scenarios.standard.states)).toEqual(['idle', 'typed', 'processing', 'answered', 'idle-after']);
    const both = provenanceWith(first, capture('question', '2026-01-02T00:00:00.000Z'));
    expect(Object.keys(both.scenarios)).toEqual(['question', 'standard']);
    expect(both.scenarios.standard.recorded).toBe('2026-01-01T00:00:00.000Z');
    // another pinned version: the old scenarios are dropped, not mixed in
    const bumped = provenanceWith({ ...both, version: '0.0.1' }, capture('question', '2026-01-03T00:00:00.000Z'));
    expect(Object.keys(bumped.scenarios)).toEqual(['question']);
  });

  it('every committed capture set has a provenance record naming its files, at the pinned version, without machine paths', () => {
    const dir = path.join(repoRoot, 'tests', 'fixtures', 'real');
    for (const cli of ALL_REAL_CLIS) {
      const prov = JSON.parse(readFileSync(path.join(dir, `${cli}.provenance.json`), 'utf8')) as Provenance;
      expect(prov.version).toBe(REAL_CLI_VERSIONS[cli].version);
      expect(Object.keys(prov.scenarios)).toContain('standard');
      for (const sc of Object.values(prov.scenarios)) {
        for (const f of [sc.raw, ...Object.values(sc.states).flatMap((s) => [s.plain, s.ansi])]) expect(existsSync(path.join(dir, f)), f).toBe(true);
      }
    }
    for (const f of readdirSync(dir)) {
      expect(readFileSync(path.join(dir, f), 'utf8'), f).not.toMatch(
        /\/tmp\/ca[A-Za-z0-9]{6}|\/tmp\/[0-9a-f]{4}\/prj|cao-capture-[A-Za-z0-9]{6}|\/root\b/,
      );
    }
  });
});
