import { describe, expect, it, beforeAll, afterAll } from 'vitest';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { claudeCodeProvider, claudeDraft, claudeStartupDialogs } from '../src/providers/claude-code.js';
import { snapshotFromText, type ScreenSnapshot } from '../src/screen/snapshot.js';
import { renderRaw } from '../src/screen/screen.js';
import type { LaunchContext } from '../src/providers/types.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const fixtures = path.join(repoRoot, 'tests', 'fixtures');
if (!existsSync(path.join(fixtures, 'real')) || !existsSync(path.join(fixtures, 'cao'))) {
  throw new Error(`captured screens missing under ${fixtures}: they are part of the repository (tests/fixtures/README.md)`);
}
const read = (rel: string) => readFileSync(path.join(fixtures, rel), 'utf8');

const p = claudeCodeProvider;
const RULE = '─'.repeat(120);
const screen = (rows: string[]) => snapshotFromText(rows.join('\n'));
const box = (draft = '', footer = '  ? for shortcuts · ← for agents') => [RULE, `❯ ${draft}`, RULE, footer];

describe('claude_code: real captures, more', () => {
  it('typed: the draft is readable (for input confirmation) and is not an answer', () => {
    const s = snapshotFromText(read('real/claude-typed.txt'));
    expect(claudeDraft(s)).toBe('say ping');
    expect(claudeDraft(snapshotFromText(read('real/claude-idle.txt')))).toBe('');
  });
});

describe('claude_code: cao capture (2.1.168 raw stream, completed turn)', () => {
  /*
   * This stream lost its carriage returns when it was stored: every CR LF and every lone CR became LF.
   * Ink ends a redraw with a lone CR before its relative cursor moves, so a run of k LFs was k-1 CR LF
   * plus one CR. Decoded that way the stream renders to a clean frame (banner, echo, answer, box).
   */
  const decode = (raw: string) => raw.replace(/\n+/g, (m) => '\r\n'.repeat(m.length - 1) + '\r');
  let s: ScreenSnapshot;
  beforeAll(async () => {
    s = await renderRaw(decode(read('cao/claude_code_new_tui_completed_raw.txt')), 220, 50);
  });

  it('renders to a completed screen', () => {
    expect(p.detect(s)).toBe('completed');
  });
  it('extracts exactly the answer, code indentation kept', () => {
    expect(p.extractLastAnswer(s)).toBe('def greet(name):\n    return f"Hello, {name}!"');
  });
  it('the bypass-mode footer (`● high · /effort` on the same row) is not an answer', () => {
    const footer = s.lines.find((l) => l.includes('bypass permissions on'));
    expect(footer).toBeDefined();
    expect(p.extractLastAnswer(s)).not.toContain('effort');
  });
});

