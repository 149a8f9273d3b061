import { describe, expect, it, beforeAll, afterAll } from 'vitest';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, chmodSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { codexProvider, codexStartupDialogs } from '../src/providers/codex.js';
import { snapshotFromText, type ScreenSnapshot } from '../src/screen/snapshot.js';
import { renderRaw } from '../src/screen/screen.js';
import type { LaunchContext } from '../src/providers/types.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const fixtures = path.join(repoRoot, 'tests', 'fixtures');
if (!existsSync(path.join(fixtures, 'real')) || !existsSync(path.join(fixtures, 'cao'))) {
  throw new Error(`captured screens missing under ${fixtures}: they are part of the repository (tests/fixtures/README.md)`);
}
const read = (rel: string) => readFileSync(path.join(fixtures, rel), 'utf8');
/** Captured rows are joined by LF only; a terminal needs CR LF to start each row at column 0. */
const crlf = (t: string) => t.replace(/\r?\n/g, '\r\n');

const p = codexProvider;
const screen = (rows: string[]) => snapshotFromText(rows.join('\n'));
const composer = (draft = 'Ask Codex to do anything') => [`› ${draft}`, '', '  GPT-6-Sol medium · /home/dev/prj', '  ← for agents · ? for shortcuts'];

describe('codex: cao captures (0.147 approval menus, 0.145 composer)', () => {
  const approvals: Record<string, { question: string; options: string[]; no: string }> = {
    'codex_approval_modal_raw.txt': {
      question: 'Would you like to run the following command?',
      options: ['1. Yes, proceed (y)', "2. Yes, and don't ask again for commands", '3. No, and tell Codex what to do differently (esc)'],
      no: '3',
    },
    'codex_approval_edits_raw.txt': {
      question: 'Would you like to make the following edits?',
      options: ['1. Yes, proceed (y)', "2. Yes, and don't ask again for these files (a)", '3. No, and tell Codex'],
      no: '3',
    },
    'codex_approval_long_preview_raw.txt': {
      question: 'Would you like to run the following command?',
      options: ['1. Yes, proceed (y)', '2. No, and tell Codex what to do differently (esc)'],
      no: '2',
    },
  };
  for (const [file, want] of Object.entries(approvals)) {
    it(`${file}: through the emulator → waiting_user_answer with question and options`, async () => {
      const s = await renderRaw(crlf(read(`cao/${file}`)), 220, 50);
      expect(p.detect(s)).toBe('waiting_user_answer');
      const q = p.pendingQuestion(s)!;
      expect(q.split('\n')[0].trim()).toBe(want.question);
      for (const o of want.options) expect(q).toContain(o);
      // the transcript above the dialog is not part of the question
      expect(q).not.toContain('Tip:');
      expect(q).not.toMatch(/^• /m);
      // digits select-and-accept in Codex menus: one key, no Enter
      expect(p.answerKeys!('1', s)).toEqual(['1']);
      expect(p.answerKeys!('yes', s)).toEqual(['1']);
      expect(p.answerKeys!('no', s)).toEqual([want.no]);
      expect(p.answerKeys!('please do it', s)).toEqual([]);
      expect(p.extractLastAnswer(s)).toBeNull();
    });
  }

  it('codex_v0145_idle_output.txt: placeholder composer → idle (text and emulator)', async () => {
    const text = read('cao/codex_v0145_idle_output.txt');
    expect(p.detect(snapshotFromText(text))).toBe('idle');
    expect(p.detect(await renderRaw(crlf(text), 220, 50))).toBe('idle');
    expect(p.extractLastAnswer(snapshotFromText(text))).toBeNull();
  });
});

