import { mkdirSync, mkdtempSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { droidProvider as p } from '../src/providers/droid.js';
import { snapshotFromText } from '../src/screen/snapshot.js';
import type { LaunchContext } from '../src/providers/types.js';

// Screens of the real Factory Droid 0.225.2 at 200x50 (tests/fixtures/real/droid-*.txt): trust, idle, typed, processing,
// answered, idle-after and question by npm run capture (droid.provenance.json); the others recorded by hand before it
// (more-clis.md there).
const fixtures = path.resolve(path.dirname(fileURLToPath(import.meta.url)), 'fixtures', 'real');
const text = (state: string) => readFileSync(path.join(fixtures, `droid-${state}.txt`), 'utf8');
const screen = (state: string) => snapshotFromText(text(state));

describe('droid on captured Factory Droid 0.225.2 screens', () => {
  it.each([
    ['trust', 'unknown'],
    ['idle', 'idle'],
    ['typed', 'idle'],
    ['processing', 'processing'],
    ['answered', 'completed'],
    ['idle-after', 'completed'],
    ['completed-second', 'completed'],
    ['tool-completed', 'completed'],
    ['question', 'waiting_user_answer'],
    ['question-answered', 'completed'],
  ])('%s → %s', (state, status) => {
    expect(p.detect(screen(state))).toBe(status);
  });

  it('gets past the folder-trust notice with Enter, and only there', () => {
    const [trust] = p.startupDialogs;
    expect(trust.match(screen('trust'))).toBe(true);
    expect(trust.keys).toEqual(['\r']);
    for (const s of ['idle', 'question', 'completed-second']) expect(trust.match(screen(s))).toBe(false);
  });

  it('extracts the last ⛬ answer, not the tool block or the user message', () => {
    expect(p.extractLastAnswer(screen('completed-second'))).toBe('AGAIN-43');
    expect(p.extractLastAnswer(screen('tool-completed'))).toBe('SENT-droid');
    expect(p.extractLastAnswer(screen('question-answered'))).toBe('ANSWERED');
    expect(p.extractLastAnswer(screen('idle'))).toBeNull();
  });

  it('shows the questionnaire; a digit picks an option, other text is typed as the own answer', () => {
    const q = p.pendingQuestion(screen('question'))!;
    expect(q).toMatch(/Which colour should the button be\?/);
    expect(q).toMatch(/1\. Red\n2\. Blue/);
    expect(q).not.toMatch(/Navigate/);
    expect(p.answerKeys!('Blue', screen('question'))).toEqual(['2']);
    expect(p.answerKeys!('1', screen('question'))).toEqual(['1']);
    expect(p.answerKeys!('green, please', screen('question'))).toEqual(['green, please', '\r']);
  });

  it('sees a paste that did not land (the placeholder) and one that did', () => {
    expect(p.inputPending!(screen('idle'))).toBe(false);
    expect(p.inputPending!(screen('typed'))).toBe(true);
    expect(p.inputPending!(snapshotFromText(text('idle').replace(/│ > Try "[^"]*"/, '│ > say ping')))).toBe(true);
  });

  it("launches with --auto high, the profile appended, and a home whose mcp.json adds our server to the user's", () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'cao-droid-'));
    try {
      const home = path.join(dir, 'home');
      mkdirSync(path.join(home, '.factory'), { recursive: true });
      writeFileSync(path.join(home, '.factory', 'settings.json'), '{"customModels":[]}');
      writeFileSync(path.join(home, '.factory', 'mcp.json'), '{"mcpServers":{"mine":{"type":"stdio","command":"x"}}}');
      const runtimeDir = path.join(dir, 'rt');
      mkdirSync(runtimeDir);
      const ctx: LaunchContext = {
        terminalId: 'abcd1234',
        workingDirectory: dir,
        profileName: 'developer',
        systemPrompt: 'You are a developer.',
        mcp: { name: 'cao', command: '/usr/bin/node', args: ['cao.js'], env: { CAO_TERMINAL_ID: 'abcd1234' } },
        runtimeDir,
        env: { PATH: '/usr/bin', HOME: home, CAO_DROID_BIN: '/opt/droid' },
        toolTimeoutSec: 900,
      };
      const spec = p.launch(ctx) as { command: string; args: string[]; env: Record<string, string> };
      expect(spec.command).toBe('/opt/droid');
      expect(spec.args.slice(0, 3)).toEqual(['--auto', 'high', '--append-system-prompt-file']);
      const prompt = readFileSync(spec.args[3], 'utf8');
      expect(prompt).toMatch(/^You are a developer\./);
      expect(prompt).toMatch(/not your built-in `Task` tool/);
      const fh = spec.env.FACTORY_HOME_OVERRIDE;
      expect(readlinkSync(path.join(fh, '.factory', 'settings.json'))).toBe(path.join(home, '.factory', 'settings.json'));
      const mcp = JSON.parse(readFileSync(path.join(fh, '.factory', 'mcp.json'), 'utf8'));
      expect(Object.keys(mcp.mcpServers)).toEqual(['mine', 'cao']);
      expect(mcp.mcpServers.cao).toMatchObject({ type: 'stdio', command: '/usr/bin/node', args: ['cao.js'], timeout: 900_000 });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