describe('claude_code: synthetic screens for cases the captures lack', () => {
  const permission = [
    '● Bash(rm -rf build)',
    '',
    RULE,
    ' Bash command',
    '',
    '   rm -rf build',
    '   Remove build directory',
    '',
    ' Do you want to proceed?',
    ' ❯ 1. Yes',
    "   2. Yes, and don't ask again for rm commands in /home/dev/prj",
    '   3. No, and tell Claude what to do differently (esc)',
    '',
    ' Esc to cancel · Tab to amend',
  ];

  it('an active permission menu → waiting_user_answer, with its question and options', () => {
    const s = screen(['❯ clean up', '', ...permission]);
    expect(p.detect(s)).toBe('waiting_user_answer');
    const q = p.pendingQuestion(s)!;
    expect(q).toContain('Do you want to proceed?');
    expect(q).toContain('1. Yes');
    expect(q).toContain('3. No, and tell Claude what to do differently');
    expect(q).not.toContain('clean up');
  });

  it('menu answers are the option digit (select-and-confirm), never typed text', () => {
    const s = screen(['❯ clean up', '', ...permission]);
    expect(p.answerKeys!('1', s)).toEqual(['1']);
    expect(p.answerKeys!('yes', s)).toEqual(['1']);
    expect(p.answerKeys!('No, and tell Claude what to do differently', s)).toEqual(['3']);
    expect(p.answerKeys!('no', s)).toEqual(['3']);
    expect(p.answerKeys!('7', s)).toEqual([]);
    expect(p.answerKeys!('make me a sandwich', s)).toEqual([]);
  });

  it('a stale (answered) dialog above a later answer does not count → completed', () => {
    const s = screen([...permission, '', '❯ now say pong', '', '● PONG-9', '', '✻ Baked for 2s', '', ...box()]);
    expect(p.detect(s)).toBe('completed');
    expect(p.pendingQuestion(s)).toBeNull();
    expect(p.extractLastAnswer(s)).toBe('PONG-9');
  });

  it('a stale spinner in scrollback does not count; a live one above the box does', () => {
    const stale = screen(['❯ a', '✢ Brewing…', '● one', '✻ Worked for 1s', ...box()]);
    expect(p.detect(stale)).toBe('completed');
    const live = screen(['❯ a', '', '✶ Zigzagging… (3s · ↓ 12 tokens)', '', ...box('', '  ⏵⏵ bypass permissions on (shift+tab to cycle)')]);
    expect(p.detect(live)).toBe('processing');
  });

  it('the effort footer `● high · /effort` is never an answer, wherever it sits', () => {
    const idle = screen([...box('', '● high · /effort')]);
    expect(p.detect(idle)).toBe('idle');
    expect(p.extractLastAnswer(idle)).toBeNull();
    const bare = screen(['● high · /effort']);
    expect(p.detect(bare)).not.toBe('completed');
    expect(p.extractLastAnswer(bare)).toBeNull();
  });

  it('a second turn returns only the second answer; tool calls are cut, multi-line text kept', () => {
    const s = screen([
      '❯ first question',
      '',
      '● FIRST-ANSWER',
      '',
      '✻ Worked for 2s',
      '',
      '❯ second question',
      '  spanning two lines',
      '',
      "● I'll look first.",
      '',
      '● Bash(ls -la)',
      '  ⎿  total 0',
      '     drwxr-xr-x 2 dev dev 40 .',
      '',
      '● cao - send_message (MCP)(receiver_id: "abc", message: "hi")',
      '  ⎿  queued',
      '',
      '● Read 2 files (ctrl+o to expand)',
      '',
      '● Second answer, line one.',
      '  Line two.',
      '',
      '  ```',
      '  def f():',
      '      return 1',
      '  ```',
      '',
      '✻ Cogitated for 9s',
      '',
      ...box(),
    ]);
    expect(p.detect(s)).toBe('completed');
    expect(p.extractLastAnswer(s)).toBe('Second answer, line one.\nLine two.\n\n```\ndef f():\n    return 1\n```');
  });

  it('the previous turn never leaks: plain second answer, and a just-sent message is not yet completed', () => {
    const two = screen(['❯ q1', '', '● A1', '', '✻ Worked for 1s', '', '❯ q2', '', '● A2', '', '✻ Worked for 1s', '', ...box()]);
    expect(p.extractLastAnswer(two)).toBe('A2');
    // message echoed, turn not started yet: the old answer above it must not read as this turn's
    const sent = screen(['❯ q1', '', '● A1', '', '✻ Worked for 1s', '', '❯ q2', '', ...box()]);
    expect(p.detect(sent)).toBe('idle');
    expect(p.extractLastAnswer(sent)).toBeNull();
  });

  it('a turn ending on a tool call still reports the text the agent wrote last', () => {
    const s = screen(['❯ report back', '', '● Sending the result now.', '', '● cao - send_message (MCP)(message: "done")', '  ⎿  ok', '', ...box()]);
    expect(p.detect(s)).toBe('completed');
    expect(p.extractLastAnswer(s)).toBe('Sending the result now.');
  });

  it('grouped tool calls (multi-word tool name, a collapsed "Called cao" row) are not part of the answer', () => {
    // seen live on 2.1.197: WaitForMcpServers, then the cao MCP call, drawn as one group before the answer
    const s = screen([
      '❯ please report back',
      '',
      '● MCP Wait For Servers(Wait for pending MCP servers to connect)',
      '  Called cao (ctrl+o to expand)',
      '',
      '● SENT-claude',
      '',
      '✻ Baked for 2s',
      '',
      ...box(),
    ]);
    expect(p.detect(s)).toBe('completed');
    expect(p.extractLastAnswer(s)).toBe('SENT-claude');
  });

  it('a long token the emulator soft-wrapped comes back as one line', async () => {
    const url = `https://example.com/${'a'.repeat(120)}`;
    const rule = '─'.repeat(80);
    const rows = ['❯ link please', '', `● See ${url}`, '  and done.', '', '✻ Worked for 1s', '', rule, '❯ ', rule, '  ? for shortcuts'];
    const s = await renderRaw(rows.join('\r\n'), 80, 30);
    expect(p.detect(s)).toBe('completed');
    expect(p.extractLastAnswer(s)).toBe(`See ${url}\nand done.`);
  });

  it('an API error instead of an answer → error', () => {
    const s = screen(['❯ say ping', '  ⎿  API Error: 401 {"type":"error","error":{"type":"authentication_error"}}', '', ...box()]);
    expect(p.detect(s)).toBe('error');
    expect(p.extractLastAnswer(s)).toBeNull();
  });

  it('mutating a capture changes the verdict (the detector reads what it claims to read)', () => {
    const busy = read('real/claude-processing.txt');
    expect(p.detect(snapshotFromText(busy))).toBe('processing');
    // the spinner row: a glyph and a random verb (re-recorded captures differ in both)
    const calmed = busy.replace('esc to interrupt', '? for shortcuts').replace(/^[·✢✳✶✻✽*] \S+…$/m, '');
    expect(calmed).not.toMatch(/…/);
    expect(p.detect(snapshotFromText(calmed))).toBe('idle');
    const answered = read('real/claude-answered.txt');
    expect(p.detect(snapshotFromText(answered.replace('● PONG-123', '')))).toBe('idle');
  });
});

