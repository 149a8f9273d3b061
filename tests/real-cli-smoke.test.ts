import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeModel, type FakeModel } from './support/fake-model/index.js';
import {
  RECORD_MCP_SERVER,
  REAL_CLIS,
  REAL_CLI_VERSIONS,
  assertLoopbackOnlyNetwork,
  binPath,
  seedRealCli,
  startRealTui,
  waitNoProcessesWithEnv,
  type LaunchSpec,
  type RealCli,
  type RunningTui,
  type SeedOptions,
} from './support/real-clis/index.js';

// Real Claude Code, Codex, Gemini CLI and OpenCode, in a real pty, rendered by our Screen, against the fake model.
// Run (root, loopback-only network namespace):
//   unshare -n sh -c 'ip link set lo up && exec npx vitest run tests/real-cli-smoke.test.ts'
// Install the pinned CLIs first: node scripts/install-real-clis.mjs

const repoRoot = path.resolve(import.meta.dirname, '..');
const fixturesDir = path.join(repoRoot, 'tests', 'fixtures', 'real');
const outDir = path.join(repoRoot, 'test-results', 'real-cli-smoke');
const BUSY = /esc to interrupt|esc interrupt|esc to cancel/;
/** How long the screen must be still before we call a fresh TUI idle. */
const QUIET_MS = 1000;

/** The last `n` non-blank visible rows. */
function bottom(tui: RunningTui, n: number): string {
  const snap = tui.screen.snapshot();
  return snap.lines
    .slice(snap.viewportTop)
    .filter((l) => l.trim())
    .slice(-n)
    .join('\n');
}
const visible = (tui: RunningTui) => {
  const snap = tui.screen.snapshot();
  return snap.lines.slice(snap.viewportTop).join('\n');
};

interface CliScreens {
  /** Ready for input (fresh, or again after a turn). */
  idle: (tui: RunningTui) => boolean;
  /** The answer line as this CLI renders it. */
  answerLine: (answer: string) => RegExp;
  /** Shown once a turn has finished. */
  finished: RegExp;
  /** Lines that must be in both the captured fixture and our live screen, per state. */
  markers: { idle: RegExp[]; answered: RegExp[] };
  /** The tool name this CLI offers the model for our MCP server `cao`'s tool `send_message`. */
  mcpToolName: string;
  startupMs: number;
}

const SCREENS: Record<RealCli, CliScreens> = {
  claude: {
    idle: (t) => /^❯\s*$/m.test(bottom(t, 6)) && /\? for shortcuts/.test(bottom(t, 3)) && !BUSY.test(bottom(t, 4)),
    answerLine: (a) => new RegExp(`^● ${a}$`, 'm'),
    finished: /^✻ \S+ for \d+s/m,
    markers: {
      idle: [/^ ?▐▛███▜▌ {3}Claude Code v2\.1\.197/m, /^❯\s*$/m, /\? for shortcuts/],
      answered: [/^❯ say ping/m, /^● PONG-\d+$/m, /^✻ \S+ for \d+s/m],
    },
    mcpToolName: 'mcp__cao__send_message',
    startupMs: 60_000,
  },
  codex: {
    idle: (t) => /› Ask Codex to do anything/.test(bottom(t, 6)) && !BUSY.test(visible(t)),
    answerLine: (a) => new RegExp(`^• ${a}$`, 'm'),
    finished: /Worked for .*\d+s/,
    markers: {
      idle: [/OpenAI Codex \(v0\.169\.0\)/, /› Ask Codex to do anything/, /\? for shortcuts/],
      answered: [/^› say ping/m, /^• PONG-\d+$/m, /Worked for/],
    },
    // code mode: the model reaches the deferred MCP tool through `exec` (looked up by suffix at run time)
    mcpToolName: 'mcp__*__send_message',
    startupMs: 60_000,
  },
  gemini: {
    // the banner too: Gemini CLI can draw its prompt more than a second before its banner
    idle: (t) => /Type your message or @path\/to\/file/.test(bottom(t, 8)) && /Gemini CLI v/.test(visible(t)) && !BUSY.test(visible(t)),
    answerLine: (a) => new RegExp(`^✦ ${a}$`, 'm'),
    finished: /Type your message or @path\/to\/file/,
    markers: { idle: [/Gemini CLI v0\.61\.0/, /Type your message or @path\/to\/file/], answered: [/^ > say ping/m, /^✦ PONG-\d+$/m] },
    mcpToolName: 'mcp_cao_send_message',
    startupMs: 60_000,
  },
  opencode: {
    idle: (t) => /Ask anything|Build · Fake Model/.test(visible(t)) && !BUSY.test(visible(t)),
    answerLine: (a) => new RegExp(`^ +${a}$`, 'm'),
    finished: /▣ {2}\S+ · Fake Model · [\d.]+m?s/,
    markers: { idle: [/Ask anything/, /Build · Fake Model/], answered: [/┃ {2}say ping/, /^ +PONG-\d+\b/m, /▣ {2}Build · Fake Model · [\d.]+s/] },
    mcpToolName: 'cao_send_message',
    startupMs: 120_000,
  },
};

