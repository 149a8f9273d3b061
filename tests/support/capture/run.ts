import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startFakeModel, type FakeModel } from '../fake-model/index.js';
import {
  REAL_CLI_VERSIONS,
  assertLoopbackOnlyNetwork,
  seedRealCli,
  startRealTui,
  waitNoProcessesWithEnv,
  type AnyCli,
  type RunningTui,
} from '../real-clis/index.js';
import { visibleRowsAnsi } from './ansi.js';
import {
  CAPTURE_CWD,
  CAPTURE_HOME,
  CAPTURE_TMP,
  leftovers,
  machineRewrites,
  makeCaptureCwd,
  normalise,
  normaliseStream,
  type Rewrite,
} from './normalise.js';
import { MARKERS, busyOf, PROMPT, QUESTION_PROMPT, ANSWER, type Scenario } from './scenarios.js';

export const CAPTURE_COLS = 200;
export const CAPTURE_ROWS = 50;

/** The terminal a CLI is captured in: 200x50, or the size its provider's tests read (Kilo: 200x60). */
export const captureSize = (cli: AnyCli) => MARKERS[cli].size ?? { cols: CAPTURE_COLS, rows: CAPTURE_ROWS };

export interface CapturedState {
  state: string;
  /** Milliseconds from the CLI's start to the moment the screen was taken. */
  atMs: number;
  text: string;
  ansi: string;
}

export interface ScenarioCapture {
  cli: AnyCli;
  scenario: Scenario;
  recordedAt: string;
  /** argv after the binary, normalised. */
  args: string[];
  states: CapturedState[];
  /** The pty's output from the start until the last screen was taken, normalised. */
  raw: string;
  /** What the fake model was asked, in order (side calls included). */
  requests: Array<{ kind: string; path: string; sideCall?: string }>;
  rewrites: Array<{ what: string; to: string }>;
}

export interface CaptureOptions {
  /** Progress lines (default: none). */
  log?: (line: string) => void;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const visible = (t: RunningTui) => t.screen.snapshot().lines.slice(-t.screen.rows).join('\n');

/**
 * Polls until `pred` holds on the visible rows and the screen has been still for `quietMs` (all writes parsed);
 * throws with the screen after `timeoutMs`.
 */
async function settle(t: RunningTui, what: string, pred: (screen: string) => boolean, timeoutMs: number, quietMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(pred(visible(t)) && Date.now() - t.screen.lastWrite >= quietMs && !t.screen.busy)) {
    if (Date.now() > end) throw new Error(`capture: timed out after ${timeoutMs} ms waiting for ${what}; screen:\n${visible(t)}`);
    await sleep(50);
  }
}

/**
 * Presses Enter until the CLI took the typed prompt: the fake model got a request since, the busy footer shows,
 * or the prompt left the screen (OpenCode clears its input, then can take many seconds on a loaded machine
 * before it draws the session and sends its request). Never presses again once one of these happened.
 */
async function send(t: RunningTui, fm: FakeModel, text: string, BUSY: RegExp): Promise<void> {
  for (let press = 0; press < 4; press++) {
    const n = fm.requests.length;
    t.write('\r');
    const until = Date.now() + 3000;
    while (Date.now() < until) {
      const v = visible(t);
      if (fm.requests.length > n || BUSY.test(v) || !v.includes(text)) return;
      await sleep(50);
    }
  }
  throw new Error(`capture: "${text}" was not taken after 4 Enter presses; screen:\n${visible(t)}`);
}

/**
 * Runs one scenario on the pinned real CLI (seeded throwaway HOME, fake model on loopback, 200x50 pty rendered
 * by the project's Screen) and returns its screens, normalised. Must run in a loopback-only network namespace.
 */
