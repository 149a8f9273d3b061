import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { geminiCliProvider as p } from '../src/providers/gemini-cli.js';
import { snapshotFromText } from '../src/screen/snapshot.js';
import type { LaunchContext, LaunchSpec } from '../src/providers/types.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const fixtures = path.join(repoRoot, 'tests', 'fixtures');
if (!existsSync(path.join(fixtures, 'real', 'gemini-idle.txt'))) {
  throw new Error(`captured screens missing under ${fixtures}: they are part of the repository (tests/fixtures/README.md)`);
}

// --- Synthetic screens, built row for row like the real Gemini CLI 0.61 captures (200 columns) ---
const W = 200;
const rule = (ch: string) => ch.repeat(W);
const right = (text: string, lead = '') => lead + ' '.repeat(W - lead.length - text.length - 1) + text;
const banner = ['', ' ▝▜▄     Gemini CLI v0.61.0', '   ▝▜▄', '  ▗▟▀    Authenticated with gemini-api-key /auth', ' ▝▀', ''];
const userBox = (text: string) => [rule('▄'), ` > ${text}`, rule('▀')];
const composer = (status = right('? for shortcuts'), input = '>   Type your message or @path/to/file') => [
  status,
  rule('─'),
  ' Shift+Tab to accept edits',
  rule('▄'),
  ` ${input}`,
  rule('▀'),
  ' workspace (/directory)                     sandbox                     /model',
  ' /home/dev/prj/work-gemini                  no sandbox                  Auto',
];
const busy = right('? for shortcuts', ' ⠙ Thinking... (esc to cancel, 3s)');
const box = (rows: string[]) => ['╭' + '─'.repeat(W - 2) + '╮', ...rows.map((r) => '│ ' + r.padEnd(W - 4) + ' │'), '╰' + '─'.repeat(W - 2) + '╯'];
const nested = (text: string) => ['╭' + '─'.repeat(W - 6) + '╮', '│ ' + text.padEnd(W - 8) + ' │', '╰' + '─'.repeat(W - 6) + '╯'];
/** The shell confirmation as captured from the real CLI in default approval mode. */
const shellConfirm = box([
  '? Shell  touch created-by-shell.txt && rm -f created-by-shell.txt',
  ...nested('touch created-by-shell.txt && rm -f created-by-shell.txt'),
  'Allow execution of [Shell]?',
  '',
  '● 1. Allow once',
  '  2. Allow for this session',
  '  3. No, suggest changes (esc)',
]);
const doneShell = box(['✓  Shell touch created-by-shell.txt && rm -f created-by-shell.txt', '']);
const screen = (rows: string[]) => snapshotFromText(rows.join('\n'));

describe('gemini_cli: dialogs', () => {
  const waiting = screen([...banner, ...userBox('say ping'), '✦ PONG-1', '', ...userBox('run shell'), ...shellConfirm]);

  it('a tool confirmation (composer gone, radio list at the bottom) → waiting_user_answer', () => {
    expect(p.detect(waiting)).toBe('waiting_user_answer');
    expect(p.extractLastAnswer(waiting)).toBeNull();
  });

  it('pendingQuestion gives the dialog without its borders', () => {
    const q = p.pendingQuestion(waiting)!;
    expect(q).toContain('Allow execution of [Shell]?');
    expect(q).toContain('● 1. Allow once');
    expect(q).toContain('3. No, suggest changes (esc)');
    expect(q).not.toMatch(/[│╭╰]/u);
    expect(q).not.toContain('PONG-1');
  });

  it('answers move with arrows from the selected row, then Enter (a digit would leak into the next prompt)', () => {
    expect(p.answerKeys!('1', waiting)).toEqual(['\r']);
    expect(p.answerKeys!('Allow once', waiting)).toEqual(['\r']);
    expect(p.answerKeys!('allow for this session', waiting)).toEqual(['\x1b[B', '\r']);
    expect(p.answerKeys!('3', waiting)).toEqual(['\x1b[B', '\x1b[B', '\r']);
    expect(p.answerKeys!('no', waiting)).toEqual(['\x1b[B', '\x1b[B', '\r']);
    expect(p.answerKeys!('yes', waiting)).toEqual(['\r']);
    // from a moved selection, up again
    const moved = screen([
      ...userBox('run shell'),
      ...box(['Allow execution of [Shell]?', '', '  1. Allow once', '● 2. Allow for this session', '  3. No']),
    ]);
    expect(p.answerKeys!('1', moved)).toEqual(['\x1b[A', '\r']);
  });

  it('an answer that is none of the options types nothing', () => {
    expect(p.answerKeys!('make it blue', waiting)).toEqual([]);
    expect(p.answerKeys!('7', waiting)).toEqual([]);
  });

  it('a stale confirmation in scrollback does not count once the composer is back', () => {
    const s = screen([
      ...banner,
      ...userBox('run shell'),
      ...shellConfirm,
      ...doneShell,
      '✦ SHELL-DONE',
      '',
      ...userBox('again'),
      '✦ SECOND',
      '',
      ...composer(),
    ]);
    expect(p.detect(s)).toBe('completed');
    expect(p.pendingQuestion(s)).toBeNull();
    expect(p.extractLastAnswer(s)).toBe('SECOND');
  });

  it('the folder-trust dialog is a known startup dialog, dismissed with Enter (first option: trust)', () => {
    const s = screen([
      ...banner,
      ...box(['Do you trust the files in this folder?', '', '● 1. Trust folder (prj)', '  2. Trust parent folder (dev)', "  3. Don't trust"]),
    ]);
    expect(p.detect(s)).toBe('waiting_user_answer');
    const d = p.startupDialogs.find((x) => x.match(s));
    expect(d?.id).toBe('gemini-folder-trust');
    expect(d?.keys).toEqual(['\r']);
    expect(p.startupDialogs.some((x) => x.match(waiting))).toBe(false);
  });
});

