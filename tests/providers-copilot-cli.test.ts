import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { copilotCliProvider as p } from '../src/providers/copilot-cli.js';
import { snapshotFromText } from '../src/screen/snapshot.js';
import type { LaunchContext } from '../src/providers/types.js';

// Screens of the real GitHub Copilot CLI 1.0.102 at 200x50 (tests/fixtures/real/copilot-*.txt): idle, typed, processing,
// answered, idle-after and question by npm run capture (copilot.provenance.json); the others recorded by hand before it
// (more-clis.md there).
const fixtures = path.resolve(path.dirname(fileURLToPath(import.meta.url)), 'fixtures', 'real');
const text = (state: string) => readFileSync(path.join(fixtures, `copilot-${state}.txt`), 'utf8');
const screen = (state: string) => snapshotFromText(text(state));

describe('copilot_cli on captured Copilot CLI 1.0.102 screens', () => {
  it.each([
    ['idle', 'idle'],
    ['typed', 'idle'],
    ['idle-manual-approval', 'idle'],
    ['processing', 'processing'],
    ['answered', 'completed'],
    ['idle-after', 'completed'],
    ['completed', 'completed'],
    ['completed-second', 'completed'],
    ['tool-running', 'processing'],
    ['tool-completed', 'completed'],
    ['question', 'waiting_user_answer'],
    ['question-moved', 'waiting_user_answer'],
    ['question-answered', 'completed'],
  ])('%s → %s', (state, status) => {
    expect(p.detect(screen(state))).toBe(status);
  });

  it('extracts the last answer, not the tool rows, tips or the busy footer', () => {
    expect(p.extractLastAnswer(screen('completed'))).toBe('PONG-42\nsecond line of it');
    expect(p.extractLastAnswer(screen('completed-second'))).toBe('AGAIN-43');
    expect(p.extractLastAnswer(screen('tool-completed'))).toBe('SENT-copilot');
    expect(p.extractLastAnswer(screen('question-answered'))).toBe('ANSWERED');
    expect(p.extractLastAnswer(screen('tool-running'))).toBeNull();
    expect(p.extractLastAnswer(screen('idle'))).toBeNull();
  });

  it('a busy footer wins over an answer already drawn', () => {
    const busy = text('completed').replace(/^ ← open sidebar.*$/m, ' ◉ Working esc esc edit prompt');
    expect(p.detect(snapshotFromText(busy))).toBe('processing');
  });

  it('shows the question and its choices; answers move from the selected choice', () => {
    const q = p.pendingQuestion(screen('question'))!;
    expect(q).toMatch(/Which colour should the button be\?/);
    expect(q).toMatch(/Red/);
    expect(q).toMatch(/Blue/);
    expect(q).not.toMatch(/enter accept/);
    expect(p.answerKeys!('Blue', screen('question'))).toEqual(['\x1b[B', '\r']);
    expect(p.answerKeys!('2', screen('question'))).toEqual(['\x1b[B', '\r']);
    expect(p.answerKeys!('red', screen('question-moved'))).toEqual(['\x1b[A', '\r']);
    expect(p.answerKeys!('green', screen('question'))).toEqual(['\x1b[B', '\x1b[B', 'green', '\r']);
    expect(p.pendingQuestion(screen('completed'))).toBeNull();
  });

  it('sees text left in the input box', () => {
    expect(p.inputPending!(screen('idle'))).toBe(false);
    expect(p.inputPending!(screen('typed'))).toBe(true);
    expect(p.inputPending!(snapshotFromText(text('idle').replace(/^❯$/m, '❯ say ping')))).toBe(true);
  });

  it('launches with --yolo, our MCP server for this session, the profile as custom instructions with the delegation note', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'cao-copilot-'));
    try {
      const ctx: LaunchContext = {
        terminalId: 'abcd1234',
        workingDirectory: dir,
        profileName: 'developer',
        systemPrompt: 'You are a developer.',
        mcp: { name: 'cao', command: '/usr/bin/node', args: ['cao.js'], env: { CAO_TERMINAL_ID: 'abcd1234' } },
        runtimeDir: dir,
        env: { PATH: '/usr/bin', CAO_COPILOT_BIN: '/opt/copilot', COPILOT_CUSTOM_INSTRUCTIONS_DIRS: '/mine' },
        toolTimeoutSec: 900,
      };
      const spec = p.launch(ctx) as { command: string; args: string[]; env: Record<string, string> };
      expect(spec.command).toBe('/opt/copilot');
      expect(spec.args.slice(0, 2)).toEqual(['--yolo', '--additional-mcp-config']);
      const mcp = JSON.parse(readFileSync(spec.args[2].slice(1), 'utf8'));
      expect(mcp.mcpServers.cao).toMatchObject({ type: 'local', command: '/usr/bin/node', args: ['cao.js'], tools: ['*'], timeout: 900_000 });
      const dirs = spec.env.COPILOT_CUSTOM_INSTRUCTIONS_DIRS.split(',');
      expect(dirs[0]).toBe('/mine');
      const instr = readFileSync(path.join(dirs[1], 'instructions', 'cao-profile.instructions.md'), 'utf8');
      expect(instr).toMatch(/^You are a developer\./);
      expect(instr).toMatch(/not your built-in `task` tool/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
