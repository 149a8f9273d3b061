import { describe, expect, it, beforeAll, afterAll } from 'vitest';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { kiroCliProvider, kiroStartupDialogs, kiroAgentName } from '../src/providers/kiro-cli.js';
import { snapshotFromText, type ScreenSnapshot } from '../src/screen/snapshot.js';
import { renderRaw } from '../src/screen/screen.js';
import type { LaunchContext } from '../src/providers/types.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const fixtures = path.join(repoRoot, 'tests', 'fixtures');
if (!existsSync(path.join(fixtures, 'cao'))) {
  throw new Error(`captured screens missing under ${fixtures}: they are part of the repository (tests/fixtures/README.md)`);
}
const read = (rel: string) => readFileSync(path.join(fixtures, 'cao', rel), 'utf8');
/** Captured rows are joined by LF only; a terminal needs CR LF to start each row at column 0. */
const crlf = (t: string) => t.replace(/\r?\n/g, '\r\n');
const p = kiroCliProvider;
const only = (s: ScreenSnapshot) => kiroStartupDialogs.filter((d) => d.match(s)).map((d) => d.id);
const DOWN = '\x1b[B';

/** Every kiro capture: its status, and the exact answer where one is on screen. */
const expected: Record<string, { status: string; answer?: string | null }> = {
  'kiro_cli_permission_active_empty.txt': { status: 'waiting_user_answer' },
  'kiro_cli_permission_active_injection.txt': { status: 'waiting_user_answer' },
  'kiro_cli_permission_active_partial_typing.txt': { status: 'waiting_user_answer' },
  'kiro_cli_permission_active_trailing_text.txt': { status: 'waiting_user_answer' },
  'kiro_cli_permission_output.txt': { status: 'waiting_user_answer' },
  'kiro_cli_permission_stale_answered.txt': { status: 'completed', answer: 'Done! Updated both files.' },
  'kiro_cli_permission_stale_long_response.txt': {
    status: 'completed',
    answer: 'I understand. Let me revise the analysis with more careful consideration.',
  },
  'kiro_cli_tui_idle_output.txt': { status: 'idle', answer: null },
  'kiro_cli_tui_processing_output.txt': { status: 'processing' },
  'kiro_cli_tui_completed_output.txt': {
    status: 'completed',
    answer: [
      'Here is a comprehensive response listing the files in the current directory.',
      '',
      'The directory contains the following files:',
      '- README.md',
      '- package.json',
      '- src/index.ts',
      '',
      'This response includes multiple paragraphs to verify extraction.',
    ].join('\n'),
  },
  'kiro_cli_tui_complex_response.txt': {
    status: 'completed',
    answer: [
      "Here's a detailed response with code examples.",
      '',
      '## Python Example',
      '',
      '```python',
      'def hello_world():',
      '    print("Hello, World!")',
      '    return True',
      '```',
      '',
      '## JavaScript Example',
      '',
      '```javascript',
      'function helloWorld() {',
      '    console.log("Hello, World!");',
      '    return true;',
      '}',
      '```',
      '',
      'Key points to consider:',
      '1. Function naming conventions',
      '2. Return values',
    ].join('\n'),
  },
  'kiro_trust_all_tools_dialog_active.txt': { status: 'waiting_user_answer' },
  'kiro_trust_all_tools_dialog_in_scrollback.txt': {
    status: 'completed',
    answer:
      'Here is the information you requested.\n\nLine 1 of response\nLine 2 of response\nLine 3 of response\nLine 4 of response\nLine 5 of response',
  },
  'kiro_trust_all_tools_dialog_stale.txt': { status: 'idle', answer: null },
};
/** Captures holding colour escapes: only the emulator shows them as a screen. */
const rawOnly = new Set(['kiro_cli_permission_output.txt']);