describe('claude_code: startup dialogs match only when active', () => {
  const only = (s: ScreenSnapshot) => claudeStartupDialogs.filter((d) => d.match(s)).map((d) => d.id);
  const trust = [
    RULE,
    ' Do you trust the files in this folder?',
    '',
    ' /home/dev/prj',
    '',
    ' ❯ 1. Yes, proceed',
    '   2. No, exit',
    '',
    ' Enter to confirm · Esc to exit',
  ];
  const bypass = [
    RULE,
    ' WARNING: Claude Code running in Bypass Permissions mode',
    '',
    ' By proceeding, you accept all responsibility for actions taken while running in Bypass Permissions mode.',
    '',
    ' ❯ 1. No, exit',
    '   2. Yes, I accept',
    '',
    ' Enter to confirm · Esc to exit',
  ];
  const apiKey = [
    RULE,
    ' Detected a custom API key in your environment',
    '',
    ' ANTHROPIC_API_KEY: sk-ant-...abcd',
    '',
    ' Do you want to use this API key?',
    '',
    '   1. Yes',
    ' ❯ 2. No (recommended)',
    '',
    ' Enter to confirm · Esc to exit',
  ];

  it('trust folder → Enter', () => {
    expect(only(screen(trust))).toEqual(['claude.trust-folder']);
    expect(claudeStartupDialogs.find((d) => d.id === 'claude.trust-folder')!.keys).toEqual(['\r']);
    expect(p.detect(screen(trust))).toBe('waiting_user_answer');
  });
  it('bypass-permissions warning → Down, Enter (default is "No, exit")', () => {
    expect(only(screen(bypass))).toEqual(['claude.bypass-permissions']);
    expect(claudeStartupDialogs.find((d) => d.id === 'claude.bypass-permissions')!.keys).toEqual(['\x1b[B', '\r']);
  });
  it('API key (default "No") → Up, Enter', () => {
    expect(only(screen(apiKey))).toEqual(['claude.api-key']);
    expect(claudeStartupDialogs.find((d) => d.id === 'claude.api-key')!.keys).toEqual(['\x1b[A', '\r']);
  });
  it('a dialog drawn at the top of a tall terminal (blank rows below it) is still found', async () => {
    // rows as Claude Code 2.1.197 drew them here, in a 200x50 pty, when the key was not pre-approved
    const real = [
      '─'.repeat(200),
      '  Detected a custom API key in your environment',
      '',
      '  ANTHROPIC_API_KEY: sk-ant-...0123456789abcdefghij',
      '',
      '  Do you want to use this API key?',
      '',
      '    1. Yes',
      '  ❯ 2. No (recommended)',
      '',
      '  Enter to confirm · Esc to cancel',
    ];
    const s = await renderRaw(real.join('\r\n'), 200, 50);
    expect(s.lines.length).toBe(50); // 39 blank rows under the dialog
    expect(p.detect(s)).toBe('waiting_user_answer');
    expect(only(s)).toEqual(['claude.api-key']);
    expect(p.pendingQuestion(s)).toContain('Do you want to use this API key?');
  });

  it('an answered dialog left in scrollback does not match', () => {
    for (const d of [trust, bypass, apiKey]) expect(only(screen([...d, '', ...box()]))).toEqual([]);
  });
});

