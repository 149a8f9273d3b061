/*
 * The turn logic on a fake clock: the input guard (alone, and inside the status monitor), the end of a Turn, and
 * the startup readiness rule. Nothing here waits on the real clock for the behaviour under test.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { QUESTION_GRACE_MS, InputGuard, Turn, type TurnEnd, type TurnHost } from '../src/agents/turn.js';
import { READY_QUIET_MS, READY_STABLE_MS, ReadyRule, quietInMs } from '../src/agents/startup.js';
import { createBus, type BusEvents } from '../src/bus/bus.js';
import { onTerminal } from '../src/bus/by-terminal.js';
import { mockProvider } from '../src/providers/mock.js';
import type { Provider } from '../src/providers/types.js';
import { ScreenFeed } from '../src/screen/screen-feed.js';
import { describeCause, type StatusCause } from '../src/status/cause.js';
import { StatusMonitor } from '../src/agents/monitor.js';
import type { AgentStatus, DetectedStatus } from '../src/status/types.js';
import { FakeClock, flush } from './support/fake-clock.js';

const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const f of cleanups.splice(0).reverse()) f();
});

const realSleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

// ---------------------------------------------------------------- fake clock

describe('FakeClock', () => {
  it('runs due timers in order of due time, each at its own time, and only when advanced', async () => {
    const clock = new FakeClock(0);
    const seen: string[] = [];
    clock.setTimeout(() => seen.push(`b@${clock.now()}`), 20);
    clock.setTimeout(() => seen.push(`a@${clock.now()}`), 10);
    const gone = clock.setTimeout(() => seen.push('cancelled'), 15);
    clock.clearTimeout(gone);
    clock.setTimeout(() => clock.setTimeout(() => seen.push(`chained@${clock.now()}`), 5), 12);
    await flush();
    expect(seen).toEqual([]);
    await clock.advance(19);
    expect(seen).toEqual(['a@10', 'chained@17']);
    await clock.advance(1);
    expect(seen).toEqual(['a@10', 'chained@17', 'b@20']);
    expect(clock.now()).toBe(20);
    expect(clock.pending).toBe(0);
  });
});

// ---------------------------------------------------------------- input guard (pure)

describe('InputGuard', () => {
  const at = 1000;
  it('busy seen: the next ready screen ends the turn at once, even one like the screen before', () => {
    const g = new InputGuard(1, 'before', at, 2000);
    g.noteBusy();
    expect(g.judgeReady('before', at + 1)).toEqual({ over: true });
    expect(g.judgeReady('after', at + 1)).toEqual({ over: true });
  });
  it('no busy frame: a changed screen is held until readyWithoutBusyMs have passed, then the turn is over', () => {
    const g = new InputGuard(1, 'before', at, 2000);
    expect(g.judgeReady('after', at + 300)).toEqual({ over: false, recheckInMs: 1700 });
    expect(g.judgeReady('after', at + 1990)).toEqual({ over: false, recheckInMs: 20 }); // never a busy loop
    expect(g.judgeReady('after', at + 2000)).toEqual({ over: true });
  });
  it('an unchanged screen is held, past readyWithoutBusyMs too (then only a change of it is worth a look)', () => {
    const g = new InputGuard(1, 'before', at, 2000);
    expect(g.judgeReady('before', at + 10)).toEqual({ over: false, recheckInMs: 1990 });
    expect(g.judgeReady('before', at + 2000)).toEqual({ over: false, recheckInMs: null });
    expect(g.judgeReady('before', at + 60_000)).toEqual({ over: false, recheckInMs: null });
    expect(g.judgeReady('after', at + 60_000)).toEqual({ over: true });
  });
});

// ---------------------------------------------------------------- input guard in the monitor

/** Mock-agent screens (src/mock/view.ts draws them this way): the live region is redrawn after `\r ESC[nA ESC[J`. */
const RULE = '─'.repeat(60);
const idleLive = (lines: string[]) => [...lines, '', RULE, '❯ ', RULE, '  ? for shortcuts'];
const busyLive = ['', '✶ Thinking… (0s)', '', RULE, '❯ ', RULE, '  esc to interrupt'];
function frame(staticLines: string[], live: string[], up: number): string {
  return `\r${up ? `\x1b[${up}A` : ''}\x1b[J${staticLines.map((l) => `${l}\r\n`).join('')}${live.join('\r\n')}`;
}

/**
 * A monitor on a fake clock over a real screen feed. The feed settles on real timers (40 ms of quiet): `settle()`
 * waits for that; the guard's time is only the fake clock's.
 */
function monitorRig(provider: Provider = mockProvider) {
  const clock = new FakeClock();
  const bus = createBus();
  const feed = new ScreenFeed(bus, 't1', { cols: 80, rows: 24, reply: () => undefined });
  const monitor = new StatusMonitor(bus, 't1', feed, provider, { readyWithoutBusyMs: 2000, clock });
  const statuses: BusEvents['status'][] = [];
  bus.on('status', (e) => statuses.push(e));
  cleanups.push(() => {
    monitor.dispose();
    feed.dispose();
  });
  const out = (data: string) => bus.emit('output', { terminalId: 't1', data });
  let settles = 0;
  onTerminal(bus, 'settled', 't1', () => settles++);
  /** Resolves after the next quiet `settled` the output so far produces. */
  const settle = async () => {
    const n = settles;
    for (let i = 0; i < 400 && settles === n; i++) await realSleep(5);
    await realSleep(60); // and nothing after it
  };
  return { clock, bus, feed, monitor, statuses, out, settle };
}

/** Draws a completed first turn and gets the monitor to `completed`. */
async function afterFirstTurn(provider?: Provider) {
  const r = monitorRig(provider);
  r.out(frame(['❯ first', '', '● first answer', '', '✻ Worked for 1s'], idleLive([]), 0));
  await r.settle();
  r.monitor.markStarted();
  expect(r.monitor.status).toBe('completed');
  return r;
}

describe('StatusMonitor input guard (fake clock)', () => {
  it('sees the busy frame inside a chunk that also holds the final frame, and calls the turn done at once', async () => {
    const r = await afterFirstTurn();
    const t0 = r.clock.now();
    r.monitor.noteSubmitting(1);
    // echo + busy frame, answer, final frame: one pty read
    r.out(frame(['❯ second'], busyLive, 4) + frame(['', '● second answer'], busyLive, 6) + frame(['', '✻ Worked for 1s'], idleLive([]), 6));
    await r.settle();
    expect(r.monitor.status).toBe('completed');
    expect(r.clock.now() - t0).toBe(0); // not the 2 s fallback: the fake clock never moved
    expect(r.statuses.map((s) => s.status)).toEqual(['completed', 'processing', 'completed']);
    expect(r.statuses.map((s) => s.cause)).toEqual([{ kind: 'started' }, { kind: 'input-submitted', turn: 1 }, { kind: 'detected' }]);
    expect(r.monitor.submittedTurn).toBe(1);
  });

  it('without a busy frame on screen still holds the status for the fallback (a fast redraw is not proof of work)', async () => {
    const r = await afterFirstTurn();
    const t0 = r.clock.now();
    r.monitor.noteSubmitting(1);
    // the screen moves on to a new answer, but no frame ever showed the agent at work
    r.out(frame(['❯ second', '', '● second answer', '', '✻ Worked for 1s'], idleLive([]), 4));
    await r.settle();
    await r.clock.advance(300);
    expect(r.monitor.status).toBe('processing');
    await r.clock.advance(1699);
    expect(r.monitor.status).toBe('processing');
    await r.clock.advance(1);
    expect(r.monitor.status).toBe('completed');
    expect(r.clock.now() - t0).toBeGreaterThanOrEqual(1900);
  });

  it('an unchanged screen is held past the fallback, until it changes', async () => {
    const r = await afterFirstTurn();
    r.monitor.noteSubmitting(1);
    await r.clock.advance(10_000); // the Enter never showed: nothing on screen moved
    expect(r.monitor.status).toBe('processing');
    expect(r.clock.pending).toBe(0); // and nothing polls it meanwhile
    r.out(frame(['❯ second', '', '● second answer', '', '✻ Worked for 1s'], idleLive([]), 4));
    await r.settle();
    expect(r.monitor.status).toBe('completed');
  });

  it('a busy agent is never called done while it works, frame by frame or not', async () => {
    const r = await afterFirstTurn();
    r.monitor.noteSubmitting(1);
    r.out(frame(['❯ second'], busyLive, 4));
    for (let i = 0; i < 8; i++) {
      await realSleep(60);
      await r.clock.advance(60);
      r.out(frame([], ['', `✶ Thinking… (${i}s)`, '', RULE, '❯ ', RULE, '  esc to interrupt'], 6));
    }
    await r.settle(); // quiet, still drawn busy
    await r.clock.advance(5000);
    expect(r.monitor.status).toBe('processing');
    expect(r.statuses.filter((s) => s.status === 'completed')).toHaveLength(1); // the first turn only
  });

  it('text left in the input box after the Enter holds the turn open past the fallback, until the box empties', async () => {
    // a provider that can see its input box (the last prompt row): text after its glyph is input not yet submitted
    const r = await afterFirstTurn({ ...mockProvider, inputPending: (s) => /^❯ \S/.test(s.lines.findLast((l) => l.startsWith('❯')) ?? '') });
    r.monitor.noteSubmitting(1);
    // the Enter became a newline: the box grows a row, the text stays in it
    r.out(frame([], ['', RULE, '❯ second', '', RULE, '  ? for shortcuts'], 4));
    await r.settle();
    await r.clock.advance(10_000);
    expect(r.monitor.status).toBe('processing');
    // the Enter sent again is taken: the box empties and the answer comes
    r.out(frame(['❯ second', '', '● second answer', '', '✻ Worked for 1s'], idleLive([]), 5));
    await r.settle();
    await r.clock.advance(2000);
    expect(r.monitor.status).toBe('completed');
  });

  it('a submit that did not take drops the guard: the ready screen is believed again', async () => {
    const r = await afterFirstTurn();
    r.monitor.noteSubmitting(1);
    expect(r.monitor.status).toBe('processing');
    r.monitor.cancelSubmitting();
    expect(r.monitor.status).toBe('completed');
  });
});

// ---------------------------------------------------------------- turn end

const DETECTED: StatusCause = { kind: 'detected' };

/** A terminal as a Turn sees it, driven by hand. */
function turnRig(initial: AgentStatus = 'idle') {
  const clock = new FakeClock();
  const bus = createBus();
  let status: AgentStatus = initial;
  let submitted = 0;
  const host: TurnHost = {
    id: 't1',
    get status() {
      return status;
    },
    get submittedTurn() {
      return submitted;
    },
    exitInfo: null,
    pendingQuestion: () => (status === 'waiting_user_answer' ? 'Proceed? (y/n)' : null),
    onStatus: (fn) => onTerminal(bus, 'status', 't1', fn),
  };
  const set = (s: AgentStatus, cause: StatusCause = DETECTED) => {
    if (s === status) return;
    const previous = status;
    status = s;
    bus.emit('status', { terminalId: 't1', status: s, previous, at: clock.now(), cause });
  };
  /** What the monitor does at the turn's Enter. */
  const enter = (turn: number) => {
    submitted = turn;
    set('processing', { kind: 'input-submitted', turn });
  };
  return { clock, bus, host, set, enter };
}

/** Follows a promise without awaiting it. */
function track<T>(p: Promise<T>) {
  const s: { value?: T; error?: unknown; done: boolean } = { done: false };
  p.then(
    (v) => Object.assign(s, { value: v, done: true }),
    (e: unknown) => Object.assign(s, { error: e, done: true }),
  );
  return s;
}

describe('Turn.end (fake clock)', () => {
  it('completed / idle: the first ready status after the Enter', async () => {
    for (const ready of ['completed', 'idle'] as const) {
      const r = turnRig();
      const turn = new Turn(r.host, 1, r.clock);
      r.enter(1);
      const end = track(turn.end(60_000));
      await r.clock.advance(1500);
      expect(end.done).toBe(false);
      expect(turn.ended).toBe(false);
      r.set(ready);
      await flush();
      expect(end.value).toEqual<TurnEnd>({ kind: ready });
      expect(turn.ended).toBe(true);
    }
  });

  it('a question nobody answers within the grace is handed to the caller, with its text', async () => {
    const r = turnRig();
    const turn = new Turn(r.host, 1, r.clock);
    r.enter(1);
    const end = track(turn.end(60_000));
    r.set('waiting_user_answer');
    await r.clock.advance(QUESTION_GRACE_MS - 1);
    expect(end.done).toBe(false);
    await r.clock.advance(1);
    expect(end.value).toEqual<TurnEnd>({ kind: 'question', question: 'Proceed? (y/n)' });
    expect(turn.ended).toBe(false); // the agent is not ready for the next input
  });

  it('a question answered by someone else within the grace: the wait goes on to the real end', async () => {
    const r = turnRig();
    const turn = new Turn(r.host, 1, r.clock);
    r.enter(1);
    const end = track(turn.end(60_000));
    r.set('waiting_user_answer');
    await r.clock.advance(1000);
    r.set('processing'); // answered at the dashboard
    await r.clock.advance(10_000);
    expect(end.done).toBe(false);
    r.set('completed');
    await flush();
    expect(end.value).toEqual<TurnEnd>({ kind: 'completed' });
  });

  it('a question close to the deadline: the grace is cut to what is left, and the end is a timeout', async () => {
    const r = turnRig();
    const turn = new Turn(r.host, 1, r.clock);
    r.enter(1);
    const end = track(turn.end(2000));
    await r.clock.advance(500);
    r.set('waiting_user_answer');
    await r.clock.advance(1499);
    expect(end.done).toBe(false);
    await r.clock.advance(1);
    expect(end.value).toEqual<TurnEnd>({ kind: 'timeout', status: 'waiting_user_answer' });
  });

  it('exited, with the exit of its cause; error', async () => {
    const r = turnRig();
    const turn = new Turn(r.host, 1, r.clock);
    r.enter(1);
    const end = track(turn.end(60_000));
    const cause: StatusCause = { kind: 'exited', exitCode: 3, signal: 9 };
    r.set('exited', cause);
    await flush();
    expect(end.value).toEqual<TurnEnd>({ kind: 'exited', exitCode: 3, signal: 9 });
    expect(describeCause(cause)).toBe('exited with code 3 (signal 9)');
    expect(describeCause({ kind: 'exited', exitCode: 0 })).toBe('exited with code 0');

    const e = turnRig();
    const t2 = new Turn(e.host, 1, e.clock);
    e.enter(1);
    e.set('error');
    expect(await t2.end(1000)).toEqual<TurnEnd>({ kind: 'error' });
  });

  it('timeout: still working when the time is up, with the status then', async () => {
    const r = turnRig();
    const turn = new Turn(r.host, 1, r.clock);
    r.enter(1);
    const end = track(turn.end(5000));
    await r.clock.advance(4999);
    expect(end.done).toBe(false);
    await r.clock.advance(1);
    expect(end.value).toEqual<TurnEnd>({ kind: 'timeout', status: 'processing' });
    expect(await turn.end(0)).toEqual<TurnEnd>({ kind: 'timeout', status: 'processing' });
  });

  it('an abort rejects the wait, during the question grace too', async () => {
    const r = turnRig();
    const turn = new Turn(r.host, 1, r.clock);
    r.enter(1);
    const ac = new AbortController();
    const end = track(turn.end(60_000, ac.signal));
    r.set('waiting_user_answer');
    await r.clock.advance(100);
    ac.abort();
    await flush();
    expect(end.error).toBeInstanceOf(Error);
    expect(r.clock.pending).toBe(0);
  });

  it('a fast turn that ended before the submit returned is not lost, whatever the status does next', async () => {
    const r = turnRig();
    const turn = new Turn(r.host, 1, r.clock);
    r.enter(1);
    r.set('completed'); // done while the submit was still being confirmed
    expect(turn.ended).toBe(true);
    r.set('processing'); // someone else's input, before anyone asked for the end
    expect(turn.status).toBe('completed');
    expect(await turn.end(1000)).toEqual<TurnEnd>({ kind: 'completed' });
  });

  it('a ready status before the Enter (an echo of the paste) does not end the turn', async () => {
    const r = turnRig();
    const turn = new Turn(r.host, 1, r.clock);
    r.set('processing');
    r.set('idle'); // the paste echo
    expect(turn.ended).toBe(false);
    r.enter(1);
    expect(turn.ended).toBe(false);
    r.set('completed');
    expect(turn.ended).toBe(true);
  });

  it('an Enter that published nothing (the status was already processing) still opens the turn', async () => {
    const r = turnRig('processing');
    const turn = new Turn(r.host, 1, r.clock);
    r.enter(1); // no status event: processing already
    r.set('completed');
    expect(turn.ended).toBe(true);
  });

  it('an earlier turn of the terminal does not end a later one', async () => {
    const r = turnRig();
    const first = new Turn(r.host, 1, r.clock);
    r.enter(1);
    const second = new Turn(r.host, 2, r.clock); // created before the first one's end was seen
    r.set('completed');
    expect(first.ended).toBe(true);
    expect(second.ended).toBe(false);
    r.enter(2);
    r.set('idle');
    expect(second.ended).toBe(true);
  });
});

// ---------------------------------------------------------------- startup readiness rule

describe('ReadyRule (fake clock)', () => {
  const detect = (d: DetectedStatus) => () => d;

  it('ready once the screen was quiet and ready for READY_STABLE_MS in a row', async () => {
    const clock = new FakeClock();
    const rule = new ReadyRule();
    const lastWrite = clock.now();
    expect(quietInMs(clock.now(), lastWrite, true)).toBeNull(); // unparsed output: wait for the parse
    expect(quietInMs(clock.now() + 10, lastWrite, false)).toBe(READY_QUIET_MS - 10);
    expect(rule.look(clock.now() + 10, quietInMs(clock.now() + 10, lastWrite, false), detect('idle'))).toEqual({
      ready: false,
      lookAgainInMs: READY_QUIET_MS - 10,
    });
    await clock.advance(READY_QUIET_MS);
    expect(rule.look(clock.now(), quietInMs(clock.now(), lastWrite, false), detect('idle'))).toEqual({
      ready: false,
      lookAgainInMs: READY_STABLE_MS,
    });
    await clock.advance(READY_STABLE_MS - 1);
    expect(rule.look(clock.now(), 0, detect('completed'))).toEqual({ ready: false, lookAgainInMs: 1 });
    await clock.advance(1);
    expect(rule.look(clock.now(), 0, detect('idle'))).toEqual({ ready: true });
  });

  it('output or a not-ready screen in between starts the wait over; a not-ready screen is looked at again only when it changes', async () => {
    const clock = new FakeClock();
    const rule = new ReadyRule();
    expect(rule.look(clock.now(), 0, detect('idle')).ready).toBe(false);
    await clock.advance(200);
    expect(rule.look(clock.now(), 50, detect('idle'))).toEqual({ ready: false, lookAgainInMs: 50 }); // output came
    await clock.advance(50);
    expect(rule.look(clock.now(), 0, detect('idle'))).toEqual({ ready: false, lookAgainInMs: READY_STABLE_MS });
    expect(rule.look(clock.now(), 0, detect('processing'))).toEqual({ ready: false, lookAgainInMs: null });
    expect(rule.look(clock.now(), 0, detect('idle'))).toEqual({ ready: false, lookAgainInMs: READY_STABLE_MS });
    rule.reset(); // a dialog was dismissed
    await clock.advance(100);
    expect(rule.look(clock.now(), 0, detect('idle'))).toEqual({ ready: false, lookAgainInMs: READY_STABLE_MS });
  });

  it('the detector is asked only about a quiet screen', () => {
    const rule = new ReadyRule();
    let asked = 0;
    rule.look(0, 30, () => (asked++, 'idle'));
    rule.look(0, null, () => (asked++, 'idle'));
    expect(asked).toBe(0);
    rule.look(0, 0, () => (asked++, 'idle'));
    expect(asked).toBe(1);
  });
});
