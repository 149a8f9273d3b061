import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { ChildProcess } from 'node:child_process';
import xtermHeadless from '@xterm/headless';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HubClient } from '../src/cli/hub-client.js';
import { renderLine } from '../src/cli/attach-view.js';
import type { HubRecord } from '../src/hub/hub-record.js';
import type { AgentView } from '../src/dashboard/views.js';
import { CLI } from './support/cao-client.js';
import { connectHttp, startServe, stopProc, type HttpCaller, type HubInfo } from './support/http-client.js';
import { waitFor } from './support/procs.js';
import { inputsOf } from './support/record.js';
import { TtyRun } from './support/tty.js';

const { Terminal } = xtermHeadless as unknown as typeof import('@xterm/headless');
const execP = promisify(execFile);

const SCRIPT = {
  rules: [
    {
      match: 'ask first',
      delayMs: 100,
      question: { text: 'Allow write to out.txt?', options: ['Yes', 'No'], answers: { '1': 'wrote it', '2': 'did not write' } },
    },
    { match: 'slow please', delayMs: 200, stream: { chunks: 4, intervalMs: 250 }, answer: 'slow answer line one\nslow answer line two' },
  ],
  default: { answer: 'got it: {{input}}' },
};

let home = '';
let record = '';
let serve: { proc: ChildProcess; hub: HubInfo; stderr: () => string } | null = null;
let sup: HttpCaller | null = null;
let api: HubClient;
const env = () => ({ ...(process.env as Record<string, string>), CAO_HOME: home });

beforeAll(async () => {
  home = mkdtempSync(join(tmpdir(), 'cao-attach-'));
  record = join(home, 'mock-record.jsonl');
  serve = await startServe(home, { CAO_MOCK_SCRIPT: JSON.stringify(SCRIPT), CAO_MOCK_RECORD: record });
  sup = await connectHttp(serve.hub, 'supervisor');
  api = new HubClient(serve.hub as unknown as HubRecord);
});

afterAll(async () => {
  await sup?.close();
  if (serve) await stopProc(serve.proc);
  rmSync(home, { recursive: true, force: true });
});

async function assign(message: string, profile = 'developer'): Promise<string> {
  const r = await sup!.call('assign', { agent_profile: profile, provider: 'mock', message });
  expect(r.isError).toBeFalsy();
  return (r.structuredContent as { terminal_id: string }).terminal_id;
}

async function agent(id: string): Promise<AgentView> {
  return (await api.agent(id)).agent;
}

async function until(id: string, ok: (a: AgentView) => boolean, ms = 15_000): Promise<AgentView> {
  const a = await waitFor(() => agent(id), ok, ms, 50);
  if (!ok(a)) throw new Error(`agent ${id} never got there: ${JSON.stringify(a)}`);
  return a;
}

async function visibleScreen(id: string): Promise<string[]> {
  const r = await sup!.call('read_output', { terminal_id: id, mode: 'screen' });
  return (r.structuredContent as { output: string }).output.split('\n');
}

function attach(args: string[], cols: number, rows: number): TtyRun {
  return new TtyRun(process.execPath, [CLI, 'attach', ...args], { cols, rows, env: { CAO_HOME: home } });
}

const lastRow = (t: TtyRun) => t.rows()[t.term.rows - 1];

