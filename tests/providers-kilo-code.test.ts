import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { kiloCodeProvider as p } from '../src/providers/kilo-code.js';
import { snapshotFromText } from '../src/screen/snapshot.js';
import type { LaunchContext } from '../src/providers/types.js';

// Screens of the real Kilo Code CLI 7.7.7 at 200x60 (tests/fixtures/real/kilo-*.txt): idle, typed, processing, answered,
// idle-after and question by npm run capture (kilo.provenance.json); home and completed recorded by hand before it
// (more-clis.md there).
const fixtures = path.resolve(path.dirname(fileURLToPath(import.meta.url)), 'fixtures', 'real');
const screen = (state: string) => snapshotFromText(readFileSync(path.join(fixtures, `kilo-${state}.txt`), 'utf8'));

describe('kilo_code (OpenCode detector) on captured Kilo Code 7.7.7 screens', () => {
  it.each([
    ['home', 'idle'],
    ['idle', 'idle'],
    ['typed', 'idle'],
    ['processing', 'processing'],
    ['answered', 'completed'],
    ['idle-after', 'completed'],
    ['completed', 'completed'],
    ['question', 'waiting_user_answer'],
  ])('%s → %s', (state, status) => {
    expect(p.detect(screen(state))).toBe(status);
  });

  it('extracts the answer above the turn footer', () => {
    expect(p.extractLastAnswer(screen('completed'))).toBe('SENT-kilo');
    expect(p.extractLastAnswer(screen('answered'))).toBe('PONG-123');
    expect(p.extractLastAnswer(screen('home'))).toBeNull();
    expect(p.extractLastAnswer(screen('idle'))).toBeNull();
  });

  it('shows the question panel without the version row and picks options by digit', () => {
    const q = p.pendingQuestion(screen('question'))!;
    expect(q).toMatch(/Which colour should the button be\?/);
    expect(q).toMatch(/1\. Red/);
    expect(q).toMatch(/2\. Blue/);
    expect(q).not.toMatch(/Kilo 7/);
    expect(p.answerKeys!('Blue', screen('question'))).toEqual(['2']);
    expect(p.answerKeys!('a green one', screen('question'))).toEqual(['3', 'a green one', '\r']);
  });

  it('launches kilo --auto with its own config (MCP, timeout, profile and delegation note as instructions), no daemon', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'cao-kilo-'));
    try {
      const ctx: LaunchContext = {
        terminalId: 'abcd1234',
        workingDirectory: dir,
        profileName: 'developer',
        systemPrompt: 'You are a developer.',
        mcp: { name: 'cao', command: '/usr/bin/node', args: ['cao.js'], env: { CAO_TERMINAL_ID: 'abcd1234' } },
        runtimeDir: dir,
        env: { PATH: '/usr/bin', CAO_KILO_BIN: '/opt/kilo' },
        toolTimeoutSec: 900,
      };
      const spec = p.launch(ctx) as { command: string; args: string[]; env: Record<string, string> };
      expect(spec.command).toBe('/opt/kilo');
      expect(spec.args).toEqual(['--auto']);
      expect(spec.env.KILO_NO_DAEMON).toBe('1');
      const cfg = JSON.parse(readFileSync(spec.env.KILO_CONFIG, 'utf8'));
      expect(cfg.mcp.cao).toEqual({
        type: 'local',
        command: ['/usr/bin/node', 'cao.js'],
        environment: { CAO_TERMINAL_ID: 'abcd1234' },
        enabled: true,
        timeout: 900_000,
      });
      const instr = readFileSync(cfg.instructions[0], 'utf8');
      expect(instr).toMatch(/^You are a developer\./);
      expect(instr).toMatch(/not your built-in `task` tool/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