describe('codex: synthetic screens for cases the captures lack', () => {
  const approval = [
    '  Would you like to run the following command?',
    '',
    '  $ rm -rf build',
    '',
    '› 1. Yes, proceed (y)',
    '  2. No, and tell Codex what to do differently (esc)',
    '',
    '  Press enter to confirm or esc to cancel',
  ];

  it('a stale (answered) approval above a later answer does not count → completed', () => {
    const s = screen([
      '› clean up',
      '',
      '• Ran rm -rf build',
      '  └ (no output)',
      '',
      ...approval,
      '',
      '› now say pong',
      '',
      '• PONG-9',
      '',
      '  Worked for 2s • 07:31',
      '',
      ...composer(),
    ]);
    expect(p.detect(s)).toBe('completed');
    expect(p.pendingQuestion(s)).toBeNull();
    expect(p.extractLastAnswer(s)).toBe('PONG-9');
  });

  it('a second turn returns only the second answer; tool cells are cut, paragraphs kept', () => {
    const s = screen([
      '› first question',
      '',
      '• FIRST-ANSWER',
      '',
      '  Worked for 1s • 07:30',
      '',
      '› second question',
      '  on two lines',
      '',
      "• I'll check the folder first.",
      '',
      '• Ran ls -la',
      '  └ total 0',
      '',
      '• Called cao.send_message({"message":"hi"})',
      '  └ queued',
      '',
      '• Second answer, line one.',
      '  Line two.',
      '',
      '  ```',
      '  def f():',
      '      return 1',
      '  ```',
      '',
      '  Worked for 9s • 07:31',
      '',
      ...composer(),
    ]);
    expect(p.detect(s)).toBe('completed');
    expect(p.extractLastAnswer(s)).toBe('Second answer, line one.\nLine two.\n\n```\ndef f():\n    return 1\n```');
  });

  it('the previous turn never leaks: plain second answer, and a just-sent message is not yet completed', () => {
    const two = screen(['› q1', '', '• A1', '', '  Worked for 1s • 07:30', '', '› q2', '', '• A2', '', '  Worked for 1s • 07:31', '', ...composer()]);
    expect(p.extractLastAnswer(two)).toBe('A2');
    // taken, nothing of its turn drawn yet (seen live for seconds while Codex boots its MCP servers): not ready
    const sent = screen(['› q1', '', '• A1', '', '  Worked for 1s • 07:30', '', '› q2', '', ...composer()]);
    expect(p.detect(sent)).toBe('processing');
    expect(p.extractLastAnswer(sent)).toBeNull();
  });

  it('a busy status row above the composer → processing even with a draft typed', () => {
    const s = screen(['› task', '', '• Ran make', '', '• Working (1m 05s • esc to interrupt)', '', ...composer('queued follow-up')]);
    expect(p.detect(s)).toBe('processing');
  });

  it('a stale status row in the transcript does not count', () => {
    const s = screen(['› task', '• Working (5s • esc to interrupt)', '', '• DONE', '', '  Worked for 6s • 07:31', '', '', '', '', '', ...composer()]);
    expect(p.detect(s)).toBe('completed');
  });

  it('a long token the emulator soft-wrapped comes back as one line', async () => {
    const url = `https://example.com/${'b'.repeat(120)}`;
    const rows = ['› link please', '', `• See ${url}`, '  and done.', '', '  Worked for 1s • 07:31', '', ...composer()];
    const s = await renderRaw(rows.join('\r\n'), 80, 30);
    expect(p.detect(s)).toBe('completed');
    expect(p.extractLastAnswer(s)).toBe(`See ${url}\nand done.`);
  });

  it('an error row instead of an answer → error', () => {
    const s = screen(['› say ping', '', '■ unexpected status 401 Unauthorized: invalid api key', '', ...composer()]);
    expect(p.detect(s)).toBe('error');
    expect(p.extractLastAnswer(s)).toBeNull();
  });

  it('a startup warning is not an error; a warning during a turn does not end it', () => {
    const start = screen([
      '  >_ OpenAI Codex (v0.169.0)',
      '',
      '⚠ Model metadata for `gpt-6-sol` not found. Defaulting to fallback metadata.',
      '',
      ...composer(),
    ]);
    expect(p.detect(start)).toBe('idle');
    const retry = screen([
      '› q',
      '',
      '⚠ stream error: connection reset; retrying 1/5 in 200ms…',
      '',
      '• A',
      '',
      '  Worked for 1s • 07:31',
      '',
      ...composer(),
    ]);
    expect(p.detect(retry)).toBe('completed');
    expect(p.extractLastAnswer(retry)).toBe('A');
  });

  it('while starting (loading banner, bare footer, or input queued "Waiting for startup") it is not ready', () => {
    // frames seen live on 0.169 under load, before the session was configured
    const loading = screen(['  >_ OpenAI Codex (v0.169.0)', '     loading', '', '› Ask Codex to do anything', '', '  ? for shortcuts']);
    expect(p.detect(loading)).toBe('unknown');
    const noModel = screen(['  >_ OpenAI Codex (v0.169.0)', '     /home/dev/prj', '', '› Ask Codex to do anything', '', '  ? for shortcuts']);
    expect(p.detect(noModel)).toBe('unknown');
    const queued = screen([
      '  >_ OpenAI Codex (v0.169.0)',
      '     /home/dev/prj',
      '  permissions: YOLO mode',
      '',
      '› please report back',
      '',
      '  GPT-6-Sol default Fast · /home/dev/prj',
      '  Waiting for startup  · esc cancel',
    ]);
    expect(p.detect(queued)).toBe('processing');
    const ready = screen([
      '  >_ OpenAI Codex (v0.169.0)',
      '     /home/dev/prj',
      '  permissions: YOLO mode',
      '',
      '› Ask Codex to do anything',
      '',
      '  GPT-6-Sol default Fast · /home/dev/prj',
      '  ← for agents · ? for shortcuts',
    ]);
    expect(p.detect(ready)).toBe('idle');
  });

  it('an answer still streaming in (0.169 hides the busy row meanwhile) is not done until `Worked for` follows it', () => {
    // seen live: `• PONG-cod` right above an idle-looking composer, 40 ms before the rest of the answer arrived
    const streaming = screen(['› please say ping', '', '• PONG-cod', '', ...composer()]);
    expect(p.detect(streaming)).toBe('processing');
    const afterTool = screen(['› report', '', '• Called cao.send_message({"message":"hi"})', '  └ {"success": true}', '', ...composer()]);
    expect(p.detect(afterTool)).toBe('processing');
    const done = screen(['› please say ping', '', '• PONG-codex-1', '', '  Worked for <1s • 08:35', '', ...composer()]);
    expect(p.detect(done)).toBe('completed');
    expect(p.extractLastAnswer(done)).toBe('PONG-codex-1');
  });

  it('mutating a capture changes the verdict', () => {
    const busy = read('real/codex-processing.txt');
    expect(p.detect(snapshotFromText(busy))).toBe('processing');
    // without its status row the screen is a message just taken (processing too), without the message as well: idle
    // the status row's seconds depend on when the capture was taken
    const status = /• Working \(\d+s • esc to interrupt\)/;
    expect(busy).toMatch(status);
    expect(p.detect(snapshotFromText(busy.replace(status, '• PONG-1\n\n  Worked for 1s • 07:31')))).toBe('completed');
    expect(p.detect(snapshotFromText(busy.replace(status, '').replace('› say ping', '')))).toBe('idle');
    const answered = read('real/codex-answered.txt');
    expect(p.detect(snapshotFromText(answered.replace('• PONG-123', '')))).toBe('idle');
  });
});

