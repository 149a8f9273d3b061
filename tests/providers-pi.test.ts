import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { piProvider as p } from '../src/providers/pi.js';
import { snapshotFromText } from '../src/screen/snapshot.js';
import type { LaunchContext } from '../src/providers/types.js';

// Screens of the real pi 0.73.1 at 200x50 (tests/fixtures/real/pi-*.txt): idle, typed, processing, answered and
// idle-after by npm run capture (pi.provenance.json); the others recorded by hand before it (more-clis.md there).
const fixtures = path.resolve(path.dirname(fileURLToPath(import.meta.url)), 'fixtures', 'real');
const text = (state: string) => readFileSync(path.join(fixtures, `pi-${state}.txt`), 'utf8');
const screen = (state: string) => snapshotFromText(text(state));

describe('pi on captured pi 0.73.1 screens', () => {
  it.each([
    ['idle', 'idle'],
    ['processing', 'processing'],
    ['streaming', 'processing'],
    ['completed', 'completed'],
    ['completed-second', 'completed'],
    ['tool-completed', 'completed'],
    ['tool-completed-e2e', 'completed'],
  ])('%s → %s', (state, status) => {
    expect(p.detect(screen(state))).toBe(status);
  });

  it('extracts the last answer: the blocks one blank row apart above the input, not the user band or a tool block', () => {
    expect(p.extractLastAnswer(screen('completed'))).toBe('PONG-42\nsecond line of it');
    expect(p.extractLastAnswer(screen('completed-second'))).toBe('AGAIN-43');
    expect(p.extractLastAnswer(screen('tool-completed'))).toBe('SENT-OK');
    expect(p.extractLastAnswer(screen('tool-completed-e2e'))).toBe('SENT-pi');
    expect(p.extractLastAnswer(screen('streaming'))).toBeNull();
    expect(p.extractLastAnswer(screen('idle'))).toBeNull();
  });

  it('keeps the paragraphs of one answer together', () => {
    const two = text('completed').replace(' second line of it', '\n second paragraph');
    expect(p.extractLastAnswer(snapshotFromText(two))).toBe('PONG-42\n\nsecond paragraph');
  });

  it('has no dialogs', () => {
    expect(p.pendingQuestion(screen('completed'))).toBeNull();
    expect(p.startupDialogs).toEqual([]);
  });

  it('launches with the cao MCP bridge extension and the profile appended', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'cao-pi-'));
    try {
      const ctx: LaunchContext = {
        terminalId: 'abcd1234',
        workingDirectory: dir,
        profileName: 'developer',
        systemPrompt: 'You are a developer.',
        mcp: { name: 'cao', command: '/usr/bin/node', args: ['cao.js'], env: { CAO_TERMINAL_ID: 'abcd1234' } },
        runtimeDir: dir,
        env: { PATH: '/usr/bin', CAO_PI_BIN: '/opt/pi' },
        toolTimeoutSec: 900,
      };
      const spec = p.launch(ctx) as { command: string; args: string[]; env: Record<string, string> };
      expect(spec.command).toBe('/opt/pi');
      expect(spec.args[0]).toBe('-e');
      expect(spec.args[1]).toMatch(/pi-extension\.(?:js|ts)$/);
      expect(readFileSync(spec.args[spec.args.indexOf('--append-system-prompt') + 1], 'utf8')).toBe('You are a developer.\n');
      expect(JSON.parse(readFileSync(spec.env.CAO_PI_MCP_CONFIG, 'utf8'))).toEqual({
        name: 'cao',
        command: '/usr/bin/node',
        args: ['cao.js'],
        env: { CAO_TERMINAL_ID: 'abcd1234' },
        timeoutMs: 900_000,
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
