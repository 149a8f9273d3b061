import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { HubClient } from '../src/cli/hub-client.js';
import { ReplyFilter } from '../src/cli/term-replies.js';
import type { HubRecord } from '../src/hub/hub-record.js';
import type { AgentView } from '../src/dashboard/views.js';
import { CLI } from './support/cao-client.js';
import { hubRecords } from './support/http-client.js';
import { pidsWithEnv, waitFor } from './support/procs.js';
import { inputsOf } from './support/record.js';
import { TtyRun } from './support/tty.js';

const run = promisify(execFile);

/** The supervisor and its workers share this script (same environment); rules are picked by the text typed. */
const SCRIPT = {
  startup: { dialog: { text: 'Do you trust the files in this folder?', options: ['Yes, proceed', 'No, exit'] } },
  rules: [
    {
      match: 'delegate',
      delayMs: 200,
      toolCalls: [{ server: 'cao', tool: 'assign', arguments: { agent_profile: 'developer', provider: 'mock', message: 'report back when done' } }],
      answer: 'Assigned it to a developer.',
    },
    {
      match: 'report back',
      delayMs: 300,
      toolCalls: [{ server: 'cao', tool: 'send_message', arguments: { message: 'worker finished the thing' } }],
      answer: 'sent',
    },
  ],
  default: { answer: 'got it: {{input}}' },
};

const cleanups: Array<() => void | Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function setup() {
  const home = mkdtempSync(join(tmpdir(), 'cao-launch-'));
  const work = mkdtempSync(join(tmpdir(), 'cao-launch-wd-'));
  const record = join(home, 'mock-record.jsonl');
  cleanups.push(() => {
    rmSync(home, { recursive: true, force: true });
    rmSync(work, { recursive: true, force: true });
  });
  const env = { CAO_HOME: home, CAO_MOCK_SCRIPT: JSON.stringify(SCRIPT), CAO_MOCK_RECORD: record };
  return { home, work, record, env };
}

function launch(env: Record<string, string>, cwd: string, cols = 100, rows = 30): TtyRun {
  const t = new TtyRun(process.execPath, [CLI, 'launch', 'code_supervisor', '--provider', 'mock'], { cols, rows, env, cwd });
  cleanups.push(() => t.dispose());
  return t;
}

async function hubOf(home: string): Promise<HubClient> {
  const recs = await waitFor(
    () => hubRecords(home),
    (r) => r.length > 0,
    10_000,
  );
  expect(recs).toHaveLength(1);
  return new HubClient(recs[0] as unknown as HubRecord);
}

async function agents(hub: HubClient): Promise<AgentView[]> {
  // (not the warm spare the assign leaves: tests/warm.test.ts is about those)
  return (await hub.agents()).agents.filter((a) => a.kind === 'worker' && !a.warm);
}

