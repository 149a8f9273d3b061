import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { opencodeProvider as p } from '../src/providers/opencode.js';
import { snapshotFromText } from '../src/screen/snapshot.js';
import { renderRaw } from '../src/screen/screen.js';
import type { LaunchContext } from '../src/providers/types.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const fixtures = path.join(repoRoot, 'tests', 'fixtures');
if (!existsSync(path.join(fixtures, 'real', 'opencode-idle.txt')) || !existsSync(path.join(fixtures, 'cao', 'opencode_cli_completed.txt'))) {
  throw new Error(`captured screens missing under ${fixtures}: they are part of the repository (tests/fixtures/README.md)`);
}
const read = (rel: string) => readFileSync(path.join(fixtures, rel), 'utf8');
/** Captured rows are joined by LF only; a terminal needs CR LF to start each row at column 0. */
const crlf = (t: string) => t.replace(/\r?\n/g, '\r\n').replace(/\r\n$/, '');

// --- Synthetic session screens, laid out like the real OpenCode 1.18.33 captures (200x50, sidebar at 160) ---
const ROWS = 50;
const SIDE = 160;
const side = (main: string, text: string) => main.padEnd(SIDE) + text;
const sidebar = ['Fake title', '', 'Context', '2,469 tokens', '0% used', '$0.00 spent', '', 'LSP', 'LSPs are disabled'];
const idleFooter = side('   /home/dev/prj/work-opencode', '2.5K  ctrl+p commands    • OpenCode 1.18.33');
const busyFooter = side('   ⬝⬝⬝⬝■■■⬝  esc interrupt', 'tab agents  ctrl+p commands    • OpenCode 1.18.33');
const inputBox = (draft = '') => [
  '  ┃',
  draft ? `  ┃  ${draft}` : '  ┃',
  '  ┃',
  side('  ┃  Build · Fake Model Fake', '/home/dev/prj/work-opencode'),
  '  ╹' + '▀'.repeat(153),
];
const user = (text: string) => ['  ┃', `  ┃  ${text}`, '  ┃', ''];
const done = (dur = '3.2s') => [`     ▣  Build · Fake Model · ${dur}`, ''];
const running = ['     ▣  Build · Fake Model', ''];

/** A full 50-row session screen: transcript at the top (sidebar merged in), composer at the bottom. */
function session(transcript: string[], composer: string[] = [...inputBox(), idleFooter]): ReturnType<typeof snapshotFromText> {
  const rows: string[] = ['', ...transcript];
  while (rows.length < ROWS - composer.length - 1) rows.push('');
  rows.push(...composer, '');
  for (let i = 0; i < sidebar.length; i++) if (sidebar[i]) rows[i + 1] = side(rows[i + 1], sidebar[i]);
  return snapshotFromText(rows.join('\n'));
}
/** The permission panel as captured (it replaces the input box; the last row carries the version). */
const permissionPanel = [
  '  ┃',
  '  ┃  △ Permission required',
  '  ┃    ← Access external directory /etc',
  '  ┃',
  '  ┃  Patterns',
  '  ┃',
  '  ┃  - /etc/*',
  '  ┃',
  side('  ┃', '/home/dev/prj/work-opencode'),
  '  ┃   Allow once   Allow always   Reject' + ' '.repeat(66) + 'ctrl+f fullscreen  ⇆ select  enter confirm',
  side('  ┃', '• OpenCode 1.18.33'),
];
/** The question panel as captured (the agent called its `question` tool). */
const questionPanel = [
  '  ┃',
  '  ┃  Which color do you want?',
  '  ┃',
  '  ┃  1. Red',
  '  ┃     a warm color',
  '  ┃  2. Blue',
  '  ┃     a cool color',
  '  ┃  3. Type your own answer',
  side('  ┃', '/home/dev/prj/work-opencode'),
  '  ┃  ↑↓ select  enter submit  esc dismiss',
  side('  ┃', '• OpenCode 1.18.33'),
];