export async function captureScenario(cli: AnyCli, scenario: Scenario, opts: CaptureOptions = {}): Promise<ScenarioCapture> {
  assertLoopbackOnlyNetwork();
  const log = opts.log ?? (() => {});
  const m = MARKERS[cli];
  const BUSY = busyOf(cli);
  const { cols, rows } = captureSize(cli);
  const tmpRoot = mkdtempSync(path.join(os.tmpdir(), 'cao-capture-'));
  const cwd = makeCaptureCwd();
  const fm = await startFakeModel({ script: scenario.script });
  const seeded = seedRealCli(cli, { modelUrl: fm.url, cwd, tmpRoot });
  const spec = { ...seeded, args: [...(m.args ?? []), ...seeded.args] };
  const rewrites: Rewrite[] = machineRewrites({ cwd, home: spec.home, tmpRoot });
  const t0 = Date.now();
  const tui = startRealTui(spec, cols, rows);
  const states: CapturedState[] = [];
  let rawEnd = 0;
  const take = (state: string) => {
    const text = tui.screen.snapshot().lines.slice(-rows).join('\n') + '\n';
    // rewritten on the cells: a path drawn in several colours has escapes between its characters
    const ansi = visibleRowsAnsi(tui.screen.term, rewrites).join('\n') + '\n';
    states.push({ state, atMs: Date.now() - t0, text: normalise(text, rewrites), ansi });
    rawEnd = tui.raw().length;
    log(`  ${cli} ${scenario.id}: ${state} at ${Date.now() - t0} ms`);
  };
  let exited: string | undefined;
  void tui.exited.then((e) => (exited = `exit code ${e.exitCode}${e.signal ? `, signal ${e.signal}` : ''} after ${Date.now() - t0} ms`));
  const ready = (s: string) => m.ready.test(s) && !BUSY.test(s);
  try {
    log(`  ${cli} ${scenario.id}: starting ${REAL_CLI_VERSIONS[cli].pkg}@${REAL_CLI_VERSIONS[cli].version}`);
    // quiet for a second: TUIs draw their prompt before they have finished starting
    const start = m.startup;
    if (start) {
      await settle(tui, 'the start-up notice or the ready screen', (s) => start.marker.test(s) || ready(s), m.startupMs, 1000);
      if (!start.marker.test(visible(tui)))
        throw new Error(`capture: ${cli} showed no start-up notice (${start.state}) this time; screen:\n${visible(tui)}`);
      if (scenario.id === 'standard') take(start.state);
      tui.write(start.keys);
    }
    await settle(tui, 'the ready screen', ready, m.startupMs, 1000);
    if (scenario.id === 'standard') {
      take('idle');
      tui.write(PROMPT);
      await settle(tui, 'the typed prompt', (s) => s.includes(PROMPT), 10_000, 700);
      take('typed');
      await send(tui, fm, PROMPT, BUSY);
      // the answer is scripted to come 4 s after the request: the busy screen is seen at its steady state
      await settle(tui, 'the busy footer', (s) => BUSY.test(s) && (!m.busySettled || m.busySettled.test(s)), 60_000, 0);
      await sleep(1500);
      if (!BUSY.test(visible(tui)) || m.answer(ANSWER).test(visible(tui)))
        throw new Error(`capture: ${cli} was no longer busy 1.5 s into the turn; screen:\n${visible(tui)}`);
      take('processing');
      const answered = (s: string) => m.answer(ANSWER).test(s) && m.finished.test(s) && !BUSY.test(s);
      await settle(tui, 'the answered screen', answered, 60_000, 300);
      take('answered');
      await settle(tui, 'ready again after the turn', (s) => answered(s) && m.ready.test(s), 30_000, 2500);
      take('idle-after');
    } else {
      await sleep(500);
      tui.write(QUESTION_PROMPT);
      await settle(tui, 'the typed prompt', (s) => s.includes(QUESTION_PROMPT), 10_000, 500);
      await send(tui, fm, QUESTION_PROMPT, BUSY);
      const dialog = m.dialog;
      if (!dialog) throw new Error(`capture: ${cli} has no question dialog`);
      await settle(tui, 'the question dialog', (s) => dialog.test(s), 60_000, 1500);
      take('question');
    }
    const raw = normaliseStream(tui.raw().slice(0, rawEnd), rewrites);
    const all = [raw, ...states.flatMap((s) => [s.text, s.ansi])].join('\n');
    const left = leftovers(all, rewrites);
    if (left.length) throw new Error(`capture: machine paths left after normalising: ${left.join(', ')}`);
    return {
      cli,
      scenario,
      recordedAt: new Date().toISOString(),
      args: spec.args.map((a) => normalise(a, rewrites)),
      states,
      raw,
      requests: fm.log.map((e) => ({ kind: e.kind, path: e.path.replace(/\?.*$/, ''), ...(e.sideCall ? { sideCall: e.sideCall } : {}) })),
      rewrites: [
        { what: 'working directory', to: CAPTURE_CWD },
        { what: 'throwaway HOME', to: CAPTURE_HOME },
        { what: 'temp root', to: CAPTURE_TMP },
      ],
    };
  } catch (err) {
    const dump = path.join(os.tmpdir(), `cao-capture-${cli}-${scenario.id}-failure.txt`);
    const requests = fm.log.map((e) => `${e.api} ${e.kind} ${e.sideCall ?? e.turnIndex} ${JSON.stringify(e.lastUserText.slice(0, 80))}`);
    const tail = JSON.stringify(tui.raw().slice(-2000));
    writeFileSync(
      dump,
      `${String(err)}\n\n--- process ---\n${exited ?? 'running'}\n\n--- visible screen ---\n${visible(tui)}\n\n--- fake model log ---\n${requests.join('\n')}\n\n--- last pty output ---\n${tail}\n`,
    );
    log(`  ${cli} ${scenario.id}: FAILED (screen saved to ${dump})`);
    throw err;
  } finally {
    tui.kill();
    await Promise.race([tui.exited, sleep(5000)]);
    for (const pid of await waitNoProcessesWithEnv('HOME', spec.home, 5000)) {
      try {
        process.kill(pid, 'SIGKILL'); // a leftover of this CLI (its env carries our throwaway HOME)
      } catch {
        /* gone */
      }
    }
    await fm.close();
    rmSync(tmpRoot, { recursive: true, force: true });
    rmSync(path.dirname(cwd), { recursive: true, force: true });
  }
}