describe('cao-mcp attach', () => {
  it('shows the live screen read-only, with a status line naming the detach key; keys are not sent; Ctrl-] detaches', async () => {
    const id = await assign('stay quiet');
    await until(id, (a) => a.status === 'completed');
    const t = attach([id], 130, 44);
    try {
      await t.waitForScreen('● got it: stay quiet', 10_000);
      expect(t.raw).toMatch(new RegExp(`attaching to ${id} \\(developer, mock, completed\\)`));
      expect(lastRow(t)).toMatch(new RegExp(`${id} · developer · mock · completed`));
      expect(lastRow(t)).toMatch(/read-only │ Ctrl-\] detach/);
      // The view is the agent's screen, row for row.
      const agentRows = await visibleScreen(id);
      expect(t.rows().slice(0, agentRows.length)).toEqual(agentRows);

      // Live: a message typed into the agent by the inbox shows up, and so does the status.
      await sup!.call('send_message', { receiver_id: id, message: 'slow please' });
      await t.waitForScreen(/processing/, 10_000);
      await t.waitForScreen('slow answer line two', 15_000);
      await until(id, (a) => a.status === 'completed');
      await t.waitForScreen(/· completed\s/, 5000);
      expect(t.rows().slice(0, 40)).toEqual((await visibleScreen(id)).concat(Array(40).fill('')).slice(0, 40));

      // Read-only: typing only shows a notice; nothing reaches the agent.
      t.write('should not arrive\r');
      await t.waitForScreen(/read-only: keys are not sent \(attach with --write to type\)/, 3000);
      await new Promise((r) => setTimeout(r, 500));
      expect(inputsOf(record, id).some((x) => x.includes('should not arrive'))).toBe(false);

      // A smaller terminal crops the view; the agent keeps its size.
      t.resize(100, 25);
      await t.waitForScreen(/cropped: agent 120×40/, 5000);
      expect(lastRow(t)).toMatch(/Ctrl-\] detach$/);
      const a = await agent(id);
      expect([a.cols, a.rows]).toEqual([120, 40]);
      // The bottom of the agent's screen (its input box) stays in sight.
      expect(t.screen()).toMatch(/\? for shortcuts/);

      t.write('\x1d');
      const exit = await t.waitExit();
      expect(exit.exitCode).toBe(0);
      expect(t.raw).toMatch(new RegExp(`detached from ${id}`));
      // The alternate screen was left: the shell's screen is back.
      expect(t.raw.lastIndexOf('\x1b[?1049l')).toBeGreaterThan(t.raw.lastIndexOf('\x1b[?1049h'));
    } finally {
      t.dispose();
    }
  });

  it('--write: keys reach the agent, it takes this terminal’s size, and gets its own back on detach', async () => {
    const id = await assign('stay quiet');
    await until(id, (a) => a.status === 'completed');
    const t = attach([id, '--write'], 110, 32);
    try {
      await t.waitForScreen(/WRITE: keys go to the agent │ Ctrl-\] detach/, 10_000);
      await until(id, (a) => a.cols === 110 && a.rows === 31, 5000);
      t.write('typed by a person');
      await t.waitForScreen('❯ typed by a person', 5000);
      t.write('\r');
      await t.waitForScreen('● got it: typed by a person', 10_000);
      expect(inputsOf(record, id).filter((x) => x === 'typed by a person')).toHaveLength(1);

      t.resize(115, 33);
      await until(id, (a) => a.cols === 115 && a.rows === 32, 5000);

      t.write('\x1d');
      expect((await t.waitExit()).exitCode).toBe(0);
      const a = await until(id, (x) => x.cols === 120 && x.rows === 40, 5000);
      expect([a.cols, a.rows]).toEqual([120, 40]);
    } finally {
      t.dispose();
    }
  });

  it('ends with the reason when the agent exits while attached', async () => {
    const id = await assign('stay quiet');
    await until(id, (a) => a.status === 'completed');
    const t = attach([id], 130, 44);
    try {
      await t.waitForScreen('● got it: stay quiet', 10_000);
      await sup!.call('stop_agent', { terminal_id: id });
      const exit = await t.waitExit();
      expect(exit.exitCode).toBe(0);
      expect(t.raw).toMatch(new RegExp(`${id} ended: `));
    } finally {
      t.dispose();
    }
  });

  it('says clearly when there is no such agent, or it has ended', async () => {
    const t = attach(['abcdef12'], 100, 30);
    expect((await t.waitExit()).exitCode).toBe(1);
    expect(t.raw).toMatch(/no agent with id "abcdef12"/);
    t.dispose();
    const id = await assign('stay quiet');
    await sup!.call('stop_agent', { terminal_id: id });
    const t2 = attach([id], 100, 30);
    expect((await t2.waitExit()).exitCode).toBe(1);
    expect(t2.raw).toMatch(new RegExp(`agent ${id} has ended`));
    t2.dispose();
  });
});

