/**
 * The mock provider's launch, detector, question and answer extraction, checked on real screens of the mock agent:
 * started from the provider's own LaunchSpec in a node-pty at the provider's size, rendered by Screen.
 */
import { existsSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { mockDetect, mockLastAnswer, mockPendingQuestion, mockProvider } from '../src/providers/mock.js';
import type { LaunchContext, LaunchSpec } from '../src/providers/types.js';
import { snapshotFromText, type ScreenSnapshot } from '../src/screen/snapshot.js';
import { distFile } from '../src/util/paths.js';
import { PtyRun, buildMockAgent, readJsonLines, repoRoot, scratchDir, sleep, wrappedFlags, writeTestMcpServer } from './fixtures/mock/harness.js';

const p = mockProvider;
let agentJs = '';
let cleanupBuild = () => {};
let dir = '';
let mcpServer = '';
const runs: PtyRun[] = [];

beforeAll(async () => {
  ({ agentJs, cleanup: cleanupBuild } = await buildMockAgent());
  dir = scratchDir('mock-provider-test-');
  mcpServer = writeTestMcpServer(dir, join(dir, 'calls.jsonl'));
}, 180_000);

afterEach(() => {
  for (const r of runs.splice(0)) r.kill();
});

afterAll(() => {
  cleanupBuild();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

let n = 0;
function context(script: unknown, extra: Partial<LaunchContext> = {}): LaunchContext {
  const id = `t${++n}`;
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined) env[k] = v;
  env.CAO_MOCK_SCRIPT = JSON.stringify(script);
  env.CAO_MOCK_RECORD = join(dir, `${id}.jsonl`);
  return {
    terminalId: id,
    workingDirectory: repoRoot,
    profileName: 'developer',
    systemPrompt: 'You are a careful developer.\nWrite tests first.',
    mcp: { name: 'cao', command: process.execPath, args: [mcpServer], env: { CAO_TEST_MARK: id } },
    runtimeDir: join(dir, 'run', id),
    env,
    toolTimeoutSec: 600,
    ...extra,
  };
}

/** Starts the agent exactly as the provider says, except that it runs the test build of dist/mock/agent.js. */
async function launch(script: unknown, extra: Partial<LaunchContext> = {}): Promise<{ run: PtyRun; spec: LaunchSpec; ctx: LaunchContext }> {
  const ctx = context(script, extra);
  const spec = await p.launch(ctx);
  expect(spec.args[0]).toBe(distFile('mock/agent.js'));
  const run = new PtyRun(agentJs, {
    command: spec.command,
    args: [agentJs, ...spec.args.slice(1)],
    env: spec.env,
    cwd: spec.cwd,
    cols: p.cols,
    rows: p.rows,
  });
  runs.push(run);
  return { run, spec, ctx };
}

/** What a detector sees: the snapshot plus the emulator's per-row wrapped flags. */
async function view(run: PtyRun): Promise<ScreenSnapshot> {
  const s = await run.settled();
  return { ...s, wrapped: wrappedFlags(run.screen, s) } as ScreenSnapshot;
}

async function until(run: PtyRun, status: string, timeoutMs = 10_000): Promise<ScreenSnapshot> {
  await run.waitFor((s) => p.detect(s) === status, timeoutMs, `status ${status}`);
  const s = await view(run);
  expect(p.detect(s)).toBe(status);
  return s;
}

/** Types a message the way cao-mcp does: bracketed paste, a pause, then the submit key. */
async function submit(run: PtyRun, text: string): Promise<void> {
  run.paste(text);
  await sleep(p.input.enterDelayMs);
  run.write(p.input.submitKey);
}

/** The same snapshot with every row right-trimmed and no wrapped flags (the plain-text view). */
function trimmed(s: ScreenSnapshot): ScreenSnapshot {
  return {
    lines: s.lines.map((l) => l.trimEnd()),
    viewportTop: s.viewportTop,
    cols: s.cols,
    rows: s.rows,
    cursorLine: s.cursorLine,
    altScreen: s.altScreen,
  };
}

describe('mock provider launch', () => {
  it('writes the MCP config and system prompt privately and runs node on dist/mock/agent.js', async () => {
    const ctx = context({}, { model: 'mock-large' });
    const spec = await p.launch(ctx);
    expect(spec.command).toBe(process.execPath);
    expect(spec.cwd).toBe(ctx.workingDirectory);
    expect(spec.env.CAO_MOCK_SCRIPT).toBe(ctx.env.CAO_MOCK_SCRIPT);
    const flag = (f: string) => spec.args[spec.args.indexOf(f) + 1];
    expect(flag('--name')).toBe('developer');
    expect(flag('--model')).toBe('mock-large');
    expect(flag('--tool-timeout-sec')).toBe('600');
    const mcpFile = flag('--mcp-config');
    const promptFile = flag('--system-prompt-file');
    for (const f of [mcpFile, promptFile]) {
      expect(resolve(f).startsWith(resolve(ctx.runtimeDir))).toBe(true);
      expect(statSync(f).mode & 0o777).toBe(0o600);
    }
    expect(JSON.parse(readFileSync(mcpFile, 'utf8'))).toEqual({
      mcpServers: { cao: { command: process.execPath, args: [mcpServer], env: { CAO_TEST_MARK: ctx.terminalId } } },
    });
    expect(readFileSync(promptFile, 'utf8')).toBe(ctx.systemPrompt);
    expect(p.cols).toBe(120);
    expect(p.rows).toBe(40);
  });
});

describe('mock provider on live mock screens', () => {
  it('matches the startup trust dialog and gets past it with its keys; then idle with no answer', async () => {
    const { run } = await launch({ startup: { dialog: { text: 'Do you trust the files in this folder?', options: ['Yes, proceed', 'No, exit'] } } });
    let s = await until(run, 'waiting_user_answer');
    const dlg = p.startupDialogs.find((d) => d.match(s));
    expect(dlg?.id).toBe('mock-trust-folder');
    expect(p.pendingQuestion(s)).toBe('Do you trust the files in this folder?\n1. Yes, proceed\n2. No, exit');
    for (const k of dlg!.keys) run.write(k);
    s = await until(run, 'idle');
    expect(p.startupDialogs.some((d) => d.match(s))).toBe(false);
    expect(p.extractLastAnswer(s)).toBeNull();
    expect(p.pendingQuestion(s)).toBeNull();
    expect(s.lines.join('\n')).toContain('system prompt: You are a careful developer. Write tests first.');
  }, 30_000);

  it('idle → processing (thinking, streaming, mid-pause) → completed with exactly the answer', async () => {
    const answer = 'line one\nline two\n\nline four';
    const { run } = await launch({
      rules: [{ match: 'multi', answer, delayMs: 500, stream: { chunks: 3, intervalMs: 100 }, pauses: [{ afterChunk: 2, ms: 1500 }] }],
    });
    let s = await until(run, 'idle');
    expect(p.startupDialogs.some((d) => d.match(s))).toBe(false);
    await submit(run, 'multi please');
    s = await until(run, 'processing', 5000);
    expect(p.extractLastAnswer(s)).toBeNull(); // thinking: nothing answered yet
    await run.waitFor((x) => x.lines.some((l) => l.startsWith('  line two')), 5000, 'second chunk');
    for (let i = 0; i < 4; i++) {
      s = await view(run);
      expect(p.detect(s)).toBe('processing'); // silent pause: still busy
      await sleep(200);
    }
    s = await until(run, 'completed', 5000);
    expect(p.extractLastAnswer(s)).toBe(answer);
    expect(p.extractLastAnswer(trimmed(s))).toBe(answer);
  }, 30_000);

  it('waiting on a scripted question: pendingQuestion, answerKeys, and a choice-dependent answer', async () => {
    const { run } = await launch({
      rules: [
        {
          match: 'write',
          delayMs: 100,
          question: { text: 'Allow write to out.txt?', options: ['Yes', 'No'], answers: { '1': 'written', '2': 'skipped the write' } },
        },
      ],
    });
    await until(run, 'idle');
    await submit(run, 'write the file');
    const s = await until(run, 'waiting_user_answer');
    expect(p.pendingQuestion(s)).toBe('Allow write to out.txt?\n1. Yes\n2. No');
    expect(p.answerKeys!('no', s)).toEqual(['2']);
    expect(p.answerKeys!('Yes', s)).toEqual(['1']);
    expect(p.answerKeys!('2', s)).toEqual(['2']);
    expect(p.answerKeys!('something else', s)).toEqual(['something else', '\r']);
    expect(p.extractLastAnswer(s)).toBeNull();
    for (const k of p.answerKeys!('no', s)) run.write(k);
    const done = await until(run, 'completed');
    expect(p.extractLastAnswer(done)).toBe('skipped the write');
    expect(p.pendingQuestion(done)).toBeNull();
  }, 30_000);

  it('joins an answer the terminal wrapped back into its original lines', async () => {
    // an indent of 2 + 118 characters fill a 120-column row. `long` wraps twice: a space ends row 1, row 3 starts
    // with two spaces (only the emulator's wrapped flags can tell that from an indented new line)
    const long = `${'a'.repeat(117)} ${'b'.repeat(120)}  ${'c'.repeat(50)} end`;
    const answer = `short first line\n${long}\nlast line`;
    // `single` wraps with its space at the start of row 2
    const single = `${'x'.repeat(118)} ${'y'.repeat(200)}`;
    const { run } = await launch({
      rules: [
        { match: 'single', answer: single },
        { match: 'long', answer },
      ],
    });
    await until(run, 'idle');
    await submit(run, 'long answer please');
    let s = await until(run, 'completed');
    expect(s.lines.some((l) => l.startsWith(`  ${'c'.repeat(50)} end`))).toBe(true); // really wrapped there
    expect(p.extractLastAnswer(s)).toBe(answer);

    await submit(run, 'single long line');
    await run.waitFor((x) => (mockLastAnswer(x) ?? '').startsWith('xxx'), 5000, 'second answer');
    s = await until(run, 'completed');
    expect(s.lines.some((l) => l.startsWith(` ${'y'.repeat(10)}`))).toBe(true);
    expect(p.extractLastAnswer(s)).toBe(single);
    // without wrapped flags and with rows right-trimmed: rows that start neither indented nor with a marker continue
    expect(p.extractLastAnswer(trimmed(s))).toBe(single);
  }, 30_000);

  it('extracts only the last turn, and only its answer text around MCP tool calls', async () => {
    const { run, ctx } = await launch({
      rules: [
        { match: 'first', answer: 'FIRST-ANSWER' },
        {
          match: 'report',
          toolCalls: [{ tool: 'send_message', arguments: { message: 'result: {{input}}' } }],
          answer: 'Reported.\nTool said: {{result}}',
        },
      ],
    });
    await until(run, 'idle');
    await submit(run, 'first');
    let s = await until(run, 'completed');
    expect(p.extractLastAnswer(s)).toBe('FIRST-ANSWER');
    await submit(run, 'report back');
    await run.waitFor((x) => x.lines.join('\n').includes('Tool said'), 10_000, 'tool turn');
    s = await until(run, 'completed');
    expect(s.lines.join('\n')).toContain('● cao - send_message (MCP)(message: "result: report back")');
    expect(p.extractLastAnswer(s)).toBe('Reported.\nTool said: queued: result: report back\nsecond line of result');
    // the server came from the provider's MCP config file, with its env
    const calls = readJsonLines(join(dir, 'calls.jsonl')).filter((c) => c.env === ctx.terminalId);
    expect(calls).toHaveLength(1);
  }, 30_000);

  it('an interrupted turn without answer reads idle; exit keys quit the agent', async () => {
    const { run, ctx } = await launch({ rules: [{ match: 'slow', answer: 'late', delayMs: 10_000 }] });
    await until(run, 'idle');
    await submit(run, 'slow task');
    await until(run, 'processing');
    run.write('\x1b');
    const s = await until(run, 'idle');
    expect(p.extractLastAnswer(s)).toBeNull();
    for (const k of p.exit.keys) {
      run.write(k);
      await sleep(30);
    }
    const code = await Promise.race([run.exited, sleep(p.exit.graceMs).then(() => 'timeout')]);
    expect(code).toBe(0);
    expect(readJsonLines(ctx.env.CAO_MOCK_RECORD).map((e) => e.event)).toEqual(
      expect.arrayContaining(['start', 'terminal_reply', 'ready', 'input', 'interrupted', 'exit']),
    );
  }, 30_000);

  it('a crashed agent leaves its last screen, which does not read as completed', async () => {
    const { run } = await launch({ rules: [{ match: 'boom', crash: { afterMs: 100, exitCode: 5, partial: 'half' } }] });
    await until(run, 'idle');
    await submit(run, 'boom');
    expect(await run.exited).toBe(5);
    const s = await view(run);
    expect(p.detect(s)).toBe('processing');
  }, 30_000);
});

describe('mock provider on plain screens', () => {
  const fixtures = join(repoRoot, 'tests', 'fixtures', 'real');

  it('reads the real Claude Code screens it imitates the same way', () => {
    if (!existsSync(fixtures)) throw new Error(`captured screens missing: ${fixtures}`);
    for (const f of ['claude-answered.txt', 'claude-idle-after.txt']) {
      const s = snapshotFromText(readFileSync(join(fixtures, f), 'utf8'));
      expect(mockDetect(s)).toBe('completed');
      expect(mockLastAnswer(s)).toBe('PONG-123');
    }
  });

  it('reads the captured mock screens in tests/fixtures/mock', () => {
    const dirFx = join(repoRoot, 'tests', 'fixtures', 'mock');
    const read = (name: string) => snapshotFromText(readFileSync(join(dirFx, `${name}.txt`), 'utf8'), 120);
    const expected: Record<string, [string, string | null]> = {
      'mock-trust-dialog': ['waiting_user_answer', null],
      'mock-idle': ['idle', null],
      'mock-typed': ['idle', null],
      'mock-processing': ['processing', null],
      'mock-completed': ['completed', 'PONG-123'],
      'mock-question': ['waiting_user_answer', null],
      'mock-processing-paused': ['processing', 'first part of the'],
    };
    for (const [name, [status, answer]] of Object.entries(expected)) {
      const s = read(name);
      expect(mockDetect(s), name).toBe(status);
      expect(mockLastAnswer(s), name).toBe(answer);
    }
    expect(p.startupDialogs[0].match(read('mock-trust-dialog'))).toBe(true);
    expect(p.startupDialogs[0].match(read('mock-question'))).toBe(false);
    expect(mockPendingQuestion(read('mock-question'))).toBe('Allow write to out.txt?\n1. Yes\n2. No');
  });

  it('says unknown when nothing is recognisable, and ignores a stale dialog above an input box', () => {
    expect(mockDetect(snapshotFromText(''))).toBe('unknown');
    expect(mockDetect(snapshotFromText('user@host:~$ ls\nfile.txt\nuser@host:~$'))).toBe('unknown');
    const rule = '─'.repeat(60);
    const stale = [
      ' Allow write?',
      ' ❯ 1. Yes',
      '   2. No',
      ' Enter to confirm · Esc to cancel',
      '',
      '❯ go',
      '',
      '● done',
      '',
      '✻ Worked for 1s',
      '',
      rule,
      '❯',
      rule,
      '  ? for shortcuts',
    ];
    const s = snapshotFromText(stale.join('\n'), 60);
    expect(mockDetect(s)).toBe('completed');
    expect(mockPendingQuestion(s)).toBeNull();
    expect(mockLastAnswer(s)).toBe('done');
  });
});