describe('opencode: captures from the reference project (OpenCode 1.14.19)', () => {
  const cases: [string, string, string | null][] = [
    ['opencode_cli_idle_splash.txt', 'idle', null],
    ['opencode_cli_idle_splash.ansi.txt', 'idle', null],
    ['opencode_cli_processing.txt', 'processing', null],
    ['opencode_cli_processing.ansi.txt', 'processing', null],
    // a `Thinking:` bar block above the answer is not part of it
    ['opencode_cli_completed.txt', 'completed', 'Hello there, friend!'],
    ['opencode_cli_completed.ansi.txt', 'completed', 'Hello there, friend!'],
    // after a rejected permission the last turn ended without an answer (its ▣ has no duration)
    ['opencode_cli_idle_post_completion.txt', 'idle', null],
    // OPENCODE_FIXTURES.md: this ANSI file reuses the completed frame
    ['opencode_cli_idle_post_completion.ansi.txt', 'completed', 'Hello there, friend!'],
    // the plain "permission" capture was taken before the panel appeared: the footer still says esc interrupt
    ['opencode_cli_permission.txt', 'processing', null],
    ['opencode_cli_permission.ansi.txt', 'waiting_user_answer', null],
  ];
  for (const [file, status, answer] of cases) {
    it(`${file} → ${status}`, async () => {
      const text = read(`cao/${file}`);
      const s = file.endsWith('.ansi.txt') ? await renderRaw(crlf(text), 200, 50) : snapshotFromText(text);
      expect(p.detect(s)).toBe(status);
      expect(p.extractLastAnswer(s)).toBe(answer);
      expect(p.pendingQuestion(s) !== null).toBe(status === 'waiting_user_answer');
    });
  }

  it('the 1.14 permission panel: question text without bars or sidebar, options answerable', async () => {
    const s = await renderRaw(crlf(read('cao/opencode_cli_permission.ansi.txt')), 200, 50);
    const q = p.pendingQuestion(s)!;
    expect(q).toContain('△ Permission required');
    expect(q).toContain('Access external directory /etc');
    expect(q).toContain('Allow once   Allow always   Reject');
    expect(q).not.toMatch(/┃|Connect from 75\+ providers|Getting started/u);
    expect(p.answerKeys!('Allow once', s)).toEqual(['\r']);
    expect(p.answerKeys!('reject', s)).toEqual(['\x1b']);
  });
});

describe('opencode: dialogs (laid out as captured from 1.18.33)', () => {
  const perm = session([...user('read the hostname'), '     ⠹ Read /etc/hostname', '', ...running], permissionPanel);
  const question = session([...user('choose a color'), '     → Asked 1 question', '', ...running], questionPanel);

  it('a permission request → waiting_user_answer, whatever the footer said before', () => {
    expect(p.detect(perm)).toBe('waiting_user_answer');
    expect(p.extractLastAnswer(perm)).toBeNull();
    const q = p.pendingQuestion(perm)!;
    expect(q.split('\n')[0]).toBe('△ Permission required');
    expect(q).toContain('- /etc/*');
    expect(q).not.toContain('OpenCode 1.18.33');
    expect(q).not.toContain('/home/dev/prj/work-opencode');
  });

  it('permission answers: ←/→ from the first option, Enter; Esc rejects; anything else types nothing', () => {
    expect(p.answerKeys!('Allow once', perm)).toEqual(['\r']);
    expect(p.answerKeys!('yes', perm)).toEqual(['\r']);
    expect(p.answerKeys!('1', perm)).toEqual(['\r']);
    expect(p.answerKeys!('allow always', perm)).toEqual(['\x1b[C', '\r']);
    expect(p.answerKeys!('no', perm)).toEqual(['\x1b']);
    expect(p.answerKeys!('3', perm)).toEqual(['\x1b']);
    expect(p.answerKeys!('maybe later', perm)).toEqual([]);
  });

  it('a question from the agent → waiting_user_answer; a digit picks, free text goes into "Type your own answer"', () => {
    expect(p.detect(question)).toBe('waiting_user_answer');
    const q = p.pendingQuestion(question)!;
    expect(q).toContain('Which color do you want?');
    expect(q).toContain('2. Blue');
    expect(p.answerKeys!('Blue', question)).toEqual(['2']);
    expect(p.answerKeys!('1', question)).toEqual(['1']);
    expect(p.answerKeys!('Green please', question)).toEqual(['3', 'Green please', '\r']);
  });

  it('an answered question left in the transcript is not a pending one', () => {
    const s = session([
      ...user('choose a color'),
      '  ┃',
      '  ┃  # Questions',
      '  ┃',
      '  ┃  Which color do you want?',
      '  ┃  Blue',
      '  ┃',
      '',
      '     CHOSEN-OK',
      '',
      ...done('4.6s'),
    ]);
    expect(p.detect(s)).toBe('completed');
    expect(p.pendingQuestion(s)).toBeNull();
    expect(p.extractLastAnswer(s)).toBe('CHOSEN-OK');
  });
});