describe('cao-mcp launch: a supervisor in the user’s terminal', () => {
  it('shows progress and the dashboard link, lets the user answer the startup dialog, types, pastes, resizes, delegates, and exiting ends the hub and its workers', async () => {
    const { home, work, record, env } = setup();
    const t = launch(env, work);

    // Progress before the raw view, the dashboard link among it.
    await t.waitForScreen('Do you trust the files in this folder?', 20_000);
    expect(t.raw).toMatch(/cao-mcp: starting hub…/);
    expect(t.raw).toMatch(/cao-mcp dashboard: http:\/\/127\.0\.0\.1:\d+\/\?token=[A-Za-z0-9_-]{20,}/);
    expect(t.raw).toMatch(/starting Mock Agent \(profile code_supervisor\)/);
    const hub = await hubOf(home);
    expect((await hub.get<{ mode: string }>('/api/hub')).mode).toBe('launch');

    // The supervisor is a terminal of the hub, started by "user", at the user's terminal size; the
    // dialog is the user's to answer, so it is not ready yet.
    let [sup] = await agents(hub);
    expect(sup).toMatchObject({ profile: 'code_supervisor', provider: 'mock', creator: 'user', cols: 100, rows: 30 });
    expect(sup.status).toBe('starting');
    t.write('1');
    await t.waitForScreen('? for shortcuts');
    await waitFor(
      () => agents(hub),
      (xs) => xs[0]?.status === 'idle',
      10_000,
    );

    // Keys.
    t.write('hello there');
    await t.waitForScreen('❯ hello there');
    t.write('\r');
    await t.waitForScreen('● got it: hello there');

    // Paste, bracketed as a terminal sends it (the agent switched bracketed paste on).
    t.write('\x1b[200~first pasted line\nsecond pasted line\x1b[201~');
    await t.waitForScreen('second pasted line');
    t.write('\r');
    await t.waitForScreen(/● got it: first pasted line\s+second pasted line/);
    expect(inputsOf(record).filter((x) => x.includes('second pasted line'))).toEqual(['first pasted line\nsecond pasted line']);

    // Resize: the agent's pty and the hub's screen follow the user's terminal.
    t.resize(120, 36);
    await waitFor(
      () => agents(hub),
      (xs) => xs[0]?.cols === 120 && xs[0]?.rows === 36,
      5000,
    );
    sup = (await agents(hub))[0];
    expect([sup.cols, sup.rows]).toEqual([120, 36]);
    // The mock repaints at the new width: its input box rules are now 120 wide.
    await t.waitForScreen(new RegExp(`^─{120}$`, 'm'));

    // Its cao tools work: assign starts a worker, whose report is typed into the supervisor.
    t.write('delegate the work\r');
    await t.waitForScreen(/\[Message from terminal [0-9a-f]{8} \(developer\)\]/, 30_000);
    await t.waitForScreen('● got it: [Message from terminal', 10_000);
    const all = await agents(hub);
    expect(all).toHaveLength(2);
    const worker = all.find((a) => a.id !== sup.id)!;
    expect(worker).toMatchObject({ profile: 'developer', creator: sup.id });

    // `ls` from another terminal sees both, through the hub record.
    const ls = await run(process.execPath, [CLI, 'ls'], { env: { ...process.env, ...env } });
    expect(ls.stdout).toMatch(new RegExp(`${sup.id}\\s+code_supervisor\\s+mock\\s+\\w+\\s+user`));
    expect(ls.stdout).toMatch(new RegExp(`${worker.id}\\s+developer\\s+mock\\s+\\w+\\s+${sup.id}`));

    // Colours and every other escape sequence reach the terminal as the agent wrote them: the whole raw
    // log of the supervisor (kept by the hub) appears unchanged in what the user's terminal received
    // (the tty only turns "\n" into "\r\n" on the way out).
    const norm = (s: string) => s.replace(/\r*\n/g, '\n');
    const log = readFileSync(join(home, 'logs', `${sup.id}.log`), 'utf8');
    expect(log.length).toBeGreaterThan(500);
    expect(norm(t.raw)).toContain(norm(log));

    // Exiting the supervisor ends the hub and every worker's process group.
    const workerPids = pidsWithEnv('CAO_TERMINAL_ID', worker.id);
    expect(workerPids.length).toBeGreaterThan(0);
    t.write('/exit\r');
    const exit = await t.waitExit(20_000);
    expect(exit.exitCode).toBe(0);
    expect(t.raw).toMatch(/Mock Agent exited with code 0; stopping the hub and 1 worker…/);
    expect(t.raw).toMatch(/hub stopped\./);
    expect(
      await waitFor(
        () => pidsWithEnv('CAO_TERMINAL_ID', worker.id),
        (p) => p.length === 0,
        5000,
      ),
    ).toEqual([]);
    expect(pidsWithEnv('CAO_TERMINAL_ID', sup.id)).toEqual([]);
    expect(hubRecords(home)).toEqual([]);
    // The terminal is given back: bracketed paste off, cursor shown, after the agent's last frame.
    const tail = t.raw.slice(t.raw.lastIndexOf('/exit'));
    expect(tail).toContain('\x1b[?2004l');
    expect(tail).toContain('\x1b[?25h');
  });

  it('the terminal closing (SIGHUP) ends the supervisor, the hub and its workers', async () => {
    const { home, work, env } = setup();
    const t = launch(env, work);
    await t.waitForScreen('Do you trust the files in this folder?', 20_000);
    t.write('1');
    await t.waitForScreen('? for shortcuts');
    const hub = await hubOf(home);
    t.write('delegate the work\r');
    const xs = await waitFor(
      () => agents(hub),
      (a) => a.length === 2,
      20_000,
    );
    const ids = xs.map((a) => a.id);
    expect(ids.every((id) => pidsWithEnv('CAO_TERMINAL_ID', id).length > 0)).toBe(true);
    process.kill(t.pid, 'SIGHUP');
    const exit = await t.waitExit(20_000);
    expect(exit.exitCode).not.toBe(0);
    for (const id of ids)
      expect(
        await waitFor(
          () => pidsWithEnv('CAO_TERMINAL_ID', id),
          (p) => p.length === 0,
          5000,
        ),
      ).toEqual([]);
    expect(hubRecords(home)).toEqual([]);
  });

  it('an unknown profile fails with a clear message and leaves no hub behind', async () => {
    const { home, work, env } = setup();
    const t = new TtyRun(process.execPath, [CLI, 'launch', 'no_such_profile', '--provider', 'mock'], { env, cwd: work });
    cleanups.push(() => t.dispose());
    const exit = await t.waitExit(20_000);
    expect(exit.exitCode).toBe(1);
    expect(t.raw).toMatch(/no_such_profile/);
    expect(hubRecords(home)).toEqual([]);
  });

  it('refuses to run without a terminal', async () => {
    const { env, work } = setup();
    const p = spawn(process.execPath, [CLI, 'launch', 'code_supervisor', '--provider', 'mock'], {
      env: { ...process.env, ...env },
      cwd: work,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let err = '';
    p.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const code = await new Promise<number | null>((r) => p.on('exit', r));
    expect(code).toBe(1);
    expect(err).toMatch(/stdin and stdout must be a TTY/);
  });
});

describe('terminal replies in launch', () => {
  it('drops the real terminal’s answers to queries the hub’s emulator already answered, and nothing else', () => {
    let now = 1000;
    const f = new ReplyFilter(() => now);
    // No query seen: a key that looks like a cursor report (Ctrl-F3 = ESC[1;5R) goes through.
    expect(f.filterInput('\x1b[1;5R')).toBe('\x1b[1;5R');
    // The agent asks for the cursor position and device attributes (the query split across two chunks).
    f.noteOutput('hello\x1b[');
    f.noteOutput('6n\x1b[c');
    expect(f.filterInput('a\x1b[12;40Rb\x1b[?1;2c')).toBe('ab');
    // One answer per query: a second report is input again.
    expect(f.filterInput('\x1b[12;40R')).toBe('\x1b[12;40R');
    // Stale expectations expire.
    f.noteOutput('\x1b[6n');
    now += 10_000;
    expect(f.filterInput('\x1b[3;3R')).toBe('\x1b[3;3R');
    // Plain keys are never touched.
    f.noteOutput('\x1b[>c\x1b[5n\x1b[?2004$p');
    expect(f.filterInput('\x1b[A\x1b[>0;276;0c\x1b[0n\x1b[?2004;2$yx')).toBe('\x1b[Ax');
  });
});