const timings: Record<string, Record<string, number>> = {};
let tmpRoot: string;

/** Checked by every test, so each one fails (never skips) when its preconditions are missing. */
function preflight(cli: RealCli): void {
  // without the namespace these CLIs would reach vendor hosts
  assertLoopbackOnlyNetwork();
  if (!existsSync(fixturesDir)) throw new Error(`captured screens not found at ${fixturesDir}`);
  binPath(cli); // throws with the install command when missing
}

beforeAll(() => {
  tmpRoot = mkdtempSync(path.join(os.tmpdir(), 'cao-real-cli-'));
  mkdirSync(outDir, { recursive: true });
});

afterAll(() => {
  console.log(`real CLI timings (ms):\n${JSON.stringify(timings, null, 1)}`);
  if (tmpRoot) rmSync(tmpRoot, { recursive: true, force: true });
});

interface Session {
  fm: FakeModel;
  spec: LaunchSpec;
  tui: RunningTui;
  t0: number;
  save: (name: string) => string;
}

async function withSession(
  cli: RealCli,
  tag: string,
  seed: Partial<SeedOptions>,
  script: Parameters<typeof startFakeModel>[0],
  body: (s: Session) => Promise<void>,
): Promise<void> {
  preflight(cli);
  const fm = await startFakeModel(script);
  const cwd = path.join(tmpRoot, `${cli}-${tag}-work`);
  mkdirSync(cwd, { recursive: true });
  const spec = seedRealCli(cli, { modelUrl: fm.url, cwd, tmpRoot, ...seed });
  const t0 = Date.now();
  const tui = startRealTui(spec, 120, 40);
  const save = (name: string) => {
    const text = tui.screen.snapshot().lines.join('\n');
    writeFileSync(path.join(outDir, `${cli}-${tag}-${name}.txt`), text);
    return text;
  };
  try {
    await body({ fm, spec, tui, t0, save });
  } catch (err) {
    save('failure');
    writeFileSync(path.join(outDir, `${cli}-${tag}-requests.json`), JSON.stringify(fm.requests, null, 1));
    throw err;
  } finally {
    tui.kill();
    await Promise.race([tui.exited, new Promise((r) => setTimeout(r, 5000))]);
    const left = await waitNoProcessesWithEnv('HOME', spec.home, 5000);
    for (const pid of left) {
      try {
        process.kill(pid, 'SIGKILL'); // ours (its env carries our throwaway HOME); the assertion below still fails
      } catch {
        /* gone */
      }
    }
    await fm.close();
    expect(left, `${cli}: processes left after killing the process group`).toEqual([]);
  }
}

/**
 * Polls `pred` until true; rejects with the screen after `timeoutMs`. With `quietMs`, the screen must also have
 * been quiet that long (TUIs draw their input box before they finish starting: Gemini paints its banner later,
 * Claude swallows an Enter sent in its first second).
 */