describe('opencode: turns', () => {
  it('answer text on screen while the footer still says esc interrupt: processing (not done)', () => {
    const s = session([...user('give multi'), '     First line of answer.', '', '     - item a', ...running], [...inputBox(), busyFooter]);
    expect(p.detect(s)).toBe('processing');
    expect(p.extractLastAnswer(s)).toBeNull();
  });

  it('a quiet footer but a ▣ without its duration: the turn is not over (idle, no answer)', () => {
    const s = session([...user('give multi'), '     First line', '', ...running]);
    expect(p.detect(s)).toBe('idle');
    expect(p.extractLastAnswer(s)).toBeNull();
  });

  it('a finished ▣ with nothing of the turn drawn above it yet (a frame half redrawn) says nothing; the full frame is completed', () => {
    // seen live on 1.18.33 under load: completed with an empty answer, one frame before the text row was drawn
    const half = session([...user('please say ping'), '', '', ...done('2.6s')]);
    expect(p.detect(half)).toBe('unknown');
    const full = session([...user('please say ping'), '     PONG-1', '', ...done('2.6s')]);
    expect(p.detect(full)).toBe('completed');
    expect(p.extractLastAnswer(full)).toBe('PONG-1');
    // a second turn whose text is missing the same way, below a finished first one
    expect(p.detect(session([...user('q1'), '     A1', '', ...done(), ...user('q2'), '', ...done()]))).toBe('unknown');
  });

  it('a footer half redrawn (progress blocks over the directory row, no "esc interrupt" yet) is busy', () => {
    // seen live mid-turn on 1.18.33: read as idle, read_output returned before the answer
    const half = side('   ■⬝⬝⬝⬝⬝ao-real-opencode-second-turn/project', '2.7K  ctrl+p commands');
    const s = session([...user('say ping'), '     PONG-1', '', ...done(), ...user('now the second task'), ...running], [...inputBox(), half]);
    expect(p.detect(s)).toBe('processing');
    expect(p.extractLastAnswer(s)).toBeNull();
  });

  it('a second turn returns only its own last text part, multi-line, without tool rows or bars', () => {
    const s = session([
      ...user('say ping'),
      '     PONG-1',
      '',
      ...done('3.2s'),
      ...user('run bash then sum up'),
      '     Let me run it.',
      '',
      '  ┃',
      '  ┃  $ echo hi-from-bash && echo line2',
      '  ┃',
      '  ┃  hi-from-bash',
      '  ┃',
      '',
      '     → Read /etc/hostname',
      '',
      '     Summary line one.',
      '',
      '     - item a',
      '       - nested b',
      '',
      '     Last line.',
      '',
      ...done('966ms'),
    ]);
    expect(p.detect(s)).toBe('completed');
    expect(p.extractLastAnswer(s)).toBe('Summary line one.\n\n- item a\n  - nested b\n\nLast line.');
  });

  it('a message just taken (its bar block below the last ▣, footer still quiet) is processing, not the old turn', () => {
    const s = session([...user('say ping'), '     PONG-1', '', ...done(), ...user('next question')]);
    expect(p.detect(s)).toBe('processing');
    expect(p.extractLastAnswer(s)).toBeNull();
    // the very first message, before any ▣ (seen live for about a second after the session view opens)
    expect(p.detect(session([...user('say ping')]))).toBe('processing');
  });

  it('a turn that failed (error bar, ▣ without duration, quiet footer) is over without an answer: idle', () => {
    // as captured from 1.18.33 against a model that answered HTTP 400
    const s = session([...user('please fail'), '  ┃', '  ┃  bad request from fake', '  ┃', '', ...running]);
    expect(p.detect(s)).toBe('idle');
    expect(p.extractLastAnswer(s)).toBeNull();
  });

  it('durations in minutes are recognised', () => {
    expect(p.detect(session([...user('long'), '     OK', '', ...done('1m 3s')]))).toBe('completed');
  });

  it('a draft typed under a finished turn keeps it completed', () => {
    const s = session([...user('say ping'), '     PONG-1', '', ...done()], [...inputBox('typed but not sent'), idleFooter]);
    expect(p.detect(s)).toBe('completed');
    expect(p.extractLastAnswer(s)).toBe('PONG-1');
  });

  it('a blank frame (switching from home to the session) says nothing', () => {
    expect(p.detect(snapshotFromText('\n'.repeat(49)))).toBe('unknown');
  });
});