describe('codex: startup dialogs match only when active', () => {
  const only = (s: ScreenSnapshot) => codexStartupDialogs.filter((d) => d.match(s)).map((d) => d.id);
  const trust = [
    '> You are in /home/dev/prj',
    '',
    '  Do you trust the contents of this directory? Working with untrusted contents comes with higher risk of prompt injection.',
    '',
    '› 1. Yes, continue',
    '  2. No, quit',
    '',
    '  Press enter to continue',
  ];
  const update = [
    '  ✨ Update available! 0.168.0 -> 0.169.0',
    '',
    '  Release notes: https://github.com/openai/codex/releases/latest',
    '',
    '› 1. Update now (runs `npm install -g @openai/codex`)',
    '  2. Skip',
    '  3. Skip until next version',
    '',
    '  Press enter to continue',
  ];
  const migration = [
    '> Try gpt-new',
    '',
    '  We recommend switching from gpt-old to gpt-new.',
    '',
    "  Choose how you'd like Codex to proceed.",
    '',
    '› 1. Try new model',
    '  2. Use existing model',
    '',
    '  Use ↑/↓ to move, press enter to confirm',
  ];
  it('trust directory → Enter', () => {
    expect(only(screen(trust))).toEqual(['codex.trust-directory']);
    expect(p.detect(screen(trust))).toBe('waiting_user_answer');
  });
  it('update available → skip until next version', () => {
    expect(only(screen(update))).toEqual(['codex.update']);
    expect(codexStartupDialogs.find((d) => d.id === 'codex.update')!.keys[0]).toBe('3');
  });
  it('model migration → keep the configured model', () => {
    expect(only(screen(migration))).toEqual(['codex.model-migration']);
    expect(codexStartupDialogs.find((d) => d.id === 'codex.model-migration')!.keys).toEqual(['2']);
  });
  it('a dialog drawn at the top of a tall terminal (blank rows below it) is still found', async () => {
    const s = await renderRaw(trust.join('\r\n'), 200, 50);
    expect(s.lines.length).toBe(50);
    expect(p.detect(s)).toBe('waiting_user_answer');
    expect(only(s)).toEqual(['codex.trust-directory']);
  });
  it('answered dialogs left in the transcript do not match', () => {
    for (const d of [trust, update, migration]) expect(only(screen([...d, '', ...composer()]))).toEqual([]);
  });
});