async function until(tui: RunningTui, what: string, pred: () => boolean, timeoutMs: number, quietMs = 0): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(pred() && Date.now() - tui.screen.lastWrite >= quietMs && !tui.screen.busy)) {
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; screen:\n${visible(tui)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function fixture(cli: RealCli, state: string): string {
  const f = path.join(fixturesDir, `${cli}-${state}.txt`);
  if (!existsSync(f)) throw new Error(`missing captured screen ${f}`);
  return readFileSync(f, 'utf8');
}

/**
 * Sends a prompt; counts it accepted once the fake model sees a new request, or once the prompt, seen on screen,
 * has left it (OpenCode clears its input at Enter, then on a loaded machine can show a blank screen for more than
 * 12 s before its request). Returns the Enter presses used.
 */
async function prompt(s: Session, text: string): Promise<number> {
  const n = s.fm.requests.length;
  let seen = false;
  const accepted = () => {
    const shown = visible(s.tui).includes(text);
    seen ||= shown;
    return s.fm.requests.length > n || (seen && !shown);
  };
  return s.tui.submit(text, { enterDelayMs: 150, accepted, retries: 3, retryMs: 3000 });
}

for (const cli of REAL_CLIS) {
  const sc = SCREENS[cli];
  const version = REAL_CLI_VERSIONS[cli].version;

  describe(`${cli} ${version}`, () => {
    it(`${cli}: goes idle, takes a pasted prompt, shows the scripted PONG and goes idle again`, async () => {
      const pong = `PONG-${1000 + Math.floor(Math.random() * 9000)}`;
      const script = { turns: [{ match: 'ping', text: pong, delayMs: 2000, chunks: 3, chunkIntervalMs: 80 }] };
      await withSession(cli, 'smoke', {}, { script }, async (s) => {
        const t = (timings[cli] ??= {});
        await until(s.tui, 'the idle screen', () => sc.idle(s.tui), sc.startupMs, QUIET_MS);
        t.startToIdle = Date.now() - s.t0;
        const idle = s.save('idle');
        for (const m of sc.markers.idle) {
          expect(fixture(cli, 'idle'), `fixture ${cli}-idle has ${m}`).toMatch(m);
          expect(idle, `live idle screen has ${m}`).toMatch(m);
        }
        expect(s.tui.screen.bracketedPaste, `${cli} enables bracketed paste`).toBe(true);

        const sent = Date.now();
        t.enterPresses = await prompt(s, 'say ping');
        let sawBusy = false;
        await until(
          s.tui,
          `${pong} and the end of the turn`,
          () => {
            if (BUSY.test(visible(s.tui))) sawBusy = true;
            return sc.answerLine(pong).test(s.tui.text()) && sc.finished.test(s.tui.text()) && !BUSY.test(visible(s.tui));
          },
          60_000,
        );
        t.promptToAnswered = Date.now() - sent;
        expect(sawBusy, `${cli} showed a busy footer while the model was answering`).toBe(true);
        const answered = s.save('answered');
        for (const m of sc.markers.answered) {
          expect(fixture(cli, 'answered'), `fixture ${cli}-answered has ${m}`).toMatch(m);
          expect(answered, `live answered screen has ${m}`).toMatch(m);
        }
        await until(s.tui, 'idle again', () => sc.idle(s.tui), 15_000);
        s.save('idle-after');
        const turns = s.fm.log.filter((e) => e.kind !== 'side');
        t.promptToTurnRequest = (turns[0]?.at ?? NaN) - sent;
        expect(turns.map((e) => e.answer)).toEqual([{ text: pong }]);
        expect(turns[0].lastUserText).toContain('say ping');
      });
    }, 240_000);

    it(`${cli}: the model's tool call makes it call our stdio MCP server's send_message`, async () => {
      const message = `hello-from-${cli}-${Math.random().toString(36).slice(2, 8)}`;
      const done = `SENT-${1000 + Math.floor(Math.random() * 9000)}`;
      const record = path.join(tmpRoot, `${cli}-record.txt`);
      const mcpServers = { cao: { command: process.execPath, args: [RECORD_MCP_SERVER], env: { RECORD_FILE: record } } };
      const script = { turns: [{ match: 'delegate', toolCall: { name: 'send_message', arguments: { message } }, afterTool: done }] };
      await withSession(cli, 'mcp', { mcpServers }, { script }, async (s) => {
        const t = (timings[`${cli}-mcp`] ??= {});
        await until(s.tui, 'the idle screen', () => sc.idle(s.tui), sc.startupMs, QUIET_MS);
        t.startToIdle = Date.now() - s.t0;
        const sent = Date.now();
        await prompt(s, 'please delegate this');
        const call = await s.fm.waitFor((e) => 'toolCall' in e.answer, 60_000);
        expect(call.answer).toMatchObject({ toolCall: { name: sc.mcpToolName } });
        if (cli !== 'codex') expect(call.toolNames).toContain(sc.mcpToolName);
        const after = await s.fm.waitFor((e) => e.kind === 'after-tool', 60_000);
        t.promptToToolResult = Date.now() - sent;
        expect(after.toolResult?.text).toContain(`RECORDED: ${message}`);
        expect(readFileSync(record, 'utf8')).toBe(`${message}\n`);
        await until(s.tui, `${done} on screen`, () => s.tui.text().includes(done) && !BUSY.test(visible(s.tui)), 30_000);
        s.save('tool-called');
      });
    }, 240_000);
  });
}

// CLIs that ask before running an MCP tool unless it is pre-approved: the question is a dialog on screen,
// answered from the keyboard (Enter takes the highlighted "yes, once").
const ASKS: Partial<Record<RealCli, RegExp>> = {
  claude: /Do you want to proceed\?/,
  gemini: /Allow execution of MCP tool "send_message" from server "cao"\?/,
};
for (const [cli, question] of Object.entries(ASKS) as [RealCli, RegExp][]) {
  it(`${cli}: without pre-approval it asks before calling the MCP tool, and Enter allows it`, async () => {
    const sc = SCREENS[cli];
    const message = `asked-${cli}`;
    const record = path.join(tmpRoot, `${cli}-ask-record.txt`);
    const mcpServers = { cao: { command: process.execPath, args: [RECORD_MCP_SERVER], env: { RECORD_FILE: record } } };
    const script = { turns: [{ match: 'delegate', toolCall: { name: 'send_message', arguments: { message } }, afterTool: 'ASK-DONE' }] };
    await withSession(cli, 'ask', { mcpServers, approveMcpTools: false }, { script }, async (s) => {
      await until(s.tui, 'the idle screen', () => sc.idle(s.tui), sc.startupMs, QUIET_MS);
      await prompt(s, 'please delegate this');
      await until(s.tui, 'the permission question', () => question.test(visible(s.tui)), 60_000);
      s.save('question');
      expect(existsSync(record)).toBe(false);
      s.tui.write('\r');
      await s.fm.waitFor((e) => e.kind === 'after-tool', 30_000);
      expect(readFileSync(record, 'utf8')).toBe(`${message}\n`);
      await until(s.tui, 'ASK-DONE on screen', () => s.tui.text().includes('ASK-DONE') && !BUSY.test(visible(s.tui)), 30_000);
    });
  }, 240_000);
}