describe('opencode: launch', () => {
  let tmp: string;
  const ctx = (over: Partial<LaunchContext> = {}): LaunchContext => ({
    terminalId: 'term-o1',
    workingDirectory: path.join(tmp, 'work'),
    profileName: 'reviewer',
    systemPrompt: 'You review code. Quote "exactly".',
    mcp: { name: 'cao', command: '/usr/bin/node', args: ['/opt/cao/dist/cli/main.js'], env: { CAO_TERMINAL_ID: 'term-o1', CAO_HUB_TOKEN: 'tok-9' } },
    runtimeDir: path.join(tmp, 'run', 'term-o1'),
    env: { HOME: path.join(tmp, 'home'), PATH: '/usr/bin:/bin' },
    toolTimeoutSec: 1200,
    ...over,
  });
  beforeAll(() => {
    tmp = mkdtempSync(path.join(tmpdir(), 'cao-opencode-test-'));
    mkdirSync(path.join(tmp, 'work'));
  });
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  it('points OPENCODE_CONFIG at a per-terminal file with our MCP server (local, command array, timeout in ms)', () => {
    const spec = p.launch(ctx({ env: { PATH: '/usr/bin', CAO_OPENCODE_BIN: '/opt/bin/opencode' } })) as {
      command: string;
      args: string[];
      env: Record<string, string>;
      cwd: string;
    };
    expect(spec.command).toBe('/opt/bin/opencode');
    expect(spec.args).toEqual(['--auto']);
    expect(spec.cwd).toBe(path.join(tmp, 'work'));
    const file = spec.env.OPENCODE_CONFIG;
    expect(file).toBe(path.join(tmp, 'run', 'term-o1', 'opencode.json'));
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const cfg = JSON.parse(readFileSync(file, 'utf8'));
    expect(cfg.mcp.cao).toEqual({
      type: 'local',
      command: ['/usr/bin/node', '/opt/cao/dist/cli/main.js'],
      environment: { CAO_TERMINAL_ID: 'term-o1', CAO_HUB_TOKEN: 'tok-9' },
      enabled: true,
      timeout: 1_200_000,
    });
    // the profile is appended to OpenCode's own system prompt through `instructions`
    expect(cfg.instructions).toHaveLength(1);
    expect(readFileSync(cfg.instructions[0], 'utf8')).toBe('You review code. Quote "exactly".\n');
    expect(cfg.agent).toBeUndefined();
  });

  it('passes the model as provider/model', () => {
    const spec = p.launch(ctx({ model: 'anthropic/claude-sonnet-4' })) as { args: string[] };
    expect(spec.args).toEqual(['--auto', '--model', 'anthropic/claude-sonnet-4']);
  });

  it('layers over a config the user already points OPENCODE_CONFIG at (JSONC), keeping their instructions', () => {
    const mine = path.join(tmp, 'mine.jsonc');
    writeFileSync(
      mine,
      '{\n  // user config\n  "theme": "dark",\n  "instructions": ["STYLE.md"],\n  "mcp": { "other": { "type": "local", "command": ["x"] } },\n}\n',
    );
    const spec = p.launch(ctx({ env: { OPENCODE_CONFIG: mine }, runtimeDir: path.join(tmp, 'run', 'o2') })) as { env: Record<string, string> };
    expect(spec.env.OPENCODE_CONFIG).not.toBe(mine);
    const cfg = JSON.parse(readFileSync(spec.env.OPENCODE_CONFIG, 'utf8'));
    expect(cfg.theme).toBe('dark');
    expect(cfg.mcp.other).toEqual({ type: 'local', command: ['x'] });
    expect(cfg.mcp.cao.type).toBe('local');
    expect(cfg.instructions[0]).toBe('STYLE.md');
    expect(cfg.instructions).toHaveLength(2);
  });

  it('no profile text: no instructions entry', () => {
    const spec = p.launch(ctx({ systemPrompt: '  ', runtimeDir: path.join(tmp, 'run', 'o3') })) as { env: Record<string, string> };
    expect(JSON.parse(readFileSync(spec.env.OPENCODE_CONFIG, 'utf8')).instructions).toBeUndefined();
  });

  it('quits with Ctrl-C twice (the first clears a draft)', () => {
    expect(p.exit.keys).toEqual(['\x03', '\x03']);
  });
});