describe('gemini_cli: turns', () => {
  it('a second turn returns only the second answer, multi-line, without chrome', () => {
    const s = screen([
      ...banner,
      ...userBox('say ping'),
      '✦ PONG-1',
      '',
      ...userBox('give multi'),
      '✦ First line of answer.',
      '',
      '   - item a',
      '   - item b',
      '',
      '  Last line.',
      '',
      ...composer(),
    ]);
    expect(p.detect(s)).toBe('completed');
    expect(p.extractLastAnswer(s)).toBe('First line of answer.\n\n - item a\n - item b\n\nLast line.');
  });

  it('the answer after a tool box is the one taken; tool output never leaks', () => {
    const s = screen([...userBox('run shell'), '✦ Let me run it.', '', ...doneShell, '✦ SHELL-DONE', '', ...composer()]);
    expect(p.extractLastAnswer(s)).toBe('SHELL-DONE');
  });

  it('while the second turn runs: processing, and no answer of the first turn is returned', () => {
    const s = screen([...userBox('say ping'), '✦ PONG-1', '', ...userBox('second question'), '', ...composer(busy)]);
    expect(p.detect(s)).toBe('processing');
    expect(p.extractLastAnswer(s)).toBeNull();
  });

  it('a message taken with nothing of its turn drawn yet (no spinner for a frame) is processing, not idle', () => {
    const s = screen([...banner, ...userBox('say ping'), '', ...composer()]);
    expect(p.detect(s)).toBe('processing');
    expect(p.extractLastAnswer(s)).toBeNull();
  });

  it('the frame where a prompt queued during start-up leaves the queue (no box, no spinner yet) is processing', () => {
    // seen live: history ends with the "Initializing…" notice, the queue block is gone, nothing else drawn
    const s = screen([...banner, 'ℹ Initializing... Prompts will be queued.', '', ...composer()]);
    expect(p.detect(s)).toBe('processing');
  });

  it('streaming text with the spinner still up is processing', () => {
    const s = screen([...userBox('say ping'), '✦ PONG-1 partial', '', ...composer(busy)]);
    expect(p.detect(s)).toBe('processing');
  });

  it('a prompt queued while Gemini initialises is processing, not idle', () => {
    const s = screen([...banner, 'ℹ Initializing... Prompts will be queued.', '', '  Queued (press ↑ to edit):', '    say ping', ...composer()]);
    expect(p.detect(s)).toBe('processing');
  });

  it('a turn that ended with an error line is error; a later answer clears it', () => {
    const failed = screen([...userBox('say ping'), '✕ [API Error: 500 Internal Server Error]', '', ...composer()]);
    expect(p.detect(failed)).toBe('error');
    expect(p.extractLastAnswer(failed)).toBeNull();
    const recovered = screen([...userBox('say ping'), '✕ [API Error: 500]', '', ...userBox('again'), '✦ OK now', '', ...composer()]);
    expect(p.detect(recovered)).toBe('completed');
  });

  it('yolo mode draws `*` as the prompt and a YOLO row: still idle / completed', () => {
    const yolo = (rows: string[]) =>
      screen([
        ...rows,
        right('? for shortcuts'),
        rule('─'),
        ' YOLO Ctrl+Y',
        rule('▄'),
        ' *   Type your message or @path/to/file',
        rule('▀'),
        ' workspace (/directory)',
        ' /x',
      ]);
    expect(p.detect(yolo(banner))).toBe('idle');
    expect(p.detect(yolo([...userBox('say ping'), '✦ PONG-1', '']))).toBe('completed');
  });

  it('inputPending: text left in the input box (an Enter lost or taken as a newline) is pending; placeholder is not', () => {
    expect(p.inputPending!(screen([...banner, ...composer()]))).toBe(false);
    expect(p.inputPending!(screen([...banner, ...composer(undefined, '*   Type your message or @path/to/file')]))).toBe(false);
    expect(p.inputPending!(screen([...banner, ...composer(undefined, '>')]))).toBe(false);
    // seen live: the task pasted, the Enter lost, the status idle for good
    const stuck = [
      ...banner,
      right('? for shortcuts'),
      rule('─'),
      ' YOLO Ctrl+Y',
      rule('▄'),
      ' * do the first task',
      '   [Assigned by the supervisor.]',
      '',
      rule('▀'),
      ' workspace (/directory)',
      ' /x',
    ];
    expect(p.inputPending!(screen(stuck))).toBe(true);
    expect(p.inputPending!(screen([...userBox('say ping'), '✦ PONG-1', '', ...composer()]))).toBe(false);
  });

  it('a screen with neither composer nor dialog says nothing', () => {
    expect(p.detect(screen(['Loading…', '']))).toBe('unknown');
  });
});

