/**
 * The mock agent CLI, run for real: compiled with tsc, started in a node-pty at 120x40, its output rendered by
 * cao-mcp's Screen (which answers its terminal query), driven the way cao-mcp drives agents.
 */
import { execFile } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { ScreenSnapshot } from '../src/screen/snapshot.js';
import { waitFor } from './support/procs.js';
import { PtyRun, bottom, buildMockAgent, readJsonLines, scratchDir, sleep, writeTestMcpServer, type RunOptions } from './fixtures/mock/harness.js';

let agentJs = '';
let cleanupBuild = () => {};
let dir = '';
const runs: PtyRun[] = [];

beforeAll(async () => {
  ({ agentJs, cleanup: cleanupBuild } = await buildMockAgent());
  dir = scratchDir('mock-agent-test-');
}, 180_000);

afterEach(() => {
  for (const r of runs.splice(0)) r.kill();
});

afterAll(() => {
  cleanupBuild();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

// generous: under CI's load (2 cores, other suites beside) a node process can take seconds to draw its first screen
const STARTUP_MS = 30_000;

let n = 0;
function start(script: unknown, opts: RunOptions & { record?: boolean } = {}): { run: PtyRun; record: string } {
  const record = join(dir, `record-${++n}.jsonl`);
  const env: Record<string, string> = { CAO_MOCK_RECORD: record, ...opts.env };
  if (script !== undefined) env.CAO_MOCK_SCRIPT = JSON.stringify(script);
  const run = new PtyRun(agentJs, { ...opts, env });
  runs.push(run);
  return { run, record };
}

const isIdle = (s: ScreenSnapshot) => bottom(s, 1)[0] === '  ? for shortcuts';
const isBusy = (s: ScreenSnapshot) => bottom(s, 1)[0] === '  esc to interrupt';
const events = (file: string, name: string) => readJsonLines(file).filter((e) => e.event === name);

async function send(run: PtyRun, text: string): Promise<void> {
  run.paste(text);
  await sleep(30);
  run.write('\r');
}

describe('mock agent in a real pty', () => {
  it('starts on the normal screen with banner, input box, idle footer and bracketed paste on', async () => {
    const { run, record } = start(undefined, { args: [agentJs, '--model', 'mock-7', '--name', 'dev'] });
    const s = await run.waitFor(isIdle, STARTUP_MS, 'idle');
    expect(s.altScreen).toBe(false);
    expect(run.screen.bracketedPaste).toBe(true);
    expect(s.lines[0]).toBe(' ✻ Mock Agent v1 · dev');
    expect(s.lines[1]).toBe(`   model: mock-7 · ${process.cwd()}`);
    const b = bottom(s, 4);
    expect(b).toEqual(['─'.repeat(120), '❯', '─'.repeat(120), '  ? for shortcuts']);
    // the mock records `ready` once its idle screen is written, which can be a moment after we see it
    expect(
      await waitFor(
        () => events(record, 'ready'),
        (e) => e.length > 0,
        2000,
      ),
    ).toHaveLength(1);
    expect(events(record, 'terminal_reply')).toHaveLength(1); // Screen answered ESC[6n
  }, 60_000);

  it('shows the system prompt, and a paste only fills the box: the separate Enter submits', async () => {
    const prompt = join(dir, 'prompt.md');
    writeFileSync(prompt, 'You are the reviewer.\nCheck everything twice.');
    const { run, record } = start(
      { rules: [{ match: 'ping', answer: 'PONG for {{input}}' }] },
      {
        args: [agentJs, '--system-prompt-file', prompt],
      },
    );
    let s = await run.waitFor(isIdle, STARTUP_MS, 'idle');
    expect(s.lines.join('\n')).toContain('system prompt: You are the reviewer. Check everything twice.');
    run.paste('say ping\nand more');
    await run.waitForText('  and more');
    await sleep(300);
    s = await run.snapshot();
    expect(isIdle(s)).toBe(true); // pasted newline did not submit
    expect(bottom(s, 5)).toEqual(['─'.repeat(120), '❯ say ping', '  and more', '─'.repeat(120), '  ? for shortcuts']);
    expect(events(record, 'input')).toHaveLength(0);
    run.write('\r');
    s = await run.waitForText('✻ Worked for');
    const text = s.lines.join('\n');
    expect(text).toContain('❯ say ping\n  and more\n\n● PONG for say ping\n  and more\n\n✻ Worked for');
    expect(isIdle(await run.waitFor(isIdle))).toBe(true);
    expect(events(record, 'input').map((e) => e.text)).toEqual(['say ping\nand more']);
  }, 60_000);

  it('ignores an empty submit, handles typing and backspace, and input cut across chunks', async () => {
    const { run, record } = start({});
    await run.waitFor(isIdle, STARTUP_MS, 'idle');
    run.write('\r');
    run.write('abcd');
    run.write('\x7f');
    await run.waitForText('❯ abc');
    expect(events(record, 'input')).toHaveLength(0);
    run.write('\x7f\x7f\x7f');
    await run.waitFor((x) => bottom(x, 3)[0] === '❯');
    // paste markers and a multi-byte character split over several writes
    const o = Buffer.from('ö');
    const parts: Array<string | Buffer> = ['\x1b[20', '0~héllo w', o.subarray(0, 1), o.subarray(1), 'rld', '\x1b[2', '01', '~'];
    // @lydell/node-pty types write() as string-only; at run time it hands the data to a socket, Buffers included
    const writeRaw = run.proc.write.bind(run.proc) as (data: string | Buffer) => void;
    for (const part of parts) {
      writeRaw(part);
      await sleep(20);
    }
    await run.waitForText('❯ héllo wörld');
    run.write('\r');
    const s = await run.waitForText('● mock answer to: héllo wörld');
    expect(s.lines.join('\n')).not.toContain('[201~');
    expect(events(record, 'input').map((e) => e.text)).toEqual(['héllo wörld']);
  }, 60_000);

  it('keeps the footer busy while thinking, streaming and pausing; the spinner cycles', async () => {
    const answer = 'alpha beta gamma delta epsilon';
    const { run, record } = start({
      spinnerIntervalMs: 50,
      rules: [{ match: 'go', answer, delayMs: 400, stream: { chunks: 4, intervalMs: 80 }, pauses: [{ afterChunk: 2, ms: 1500 }] }],
    });
    await run.waitFor(isIdle, STARTUP_MS, 'idle');
    const rawBefore = run.raw.length;
    await send(run, 'go');
    let s = await run.waitFor(isBusy, 5000, 'busy');
    expect(s.lines.join('\n')).toContain('\n❯ go\n');
    expect(s.lines.join('\n')).toMatch(/^[·✢✶✻✽*] Thinking… \(0s\)$/mu);
    // mid-pause: half the answer drawn, still busy, for well over a second
    // chunks of 8 characters: after the second one the line reads `● alpha beta gamma`, then a 1.5 s pause
    await run.waitFor((x) => x.lines.some((l) => l.trimEnd() === '● alpha beta gamma'), 5000, 'two chunks');
    for (let i = 0; i < 4; i++) {
      await sleep(250);
      s = await run.snapshot();
      expect(isBusy(s)).toBe(true);
      expect(s.lines.join('\n')).not.toContain('Worked for');
    }
    s = await run.waitFor(isIdle, 5000, 'idle after stream');
    expect(s.lines.join('\n')).toMatch(new RegExp(`● ${answer}\\n\\n✻ Worked for [23]s`));
    const glyphs = new Set([...run.raw.slice(rawBefore).matchAll(/([·✢✶✻✽*]) Thinking…/gu)].map((m) => m[1]));
    expect(glyphs.size).toBeGreaterThanOrEqual(5);
    const final = events(record, 'final_frame');
    expect(final).toHaveLength(1);
    expect(final[0].answer).toBe(answer);
    const input = events(record, 'input')[0];
    expect(typeof final[0].t).toBe('number');
    expect((final[0].t as number) - (input.t as number)).toBeGreaterThan(1900);
    expect(final[0].pid).toBe(run.proc.pid);
  }, 60_000);

  it('blocks on a question until a digit is typed; the answer depends on the choice; text typed into it is ignored', async () => {
    const script = {
      rules: [
        {
          match: '/^write (\\S+)$/',
          delayMs: 100,
          question: { text: 'Allow write to out.txt?', options: ['Yes', 'No'], answers: { '1': 'wrote it ({{choiceText}})', '2': 'did not write' } },
        },
      ],
    };
    const { run, record } = start(script);
    await run.waitFor(isIdle, STARTUP_MS, 'idle');
    await send(run, 'write out.txt');
    let s = await run.waitForText('Enter to confirm · Esc to cancel');
    expect(bottom(s, 4)).toEqual([' Allow write to out.txt?', ' ❯ 1. Yes', '   2. No', ' Enter to confirm · Esc to cancel']);
    run.paste('some message for the agent');
    await sleep(800);
    s = await run.snapshot();
    expect(s.lines.join('\n')).toContain('Enter to confirm'); // still waiting
    expect(events(record, 'ignored_input').map((e) => e.text)).toEqual(['some message for the agent']);
    run.write('2');
    s = await run.waitFor(isIdle, 5000, 'idle after choice');
    const text = s.lines.join('\n');
    expect(text).toContain('  ⎿  Allow write to out.txt? · 2. No');
    expect(text).toContain('● did not write');
    expect(text).not.toContain('Enter to confirm');
    expect(events(record, 'choice')).toMatchObject([{ choice: 2, option: 'No' }]);

    // arrows move the highlight, Enter confirms
    await send(run, 'write x');
    await run.waitForText(/ ❯ 1\. Yes\n {3}2\. No\n\n Enter to confirm/u);
    run.write('\x1b[B');
    await run.waitForText(/ {3}1\. Yes\n ❯ 2\. No/u);
    run.write('\x1b[A');
    await run.waitForText(/ ❯ 1\. Yes\n {3}2\. No/u);
    run.write('\r');
    await run.waitForText('● wrote it (Yes)');
  }, 60_000);

  it('shows the startup trust dialog first; Yes proceeds, No exits with code 1', async () => {
    const script = { startup: { dialog: { text: 'Do you trust the files in this folder?', options: ['Yes, proceed', 'No, exit'] } } };
    const a = start(script);
    let s = await a.run.waitForText('Enter to confirm');
    expect(s.lines.join('\n')).not.toContain('Mock Agent v1');
    expect(bottom(s, 4)).toEqual([
      ' Do you trust the files in this folder?',
      ' ❯ 1. Yes, proceed',
      '   2. No, exit',
      ' Enter to confirm · Esc to cancel',
    ]);
    a.run.write('1');
    s = await a.run.waitFor(isIdle, 5000, 'idle');
    expect(s.lines.join('\n')).not.toContain('trust the files');

    const b = start(script);
    await b.run.waitForText('Enter to confirm');
    b.run.write('\x1b[B');
    await b.run.waitForText(' ❯ 2. No, exit');
    b.run.write('\r');
    expect(await b.run.exited).toBe(1);
  }, 60_000);

  it('crashes with the scripted exit code after drawing the partial text', async () => {
    const { run, record } = start({ rules: [{ match: 'boom', crash: { afterMs: 300, exitCode: 3, partial: 'half an answ' } }] });
    await run.waitFor(isIdle, STARTUP_MS, 'idle');
    await send(run, 'boom');
    await run.waitForText('● half an answ');
    expect(await run.exited).toBe(3);
    expect(events(record, 'crash')).toMatchObject([{ exitCode: 3 }]);
  }, 60_000);

  it('with requireTerminalReply draws nothing until the cursor report arrives', async () => {
    const script = { startup: { requireTerminalReply: true } };
    // a host that does not answer terminal queries: the agent waits
    const mute = start(script, { reply: false });
    // wait for the query itself (a loaded machine can take seconds to start node), then give it time to draw
    const queried = Date.now() + 10_000;
    while (!mute.run.raw.includes('\x1b[6n') && Date.now() < queried) await sleep(50);
    expect(mute.run.raw).toContain('\x1b[6n');
    await sleep(1200);
    expect((await mute.run.text()).trim()).toBe('');
    mute.run.write('\x1b[5;1R');
    await mute.run.waitFor(isIdle, 5000, 'idle after a late reply');
    // Screen answers by itself
    const answered = start(script);
    await answered.run.waitFor(isIdle, STARTUP_MS, 'idle');
    expect(events(answered.record, 'terminal_reply')).toHaveLength(1);
  }, 60_000);

  it('quits on /exit typed as plain characters then Enter', async () => {
    const { run, record } = start({});
    await run.waitFor(isIdle, STARTUP_MS, 'idle');
    run.write('/exit');
    await sleep(30);
    run.write('\r');
    expect(await run.exited).toBe(0);
    expect(events(record, 'exit')).toMatchObject([{ code: 0, reason: '/exit' }]);
    expect(run.raw).toContain('\x1b[?2004l');
  }, 60_000);

  it('Ctrl-C interrupts a turn; twice within a second while idle quits', async () => {
    const { run, record } = start({ rules: [{ match: 'slow', answer: 'never shown', delayMs: 5000 }] });
    await run.waitFor(isIdle, STARTUP_MS, 'idle');
    await send(run, 'slow');
    await run.waitFor(isBusy, 5000, 'busy');
    run.write('\x03');
    const s = await run.waitFor(isIdle, 5000, 'idle after interrupt');
    expect(s.lines.join('\n')).toContain('❯ slow\n  ⎿  Interrupted');
    expect(s.lines.join('\n')).not.toContain('never shown');
    expect(events(record, 'interrupted')).toHaveLength(1);
    run.write('\x03');
    await run.waitForText('Press Ctrl-C again to exit');
    await sleep(1300); // too late: the first press has expired
    await run.waitFor(isIdle, 2000, 'idle footer back');
    run.write('\x03');
    await sleep(100);
    run.write('\x03');
    expect(await run.exited).toBe(0);
  }, 60_000);

  it('Esc interrupts a streaming turn, keeping what was drawn', async () => {
    const { run } = start({ rules: [{ answer: 'one two three four five six', stream: { chunks: 3, intervalMs: 1500 } }] });
    await run.waitFor(isIdle, STARTUP_MS, 'idle');
    await send(run, 'anything');
    await run.waitForText('● one two');
    run.write('\x1b');
    const s = await run.waitFor(isIdle, 5000, 'idle after esc');
    expect(s.lines.join('\n')).toMatch(/● one two .*\n {2}⎿ {2}Interrupted/u);
  }, 60_000);

  it('calls MCP tools over stdio, keeps the server for the next call, shows errors, keeps its stderr off the screen', async () => {
    const calls = join(dir, 'calls.jsonl');
    const server = writeTestMcpServer(dir, calls);
    const mcp = JSON.stringify({ mcpServers: { cao: { command: process.execPath, args: [server], env: { CAO_TEST_MARK: 'from-config' } } } });
    const script = {
      rules: [
        {
          match: 'report',
          toolCalls: [{ tool: 'send_message', arguments: { message: 'done: {{input}}' } }],
          answer: 'sent, got: {{result}}',
        },
        { match: 'bad', toolCalls: [{ server: 'cao', tool: 'fail' }], answer: 'it said {{result}}' },
      ],
    };
    const { run, record } = start(script, { args: [agentJs, '--mcp-config', mcp] });
    await run.waitFor(isIdle, STARTUP_MS, 'idle');
    await send(run, 'report 1');
    let s = await run.waitForText('✻ Worked for');
    let text = s.lines.join('\n');
    expect(text).toContain('● cao - send_message (MCP)(message: "done: report 1")\n  ⎿  queued: done: report 1\n     … +1 lines');
    expect(text).toContain('● sent, got: queued: done: report 1\n  second line of result');
    expect(text).not.toContain('SERVER-STDERR-NOISE');
    await run.waitFor(isIdle);
    await send(run, 'bad');
    s = await run.waitForText('● it said receiver not found');
    text = s.lines.join('\n');
    expect(text).toContain('● cao - fail (MCP)\n  ⎿  Error: receiver not found');
    await send(run, 'report 2');
    await run.waitForText('● sent, got: queued: done: report 2');
    const log = readJsonLines(calls);
    expect(log.map((c) => c.tool)).toEqual(['send_message', 'fail', 'send_message']);
    expect(new Set(log.map((c) => c.pid)).size).toBe(1); // one server process for all calls
    expect(log[0].env).toBe('from-config');
    expect(events(record, 'tool_result').map((e) => e.isError)).toEqual([false, true, false]);
    const serverPid = log[0].pid as number;
    run.write('/exit');
    await sleep(30);
    run.write('\r');
    expect(await run.exited).toBe(0);
    await sleep(300);
    expect(() => process.kill(serverPid, 0)).toThrow(); // the server was closed with the agent
  }, 60_000);

  it('shows a tool error when no MCP server was configured', async () => {
    const { run } = start({ rules: [{ toolCalls: [{ tool: 'send_message', arguments: { message: 'x' } }], answer: 'ok' }] });
    await run.waitFor(isIdle, STARTUP_MS, 'idle');
    await send(run, 'hi');
    const s = await run.waitForText('● ok');
    expect(s.lines.join('\n')).toContain('  ⎿  Error: no MCP server named "cao" (give one with --mcp-config)');
  }, 60_000);

  it('repaints at the new width when resized', async () => {
    const { run } = start({});
    await run.waitFor(isIdle, STARTUP_MS, 'idle');
    await send(run, 'first');
    await run.waitFor((s) => isIdle(s) && s.lines.join('\n').includes('Worked for'));
    run.proc.resize(80, 30);
    run.screen.resize(80, 30);
    const s = await run.waitFor((x) => bottom(x, 2)[0] === '─'.repeat(80), 5000, 'rules at 80 columns');
    expect(isIdle(s)).toBe(true);
    expect(s.lines.filter((l) => l.startsWith('─')).every((l) => l === '─'.repeat(80))).toBe(true);
    expect(s.lines.join('\n')).toContain('❯ first\n\n● mock answer to: first');
  }, 60_000);

  it('queues input submitted while busy and answers it after the turn', async () => {
    const { run, record } = start({ rules: [{ match: 'one', answer: 'first done', delayMs: 600 }] });
    await run.waitFor(isIdle, STARTUP_MS, 'idle');
    await send(run, 'one');
    await run.waitFor(isBusy);
    await send(run, 'two');
    const s = await run.waitForText('● mock answer to: two');
    expect(s.lines.join('\n')).toMatch(/● first done[\s\S]*❯ two[\s\S]*● mock answer to: two/u);
    expect(events(record, 'final_frame').map((e) => e.answer)).toEqual(['first done', 'mock answer to: two']);
  }, 60_000);

  it('honours repeat and falls back to the default rule', async () => {
    const { run } = start({ rules: [{ match: 'x', answer: 'once', repeat: 1 }], default: { answer: 'fallback {{turn}}' } });
    await run.waitFor(isIdle, STARTUP_MS, 'idle');
    await send(run, 'x');
    await run.waitForText('● once');
    await run.waitFor(isIdle);
    await send(run, 'x');
    await run.waitForText('● fallback 2');
  }, 60_000);

  it('rejects a bad script with exit code 2 and names the bad field', async () => {
    const bad = { rules: [{ match: 'a', delayMs: 'slow' }, { answr: 'typo' }] };
    const file = join(dir, 'bad.json');
    writeFileSync(file, JSON.stringify(bad));
    const res = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
      const child = execFile(process.execPath, [agentJs, '--script', file], (err, _out, stderr) =>
        resolve({ code: err ? ((err as { code?: number }).code ?? null) : 0, stderr }),
      );
      child.stdin?.end();
    });
    expect(res.code).toBe(2);
    expect(res.stderr).toContain('rules.0.delayMs');
    expect(res.stderr).toContain('rules.1');
    expect(res.stderr).toContain('answr');
    expect(readFileSync(file, 'utf8')).toContain('slow');
  }, 60_000);
});