describe('claude_code: launch', () => {
  let dir: string;
  const ctx = (over: Partial<LaunchContext> = {}): LaunchContext => ({
    terminalId: 't1',
    workingDirectory: dir,
    profileName: 'dev',
    systemPrompt: '- You are a careful developer.\nSay "done" when done.',
    mcp: { name: 'cao', command: '/usr/bin/node', args: ['/opt/cao/dist/cli/main.js'], env: { CAO_TERMINAL_ID: 't1', CAO_TOKEN: 'secret' } },
    runtimeDir: path.join(dir, 'run'),
    env: { PATH: path.join(dir, 'bin'), HOME: dir, CLAUDECODE: '1', CLAUDE_CODE_ENTRYPOINT: 'cli', KEEP: 'yes' },
    toolTimeoutSec: 600,
    ...over,
  });
  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'cao-claude-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('builds the command, MCP config file, prompt and env', async () => {
    const spec = await p.launch(ctx({ model: 'opus' }));
    expect(spec.cwd).toBe(dir);
    expect(spec.command).toBe('claude'); // not on PATH: left for spawn to report
    const i = spec.args.indexOf('--mcp-config');
    expect(i).toBeGreaterThanOrEqual(0);
    const file = spec.args[i + 1];
    expect(path.dirname(file)).toBe(path.join(dir, 'run'));
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual({
      mcpServers: {
        cao: {
          command: '/usr/bin/node',
          args: ['/opt/cao/dist/cli/main.js'],
          env: { CAO_TERMINAL_ID: 't1', CAO_TOKEN: 'secret' },
          type: 'stdio',
          alwaysLoad: true,
        },
      },
    });
    expect(spec.args).toContain('--strict-mcp-config');
    expect(spec.args).toContain('--dangerously-skip-permissions');
    // the prompt starts with "-": passed as --opt=value so it cannot be read as an option
    expect(spec.args).toContain('--append-system-prompt=- You are a careful developer.\nSay "done" when done.');
    expect(spec.args).toContain('--model=opus');
    expect(spec.env.MCP_TOOL_TIMEOUT).toBe('600000');
    expect(spec.env.MCP_TIMEOUT).toBe('60000');
    expect(spec.env.CLAUDECODE).toBeUndefined();
    expect(spec.env.CLAUDE_CODE_ENTRYPOINT).toBeUndefined();
    expect(spec.env.KEEP).toBe('yes');
    if (process.getuid?.() === 0) expect(spec.env.IS_SANDBOX).toBe('1');
  });

  it('resolves the binary: CAO_CLAUDE_BIN, else `claude` on PATH', async () => {
    const bin = path.join(dir, 'bin');
    mkdirSync(bin, { recursive: true });
    writeFileSync(path.join(bin, 'claude'), '#!/bin/sh\nexit 0\n');
    chmodSync(path.join(bin, 'claude'), 0o755);
    expect((await p.launch(ctx())).command).toBe(path.join(bin, 'claude'));
    const c = ctx();
    c.env.CAO_CLAUDE_BIN = '/opt/claude/bin/claude';
    expect((await p.launch(c)).command).toBe('/opt/claude/bin/claude');
  });

  it('has input, exit and size settings', () => {
    expect(p.input.enterDelayMs).toBeGreaterThanOrEqual(150);
    expect(p.input.enterDelayMs).toBeLessThanOrEqual(300);
    expect(p.exit.keys).toEqual(['/exit', '\r']);
    expect([p.cols, p.rows]).toEqual([200, 50]);
  });
});