describe('codex: launch', () => {
  let dir: string;
  let bin: string;
  let argsOut: string;
  const ctx = (over: Partial<LaunchContext> = {}): LaunchContext => ({
    terminalId: 't1',
    workingDirectory: dir,
    profileName: 'dev',
    systemPrompt: 'Be brief.\n"quoted" \\ back\nmodel = "evil"\n[mcp_servers.x]\ncommand = "rm"',
    mcp: {
      name: 'cao',
      command: '/usr/bin/node',
      args: ['/opt/cao/main.js', 'a"b'],
      env: { CAO_TERMINAL_ID: 't1', CAO_TOKEN: 'secret-token-value' },
    },
    runtimeDir: path.join(dir, 'run'),
    env: { PATH: `${path.join(dir, 'bin')}:/usr/bin:/bin`, HOME: dir, ARGS_OUT: argsOut },
    toolTimeoutSec: 600,
    ...over,
  });
  /** A stand-in `codex`: prints a help text (with or without --no-alt-screen) or records its argv. */
  const fakeCodex = (withNoAlt: boolean) => {
    const help = withNoAlt ? '      --no-alt-screen  Disable alternate screen mode' : '  -m, --model <MODEL>';
    writeFileSync(bin, `#!/bin/sh\nif [ "$1" = "--help" ]; then echo '${help}'; exit 0; fi\nprintf '%s\\0' "$@" > "$ARGS_OUT"\n`);
    chmodSync(bin, 0o755);
  };
  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'cao-codex-'));
    mkdirSync(path.join(dir, 'bin'));
    bin = path.join(dir, 'bin', 'codex');
    argsOut = path.join(dir, 'args.bin');
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  /** Parses a TOML basic-string literal: its escapes (\" \\ \n \r \t \uXXXX) are a subset of JSON's. */
  const tomlStr = (lit: string) => {
    expect(lit.startsWith('"') && lit.endsWith('"')).toBe(true);
    expect(lit).not.toMatch(/[\n\r]/);
    return JSON.parse(lit) as string;
  };
  const cValue = (args: string[], key: string) => {
    const hit = args.filter((a, i) => args[i - 1] === '-c' && a.startsWith(`${key}=`));
    expect(hit).toHaveLength(1);
    return hit[0].slice(key.length + 1);
  };

  it('passes every config value as a complete TOML literal (no injection), through a real spawn', async () => {
    fakeCodex(true);
    const spec = await p.launch(ctx({ model: 'gpt-6-sol' }));
    expect(spec.command).toBe(bin);
    const r = spawnSync(spec.command, spec.args, { env: spec.env, cwd: spec.cwd });
    expect(r.status).toBe(0);
    const args = readFileSync(argsOut, 'utf8').split('\0').slice(0, -1);
    expect(args).toEqual(spec.args);

    expect(args).toContain('--no-alt-screen');
    expect(args).toContain('--dangerously-bypass-approvals-and-sandbox');
    expect(tomlStr(cValue(args, 'mcp_servers.cao.command'))).toBe('/usr/bin/node');
    const argv = cValue(args, 'mcp_servers.cao.args');
    expect(JSON.parse(argv)).toEqual(['/opt/cao/main.js', 'a"b']);
    // the MCP server's variables are forwarded by name from Codex's environment: no value on the command line
    expect(JSON.parse(cValue(args, 'mcp_servers.cao.env_vars'))).toEqual(['CAO_TERMINAL_ID', 'CAO_TOKEN']);
    expect(args.filter((a) => a.startsWith('mcp_servers.cao.env='))).toHaveLength(0);
    expect(args.join('\0')).not.toContain('secret-token-value');
    expect(spec.env).toMatchObject({ CAO_TERMINAL_ID: 't1', CAO_TOKEN: 'secret-token-value' });
    expect(cValue(args, 'mcp_servers.cao.tool_timeout_sec')).toBe('600.0');
    expect(tomlStr(cValue(args, 'developer_instructions'))).toBe(ctx().systemPrompt);
    expect(tomlStr(cValue(args, 'model'))).toBe('gpt-6-sol');
    // nothing else may set these keys
    expect(args.filter((a) => /^model=/.test(a))).toHaveLength(1);
    expect(args.filter((a) => a.startsWith('mcp_servers.x'))).toHaveLength(0);
  });

  it('uses --no-alt-screen only when this version has it; CAO_CODEX_BIN overrides', async () => {
    fakeCodex(false);
    const other = path.join(dir, 'bin', 'codex-old');
    writeFileSync(other, "#!/bin/sh\necho '  -m, --model <MODEL>'\n");
    chmodSync(other, 0o755);
    const c = ctx();
    c.env.CAO_CODEX_BIN = other;
    const spec = await p.launch(c);
    expect(spec.command).toBe(other);
    expect(spec.args).not.toContain('--no-alt-screen');
  });

  it('a fractional timeout stays a float; an unusable server name is refused', async () => {
    fakeCodex(true);
    expect(cValue((await p.launch(ctx({ toolTimeoutSec: 90.5 }))).args, 'mcp_servers.cao.tool_timeout_sec')).toBe('90.5');
    await expect(Promise.resolve().then(() => p.launch(ctx({ mcp: { name: 'a.b', command: 'x', args: [], env: {} } })))).rejects.toThrow(
      /not usable/,
    );
  });

  it('has input, exit and size settings', () => {
    expect(p.input.enterDelayMs).toBeGreaterThanOrEqual(120);
    expect(p.exit.keys[0]).toBe('/quit');
    expect([p.cols, p.rows]).toEqual([200, 50]);
  });
});
