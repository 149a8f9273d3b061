import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { qwenCodeProvider as p } from '../src/providers/qwen-code.js';
import { snapshotFromText } from '../src/screen/snapshot.js';
import type { LaunchContext } from '../src/providers/types.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';

// Screens of the real Qwen Code 0.24.4 at 200x50 (tests/fixtures/real/qwen-*.txt): idle, typed, processing, answered,
// idle-after and question by npm run capture (qwen.provenance.json); the others recorded by hand before it (more-clis.md).
const fixtures = path.resolve(path.dirname(fileURLToPath(import.meta.url)), 'fixtures', 'real');
const screen = (state: string) => snapshotFromText(readFileSync(path.join(fixtures, `qwen-${state}.txt`), 'utf8'));

describe('qwen_code on captured Qwen Code 0.24.4 screens', () => {
  it.each([
    ['starting', 'processing'],
    ['mcp-connecting', 'processing'],
    ['idle', 'idle'],
    ['typed', 'idle'],
    ['processing-early', 'processing'],
    ['processing', 'processing'],
    ['completed', 'completed'],
    ['answered', 'completed'],
    ['idle-after', 'completed'],
    ['completed-second', 'completed'],
    ['tool-completed', 'completed'],
    ['question', 'waiting_user_answer'],
    ['question-moved', 'waiting_user_answer'],
    ['question-answered', 'completed'],
  ])('%s → %s', (state, status) => {
    expect(p.detect(screen(state))).toBe(status);
  });

  it('extracts the answer without its marker, keeping continuation rows', () => {
    expect(p.extractLastAnswer(screen('completed'))).toBe('PONG-42\nsecond line of it');
    expect(p.extractLastAnswer(screen('completed-second'))).toBe('AGAIN-43');
    // the tool row and its output are not the answer
    expect(p.extractLastAnswer(screen('tool-completed'))).toBe('SENT-OK');
    expect(p.extractLastAnswer(screen('question-answered'))).toBe('ANSWERED');
    expect(p.extractLastAnswer(screen('idle'))).toBeNull();
    expect(p.extractLastAnswer(screen('processing'))).toBeNull();
  });

  it('shows the question with its options, and answers by moving from the selected row', () => {
    const q = p.pendingQuestion(screen('question'))!;
    expect(q).toMatch(/Which colour should the button be\?/);
    expect(q).toMatch(/1\. Red/);
    expect(q).toMatch(/2\. Blue/);
    expect(q).not.toMatch(/Navigate|Waiting for user confirmation/);
    expect(p.answerKeys!('Blue', screen('question'))).toEqual(['\x1b[B', '\r']);
    expect(p.answerKeys!('1', screen('question'))).toEqual(['\r']);
    expect(p.answerKeys!('Red', screen('question-moved'))).toEqual(['\x1b[A', '\r']);
    // free text goes into the "Type something..." row
    expect(p.answerKeys!('green please', screen('question'))).toEqual(['\x1b[B', '\x1b[B', 'green please', '\r']);
    expect(p.pendingQuestion(screen('completed'))).toBeNull();
  });

  it('sees text left in the input box', () => {
    expect(p.inputPending!(screen('idle'))).toBe(false);
    expect(p.inputPending!(screen('typed'))).toBe(true);
    const typed = readFileSync(path.join(fixtures, 'qwen-idle.txt'), 'utf8').replace('*   Type your message or @path/to/file', '*   say ping');
    expect(p.inputPending!(snapshotFromText(typed))).toBe(true);
    expect(p.detect(snapshotFromText(typed))).toBe('idle');
  });

  it('launches with --yolo, our MCP server always loaded, the profile and the delegation note appended', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'cao-qwen-'));
    try {
      const ctx: LaunchContext = {
        terminalId: 'abcd1234',
        workingDirectory: dir,
        profileName: 'developer',
        systemPrompt: 'You are a developer.',
        mcp: { name: 'cao', command: '/usr/bin/node', args: ['cao.js'], env: { CAO_TERMINAL_ID: 'abcd1234' } },
        runtimeDir: dir,
        env: { PATH: '/usr/bin', CAO_QWEN_BIN: '/opt/qwen' },
        toolTimeoutSec: 900,
      };
      const spec = p.launch(ctx) as { command: string; args: string[] };
      expect(spec.command).toBe('/opt/qwen');
      expect(spec.args.slice(0, 2)).toEqual(['--yolo', '--mcp-config']);
      const mcp = JSON.parse(readFileSync(spec.args[2], 'utf8'));
      expect(mcp.mcpServers.cao).toMatchObject({ command: '/usr/bin/node', args: ['cao.js'], timeout: 900_000, trust: true, alwaysLoadTools: true });
      const prompt = spec.args[spec.args.indexOf('--append-system-prompt') + 1];
      expect(prompt).toMatch(/^You are a developer\./);
      expect(prompt).toMatch(/not your built-in `agent` tool/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