describe('gemini_cli: launch', () => {
  let tmp: string;
  let home: string;
  const ctx = (over: Partial<LaunchContext> = {}): LaunchContext => ({
    terminalId: 'term-g1',
    workingDirectory: path.join(tmp, 'work'),
    profileName: 'developer',
    systemPrompt: 'You are the "developer" profile.\nUse $HOME carefully.',
    mcp: {
      name: 'cao',
      command: '/usr/bin/node',
      args: ['/opt/cao/dist/cli/main.js'],
      env: { CAO_TERMINAL_ID: 'term-g1', CAO_HUB_TOKEN: 'tok-123' },
    },
    runtimeDir: path.join(tmp, 'run', 'term-g1'),
    env: { HOME: home, PATH: '/usr/bin:/bin' },
    toolTimeoutSec: 900,
    ...over,
  });

  beforeAll(() => {
    tmp = mkdtempSync(path.join(tmpdir(), 'cao-gemini-test-'));
    home = path.join(tmp, 'home');
    mkdirSync(path.join(home, '.gemini'), { recursive: true });
    mkdirSync(path.join(tmp, 'work'));
    // the user's own settings, with comments and a trailing comma (Gemini accepts JSONC)
    writeFileSync(
      path.join(home, '.gemini', 'settings.json'),
      '{\n  // mine\n  "security": { "auth": { "selectedType": "gemini-api-key" } },\n  "mcpServers": { "other": { "command": "x" } },\n}\n',
    );
    writeFileSync(path.join(home, '.gemini', 'GEMINI.md'), 'Global user notes.\n');
    writeFileSync(path.join(home, '.gemini', 'oauth_creds.json'), '{"token":"t"}');
  });
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  it('starts gemini in yolo mode with a per-terminal home, trusting the workspace for this session', () => {
    const spec = p.launch(ctx({ env: { HOME: home, PATH: '/usr/bin:/bin', CAO_GEMINI_BIN: '/opt/bin/gemini' } })) as LaunchSpec;
    expect(spec.command).toBe('/opt/bin/gemini');
    expect(spec.args).toEqual(['--approval-mode', 'yolo']);
    expect(spec.cwd).toBe(path.join(tmp, 'work'));
    expect(spec.env.GEMINI_CLI_HOME).toBe(path.join(tmp, 'run', 'term-g1', 'gemini-home'));
    expect(spec.env.GEMINI_CLI_TRUST_WORKSPACE).toBe('true');
    expect(spec.env.HOME).toBe(home);
    const withModel = p.launch(ctx({ model: 'gemini-2.5-pro' })) as { args: string[] };
    expect(withModel.args).toEqual(['--approval-mode', 'yolo', '--model', 'gemini-2.5-pro']);
  });

  it('merges our MCP server into the user settings: trusted, timeout in ms; the user keeps theirs', () => {
    p.launch(ctx());
    const file = path.join(tmp, 'run', 'term-g1', 'gemini-home', '.gemini', 'settings.json');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const s = JSON.parse(readFileSync(file, 'utf8'));
    expect(s.security.auth.selectedType).toBe('gemini-api-key');
    expect(s.mcpServers.other).toEqual({ command: 'x' });
    expect(s.mcpServers.cao).toEqual({
      command: '/usr/bin/node',
      args: ['/opt/cao/dist/cli/main.js'],
      env: { CAO_TERMINAL_ID: 'term-g1', CAO_HUB_TOKEN: 'tok-123' },
      timeout: 900_000,
      trust: true,
    });
    // the user's real settings file is untouched
    expect(readFileSync(path.join(home, '.gemini', 'settings.json'), 'utf8')).toContain('// mine');
  });

  it('appends the profile to the global context file (GEMINI.md), after the user own notes', () => {
    p.launch(ctx());
    const md = readFileSync(path.join(tmp, 'run', 'term-g1', 'gemini-home', '.gemini', 'GEMINI.md'), 'utf8');
    expect(md).toBe('Global user notes.\n\nYou are the "developer" profile.\nUse $HOME carefully.\n');
  });

  it('links every other entry of the real ~/.gemini (auth tokens keep working)', () => {
    p.launch(ctx());
    const link = path.join(tmp, 'run', 'term-g1', 'gemini-home', '.gemini', 'oauth_creds.json');
    expect(lstatSync(link).isSymbolicLink()).toBe(true);
    expect(readlinkSync(link)).toBe(path.join(home, '.gemini', 'oauth_creds.json'));
    expect(readFileSync(link, 'utf8')).toBe('{"token":"t"}');
  });

  it('honours a custom context file name and works without any ~/.gemini', () => {
    const bare = path.join(tmp, 'bare-home');
    mkdirSync(bare);
    const spec = p.launch(ctx({ env: { HOME: bare }, runtimeDir: path.join(tmp, 'run', 'bare') })) as LaunchSpec;
    const dir = path.join(spec.env.GEMINI_CLI_HOME, '.gemini');
    expect(JSON.parse(readFileSync(path.join(dir, 'settings.json'), 'utf8')).mcpServers.cao.trust).toBe(true);
    expect(readFileSync(path.join(dir, 'GEMINI.md'), 'utf8')).toContain('"developer" profile');

    const named = path.join(tmp, 'named-home');
    mkdirSync(path.join(named, '.gemini'), { recursive: true });
    writeFileSync(path.join(named, '.gemini', 'settings.json'), JSON.stringify({ context: { fileName: ['AGENTS.md', 'GEMINI.md'] } }));
    const spec2 = p.launch(ctx({ env: { HOME: named }, runtimeDir: path.join(tmp, 'run', 'named') })) as LaunchSpec;
    expect(readFileSync(path.join(spec2.env.GEMINI_CLI_HOME, '.gemini', 'AGENTS.md'), 'utf8')).toContain('"developer" profile');
  });

  it('refuses to overwrite settings it cannot read', () => {
    const broken = path.join(tmp, 'broken-home');
    mkdirSync(path.join(broken, '.gemini'), { recursive: true });
    writeFileSync(path.join(broken, '.gemini', 'settings.json'), '{ not json');
    expect(() => p.launch(ctx({ env: { HOME: broken }, runtimeDir: path.join(tmp, 'run', 'broken') }))).toThrow(/cannot read Gemini CLI settings/);
  });

  it('quits with /quit (Gemini ignores SIGHUP) and leaves room before Enter after a paste', () => {
    expect(p.exit.keys).toContain('/quit');
    expect(p.exit.keys[p.exit.keys.length - 1]).toBe('\r');
    expect(p.input.enterDelayMs).toBeGreaterThanOrEqual(300);
  });
});