describe('kiro_cli: cao captures', () => {
  it('has an expectation for every kiro screen capture', () => {
    const files = readdirSync(path.join(fixtures, 'cao')).filter((f) => f.startsWith('kiro_') && !f.includes('_help'));
    expect(files.sort()).toEqual(Object.keys(expected).sort());
  });

  for (const [file, want] of Object.entries(expected)) {
    if (!rawOnly.has(file)) {
      it(`${file}: rendered text → ${want.status}`, () => {
        const s = snapshotFromText(read(file));
        expect(p.detect(s)).toBe(want.status);
        if ('answer' in want) expect(p.extractLastAnswer(s)).toBe(want.answer);
      });
    }
    it(`${file}: through the emulator at 220x50 → ${want.status}`, async () => {
      const s = await renderRaw(crlf(read(file)), 220, 50);
      expect(p.detect(s)).toBe(want.status);
      if ('answer' in want) expect(p.extractLastAnswer(s)).toBe(want.answer);
    });
  }

  it('a permission prompt is live even when the text typed at it wraps (narrow terminal)', async () => {
    const s = await renderRaw(crlf(read('kiro_cli_permission_active_injection.txt')), 120, 40);
    const textRows = read('kiro_cli_permission_active_injection.txt')
      .split('\n')
      .filter((l) => l.trim()).length;
    expect(s.lines.filter((l) => l.trim()).length).toBeGreaterThan(textRows); // the injected text wrapped
    expect(p.detect(s)).toBe('waiting_user_answer');
  });

  it('permission prompts: the question, and y/n/t answers', () => {
    const s = snapshotFromText(read('kiro_cli_permission_stale_answered.txt').replace(/\n> Done![\s\S]*$/, '\n'));
    // cut after the second "y": the run continues, nothing pending
    expect(p.pendingQuestion(s)).toBeNull();
    const live = snapshotFromText(read('kiro_cli_permission_active_empty.txt'));
    expect(p.pendingQuestion(live)).toBe("Allow this action? Use 't' to trust (always allow) this tool for the session. [y/n/t]:");
    expect(p.answerKeys!('yes', live)).toEqual(['y', '\r']);
    expect(p.answerKeys!('n', live)).toEqual(['n', '\r']);
    expect(p.answerKeys!('trust', live)).toEqual(['t', '\r']);
    expect(p.answerKeys!('whatever', live)).toEqual([]);
    const withTool = snapshotFromText(read('kiro_cli_permission_output.txt').replace(/\x1b\[[0-9;]*m/g, ''));
    expect(p.pendingQuestion(withTool)).toBe("I'd like to execute a command that requires your permission.\n\nAllow this action? [y/n/t]:");
  });

  it('trust-all-tools consent: startup dialog only while active (Down, Enter = "Yes, I accept")', () => {
    const active = snapshotFromText(read('kiro_trust_all_tools_dialog_active.txt'));
    expect(only(active)).toEqual(['kiro.trust-all-tools']);
    expect(kiroStartupDialogs[0].keys).toEqual([DOWN, '\r']);
    expect(p.pendingQuestion(active)).toContain('Kiro is running in trust all tools mode');
    expect(p.pendingQuestion(active)).toContain('Yes, I accept');
    expect(p.answerKeys!('yes', active)).toEqual([DOWN, '\r']);
    expect(only(snapshotFromText(read('kiro_trust_all_tools_dialog_stale.txt')))).toEqual([]);
    expect(only(snapshotFromText(read('kiro_trust_all_tools_dialog_in_scrollback.txt')))).toEqual([]);
    expect(p.pendingQuestion(snapshotFromText(read('kiro_trust_all_tools_dialog_stale.txt')))).toBeNull();
  });

  it('chat --help (2.13.0) lists every flag the launch uses', async () => {
    const help = read('kiro_cli_2_13_0_chat_help.txt');
    expect(read('kiro_cli_2_13_0_root_help.txt')).toMatch(/^\s+chat\s/m);
    const dir = mkdtempSync(path.join(tmpdir(), 'cao-kiro-help-'));
    try {
      const spec = await p.launch(launchCtx(dir, { model: 'claude-x' }));
      expect(spec.args[0]).toBe('chat');
      for (const flag of spec.args.filter((a) => a.startsWith('--'))) expect(help).toContain(flag);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('kiro_cli: synthetic screens for cases the captures lack', () => {
  it('legacy: a second turn returns only the second answer', () => {
    const s = snapshotFromText(
      [
        '[dev] 10% λ > first question',
        '',
        '> FIRST-ANSWER',
        '',
        '[dev] 11% λ > second question',
        '',
        'Reading file: a.txt (using tool: read)',
        ' - Completed in 0.1s',
        '',
        '> Second answer.',
        '',
        'With a second paragraph.',
        '',
        '[dev] 12% λ > ',
      ].join('\n'),
    );
    expect(p.detect(s)).toBe('completed');
    expect(p.extractLastAnswer(s)).toBe('Second answer.\n\nWith a second paragraph.');
  });

  it("legacy: an earlier turn's answer does not make a later, answer-less turn completed", () => {
    const s = snapshotFromText(
      ['[dev] 10% λ > q1', '', '> A1', '', '[dev] 11% λ > /tools', '', 'Tool  Permission', 'read  trusted', '', '[dev] 11% λ > '].join('\n'),
    );
    expect(p.detect(s)).toBe('idle');
    expect(p.extractLastAnswer(s)).toBeNull();
  });

  it('legacy: typed at the prompt after a turn, nothing new answered → still the last answer, completed', () => {
    const s = snapshotFromText(['[dev] 10% λ > q', '', '> A1', '', '[dev] 11% λ > draft not sent'].join('\n'));
    // "draft not sent" is the prompt row at the bottom, not a sent message
    expect(p.detect(s)).toBe('completed');
    expect(p.extractLastAnswer(s)).toBe('A1');
  });

  it('legacy: output still arriving under the last input → processing; a spinner too', () => {
    expect(p.detect(snapshotFromText(['[dev] 10% λ > q', '', 'Reading file: a.txt (using tool: read)'].join('\n')))).toBe('processing');
    expect(p.detect(snapshotFromText(['[dev] 10% λ > q', '', '⠋ Thinking...'].join('\n')))).toBe('processing');
  });

  it('an error message instead of an answer → error', () => {
    const s = snapshotFromText(
      ['[dev] 10% λ > q', '', 'Kiro is having trouble responding right now. Please try again.', '', '[dev] 10% λ > '].join('\n'),
    );
    expect(p.detect(s)).toBe('error');
  });

  it('mutating a capture changes the verdict', () => {
    const done = read('kiro_cli_tui_completed_output.txt');
    expect(p.detect(snapshotFromText(done.replace(/▸ Credits.*\n/, '')))).toBe('idle');
    expect(p.detect(snapshotFromText(done.replace('Ask a question or describe a task', 'Kiro is working')))).toBe('processing');
    const stale = read('kiro_cli_permission_stale_long_response.txt');
    expect(p.detect(snapshotFromText(stale.replace(/\n> I understand[\s\S]*$/, '\n')))).toBe('waiting_user_answer');
  });
});

function launchCtx(dir: string, over: Partial<LaunchContext> = {}): LaunchContext {
  return {
    terminalId: 't1',
    workingDirectory: dir,
    profileName: 'code reviewer/v2',
    systemPrompt: 'Review code.',
    mcp: { name: 'cao', command: '/usr/bin/node', args: ['/opt/cao/main.js'], env: { CAO_TERMINAL_ID: 't1', CAO_TOKEN: 'secret' } },
    runtimeDir: path.join(dir, 'run'),
    env: { PATH: '/usr/bin:/bin', HOME: dir, CAO_KIRO_AGENTS_DIR: path.join(dir, 'agents') },
    toolTimeoutSec: 1200,
    ...over,
  };
}

describe('kiro_cli: launch', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'cao-kiro-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('writes the agent JSON where kiro reads it and starts `kiro-cli chat --trust-all-tools --agent <name>`', async () => {
    const spec = await p.launch(launchCtx(dir, { model: 'claude-sonnet' }));
    const name = kiroAgentName('code reviewer/v2');
    expect(name).toBe('cao-code-reviewer-v2');
    expect(spec.args).toEqual(['chat', '--trust-all-tools', '--agent', name, '--model', 'claude-sonnet']);
    const file = path.join(dir, 'agents', `${name}.json`);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const agent = JSON.parse(readFileSync(file, 'utf8'));
    expect(agent.name).toBe(name);
    expect(agent.prompt).toBe('Review code.');
    expect(agent.mcpServers.cao).toEqual({ command: '/usr/bin/node', args: ['/opt/cao/main.js'], timeout: 1_200_000 });
    // the per-terminal secret stays out of the shared file and travels in the process env
    expect(readFileSync(file, 'utf8')).not.toContain('secret');
    expect(spec.env.CAO_TOKEN).toBe('secret');
    expect(spec.env.CAO_TERMINAL_ID).toBe('t1');
    expect(spec.cwd).toBe(dir);
  });

  it('CAO_KIRO_BIN overrides the binary', async () => {
    const c = launchCtx(dir);
    c.env.CAO_KIRO_BIN = '/opt/kiro/kiro-cli';
    expect((await p.launch(c)).command).toBe('/opt/kiro/kiro-cli');
  });

  it('has input, exit and size settings', () => {
    expect(p.exit.keys).toEqual(['/exit', '\r']);
    expect(p.cols).toBeGreaterThanOrEqual(220);
  });
});