describe('the attach view paints cells, not bytes', () => {
  it('keeps colours, attributes and wide characters; cuts a wide character at the edge', async () => {
    const src = new Terminal({ cols: 40, rows: 3, allowProposedApi: true });
    await new Promise<void>((r) => src.write('\x1b[1;31mred\x1b[0m \x1b[38;2;10;20;30;48;5;200mrgb\x1b[0m \x1b[4;7mul\x1b[0m 宽字 \x1b[92mhi', r));
    const line = src.buffer.active.getLine(0)!;
    const { text, width } = renderLine(line, 40, src.buffer.active.getNullCell());
    const dst = new Terminal({ cols: 40, rows: 3, allowProposedApi: true });
    await new Promise<void>((r) => dst.write(text, r));
    const a = src.buffer.active.getLine(0)!;
    const b = dst.buffer.active.getLine(0)!;
    expect(b.translateToString(true)).toBe(a.translateToString(true));
    expect(width).toBe(a.translateToString(true).length + 2); // two wide characters
    for (let x = 0; x < width; x++) {
      const ca = a.getCell(x)!;
      const cb = b.getCell(x)!;
      const attrs = (c: typeof ca) => [
        c.getChars(),
        c.getWidth(),
        c.isBold(),
        c.isUnderline(),
        c.isInverse(),
        c.getFgColorMode(),
        c.getFgColor(),
        c.getBgColorMode(),
        c.getBgColor(),
      ];
      expect(attrs(cb), `cell ${x}`).toEqual(attrs(ca));
    }
    // Cropped in the middle of 宽: a space instead of half a character.
    const cut = renderLine(line, 12, src.buffer.active.getNullCell());
    expect(cut.text.replace(/\x1b\[[0-9;]*m/g, '')).toBe('red rgb ul  ');
    expect(cut.width).toBe(12);
    src.dispose();
    dst.dispose();
  });
});

describe('cao-mcp ls and inbox', () => {
  it('ls: agents with profile, provider, status, creator, age and pending messages; a waiting agent is flagged with its question', async () => {
    const quiet = await assign('stay quiet', 'reviewer');
    const asking = await assign('ask first');
    await until(asking, (a) => a.status === 'waiting_user_answer');
    await until(quiet, (a) => a.status === 'completed');
    await sup!.call('send_message', { receiver_id: asking, message: 'waits behind the question' });
    const { stdout } = await execP(process.execPath, [CLI, 'ls'], { env: env() });
    expect(stdout).toMatch(/^ID\s+PROFILE\s+PROVIDER\s+STATUS\s+CREATOR\s+AGE\s+PENDING$/m);
    expect(stdout).toMatch(new RegExp(`^${quiet}\\s+reviewer\\s+mock\\s+completed\\s+supervisor\\s+\\d+s\\s+0$`, 'm'));
    expect(stdout).toMatch(new RegExp(`^${asking}\\s+developer\\s+mock\\s+⚠ WAITING FOR ANSWER\\s+supervisor\\s+\\d+s\\s+1$`, 'm'));
    expect(stdout).toMatch(
      new RegExp(`⚠ ${asking} \\(developer\\) is waiting for an answer:\\n\\s+Allow write to out\\.txt\\?\\n\\s+1\\. Yes\\n\\s+2\\. No`),
    );
    expect(stdout).not.toMatch(/\x1b\[/); // no colours when not on a terminal

    const j = JSON.parse((await execP(process.execPath, [CLI, 'ls', '--json'], { env: env() })).stdout) as { hubs: unknown[]; agents: AgentView[] };
    expect(j.hubs).toHaveLength(1);
    const w = j.agents.find((a) => a.id === asking)!;
    expect(w).toMatchObject({ profile: 'developer', provider: 'mock', status: 'waiting_user_answer', creator: 'supervisor', pending: 1, live: true });
    expect(w.question).toMatch(/Allow write to out\.txt\?/);
    await sup!.call('answer_question', { terminal_id: asking, answer: '1' });
    await until(asking, (a) => a.pending === 0 && a.status === 'completed');
    await sup!.call('stop_agent', { terminal_id: quiet });
    const ended = (await execP(process.execPath, [CLI, 'ls'], { env: env() })).stdout;
    expect(ended).not.toContain(quiet);
    expect((await execP(process.execPath, [CLI, 'ls', '--all'], { env: env() })).stdout).toMatch(
      new RegExp(`${quiet}\\s+reviewer\\s+mock\\s+exited`),
    );
  });

  it('inbox: messages with their states, filters, JSON', async () => {
    const id = await assign('ask first');
    await until(id, (a) => a.status === 'waiting_user_answer');
    await sup!.call('send_message', { receiver_id: id, message: 'queued while it asks' });
    const { stdout } = await execP(process.execPath, [CLI, 'inbox', '--to', id], { env: env() });
    expect(stdout).toMatch(/^ID\s+TIME\s+FROM\s+TO\s+STATE\s+MESSAGE$/m);
    expect(stdout).toMatch(
      new RegExp(`^\\d+\\s+\\d\\d:\\d\\d:\\d\\d\\s+supervisor\\s+${id}\\s+delivered\\s+ask first \\[Assigned by the supervisor`, 'm'),
    );
    expect(stdout).toMatch(new RegExp(`^\\d+\\s+\\d\\d:\\d\\d:\\d\\d\\s+supervisor\\s+${id}\\s+pending\\s+queued while it asks$`, 'm'));
    expect(stdout).toMatch(new RegExp(`pending: ${id} 1`));
    const pend = JSON.parse((await execP(process.execPath, [CLI, 'inbox', '--to', id, '--state', 'pending', '--json'], { env: env() })).stdout) as {
      messages: Array<{ body: string; state: string; sender: string }>;
    };
    expect(pend.messages).toEqual([expect.objectContaining({ body: 'queued while it asks', state: 'pending', sender: 'supervisor' })]);
    await sup!.call('answer_question', { terminal_id: id, answer: '2' });
    await until(id, (a) => a.pending === 0, 15_000);
    const after = (await execP(process.execPath, [CLI, 'inbox', '--to', id], { env: env() })).stdout;
    expect(after).toMatch(new RegExp(`supervisor\\s+${id}\\s+delivered\\s+queued while it asks`));
    const bad = await execP(process.execPath, [CLI, 'inbox', '--state', 'lost'], { env: env() }).catch((e: { code: number; stderr: string }) => e);
    expect((bad as { code: number }).code).toBe(1);
    expect((bad as { stderr: string }).stderr).toMatch(/--state must be one of pending, delivering, delivered, failed/);
  });

  it('inbox --follow prints new messages and their state changes as they happen', async () => {
    const id = await assign('stay quiet');
    await until(id, (a) => a.status === 'completed');
    const p = spawn(process.execPath, [CLI, 'inbox', '--follow', '--to', id, '--limit', '1'], { env: env(), stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    p.stdout.on('data', (d: Buffer) => (out += d.toString()));
    try {
      await waitFor(
        () => out,
        (o) => /delivered/.test(o),
        10_000,
      ); // the task, already delivered
      await new Promise((r) => setTimeout(r, 300)); // the event stream is open
      await sup!.call('send_message', { receiver_id: id, message: 'followed message' });
      const o = await waitFor(
        () => out,
        (x) => /pending → delivering|delivering → delivered/.test(x),
        10_000,
      );
      expect(o).toMatch(new RegExp(`#\\d+ \\d\\d:\\d\\d:\\d\\d  supervisor → ${id}  (pending|delivering|delivered)  followed message`));
      expect(
        await waitFor(
          () => out,
          (x) => /→ delivered/.test(x),
          10_000,
        ),
      ).toMatch(/delivering → delivered|pending → delivered/);
    } finally {
      p.kill('SIGINT');
    }
    expect(await new Promise((r) => p.on('exit', r))).toBe(0);
  });

  it('finds hubs through their records: stale ones ignored, several told apart, none explained', async () => {
    // A record left by a hub that died (its pid is gone) is ignored and removed.
    const stale = join(home, 'hubs', '999999.json');
    writeFileSync(
      stale,
      JSON.stringify({ hubId: '999999.dead', pid: 999999, url: 'http://127.0.0.1:9', token: 'x', mode: 'serve', startedAt: Date.now(), cwd: '/' }),
      { mode: 0o600 },
    );
    const one = await execP(process.execPath, [CLI, 'dashboard'], { env: env() });
    expect(one.stdout.trim()).toBe(`${serve!.hub.url}/?token=${serve!.hub.token}`);

    // A second hub under the same CAO_HOME: `dashboard` lists both, `attach` finds the one that owns the agent.
    const second = await startServe(home, { CAO_MOCK_SCRIPT: JSON.stringify(SCRIPT) });
    try {
      const two = (await execP(process.execPath, [CLI, 'dashboard'], { env: env() })).stdout.trim().split('\n');
      expect(two).toHaveLength(2);
      const sup2 = await connectHttp(second.hub, 'supervisor2');
      const r = await sup2.call('assign', { agent_profile: 'developer', provider: 'mock', message: 'stay quiet' });
      const id = (r.structuredContent as { terminal_id: string }).terminal_id;
      const t = attach([id], 130, 44);
      await t.waitForScreen('● got it: stay quiet', 15_000);
      expect(t.raw).toContain(`on ${second.hub.url}`);
      t.write('\x1d');
      await t.waitExit();
      t.dispose();
      const ls = (await execP(process.execPath, [CLI, 'ls'], { env: env() })).stdout;
      expect(ls).toMatch(/^ID\s+PROFILE\s+PROVIDER\s+STATUS\s+CREATOR\s+AGE\s+PENDING\s+HUB$/m);
      expect(ls).toMatch(new RegExp(`^${id}\\s+developer.*\\s${new URL(second.hub.url).port}$`, 'm'));
      const picked = (await execP(process.execPath, [CLI, 'dashboard', '--hub', second.hub.url], { env: env() })).stdout.trim();
      expect(picked).toBe(`${second.hub.url}/?token=${second.hub.token}`);
      await sup2.close();
    } finally {
      await stopProc(second.proc);
    }
    const emptyHome = mkdtempSync(join(tmpdir(), 'cao-nohub-'));
    const none = await execP(process.execPath, [CLI, 'ls'], { env: { ...env(), CAO_HOME: emptyHome } }).catch(
      (e: { code: number; stderr: string }) => e,
    );
    expect((none as { code: number }).code).toBe(1);
    expect((none as { stderr: string }).stderr).toMatch(/no running cao-mcp hub found/);
    rmSync(emptyHome, { recursive: true, force: true });
  });
});
