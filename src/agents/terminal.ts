import type { Bus, BusEvents } from '../bus/bus.js';
import { onTerminal, type TerminalEventType } from '../bus/by-terminal.js';
import type { LaunchSpec, Provider } from '../providers/types.js';
import { PtyProcess, sleep } from '../pty/pty-process.js';
import type { PtyFactory, PtyLike } from '../pty/pty-like.js';
import { TerminalLogWriter } from '../pty/log-writer.js';
import { ScreenFeed } from '../screen/screen-feed.js';
import { snapshotText, type ScreenSnapshot } from '../screen/snapshot.js';
import { StatusMonitor } from './monitor.js';
import type { AgentStatus } from '../status/types.js';
import { realClock, sleepOn, type Clock } from '../util/clock.js';
import { waitForReadyScreen } from './startup.js';
import type { TurnHost } from './turn.js';
import { CaoError } from '../util/errors.js';

export interface TerminalInit {
  id: string;
  bus: Bus;
  provider: Provider;
  profileName: string;
  creatorId: string | null;
  workingDirectory: string;
  launch: LaunchSpec;
  /** Size at which its raw log is rotated. */
  logMaxBytes?: number;
  /** Time for its status monitor's input guard and its startup (default: the real clock). */
  clock?: Clock;
  /** Makes its pty (default: a local `PtyProcess`; the pty host's `RemotePty` keeps it alive across hub restarts). */
  ptyFactory?: PtyFactory;
  /**
   * Why this hub may not type into its workers now, or null when it may (many hosts: its lease on the shared database
   * is not certainly held, so what it typed could not be recorded). Checked before every input a turn, an answer or a
   * person types.
   */
  typingGate?: () => string | null;
}

/** A question longer than this is cut where it is stored and listed (a screen's worth). */
const MAX_QUESTION_CHARS = 4000;
const localPty: PtyFactory = (opts, onData) => new PtyProcess(opts, onData);

/**
 * One worker CLI: its pty, its screen, its status monitor and its log — all joined by the bus.
 * Everything a terminal knows about its state comes from the rendered screen.
 */
export class Terminal implements TurnHost {
  readonly id: string;
  readonly provider: Provider;
  readonly profileName: string;
  /** Who it works for; null for a warm spare nobody has taken yet (flows/warm.ts). */
  creatorId: string | null;
  readonly workingDirectory: string;
  readonly createdAt = Date.now();
  /** When its start-up reached each step (ms since the epoch; 0 = not yet): what the start of a handoff cost, and where. */
  readonly timeline = { spawned: 0, firstOutput: 0, readyScreen: 0, started: 0 };
  readonly pty: PtyLike;
  readonly feed: ScreenFeed;
  readonly monitor: StatusMonitor;
  readonly log: TerminalLogWriter;
  exitInfo: { exitCode: number; signal?: number } | null = null;
  private readonly bus: Bus;
  /** The clock its monitor, its startup and the turns submitted to it run on. */
  readonly clock: Clock;

  private readonly typingGate: (() => string | null) | undefined;

  constructor(init: TerminalInit) {
    this.id = init.id;
    this.typingGate = init.typingGate;
    this.bus = init.bus;
    this.clock = init.clock ?? realClock;
    this.provider = init.provider;
    this.profileName = init.profileName;
    this.creatorId = init.creatorId;
    this.workingDirectory = init.workingDirectory;
    const { cols, rows } = init.provider;
    // Consumers subscribe before the process exists, so not one byte is missed.
    this.log = new TerminalLogWriter(this.bus, this.id, init.logMaxBytes);
    let pty: PtyLike | null = null;
    this.feed = new ScreenFeed(this.bus, this.id, { cols, rows, reply: (d) => pty?.write(d) });
    this.monitor = new StatusMonitor(this.bus, this.id, this.feed, this.provider, { clock: this.clock });
    this.timeline.spawned = Date.now();
    pty = (init.ptyFactory ?? localPty)({ ...init.launch, cols, rows }, (data) => {
      if (!this.timeline.firstOutput) this.timeline.firstOutput = Date.now();
      this.bus.emit('output', { terminalId: this.id, data });
    });
    this.pty = pty;
    void pty.exit.then((e) => {
      this.exitInfo = e;
      // Let the last output reach the screen before the status says exited.
      this.clock.setTimeout(() => this.monitor.markExited(e), 60);
    });
  }

  get status(): AgentStatus {
    return this.monitor.status;
  }

  /** The number of the last turn whose Enter was written (see Turn). */
  get submittedTurn(): number {
    return this.monitor.submittedTurn;
  }

  /** Subscribes to one of this terminal's bus events; returns the unsubscribe function. */
  on<K extends TerminalEventType>(type: K, fn: (e: BusEvents[K]) => void): () => void {
    return onTerminal(this.bus, type, this.id, fn);
  }

  onStatus(fn: (e: BusEvents['status']) => void): () => void {
    return this.on('status', fn);
  }

  /** A person typed here within `ms`: cao-mcp must not paste into their half-typed line. */
  userTypedWithin(ms: number): boolean {
    return this.lastUserInputAt > 0 && Date.now() - this.lastUserInputAt < ms;
  }

  get alive(): boolean {
    return this.pty.alive;
  }

  get pid(): number {
    return this.pty.pid;
  }

  /** When a person last typed into this terminal (0 = never). */
  lastUserInputAt = 0;

  /** Refuses (CaoError lease_lost) when this hub may not type now: see TerminalInit.typingGate. */
  assertMayType(): void {
    const why = this.typingGate?.();
    if (why) throw new CaoError('lease_lost', `terminal ${this.id}: nothing is typed while ${why}`);
  }

  /** `tag`: a label the pty host records with these bytes (how a restarted hub learns what a message's typing reached). */
  write(data: string, kind: 'paste' | 'keys' | 'user', tag?: string): void {
    // a turn's paste and a person's keys are gated here; a turn's Enter and an answer's keys by their callers (input.ts)
    if (kind !== 'keys') this.assertMayType();
    if (kind === 'user') this.lastUserInputAt = Date.now();
    this.pty.write(data, tag);
    this.bus.emit('input', { terminalId: this.id, bytes: Buffer.byteLength(data), kind });
  }

  /** Resizes pty and emulator together (they must always match, or redraws leave ghosts). */
  resize(cols: number, rows: number): void {
    this.pty.resize(cols, rows);
    this.feed.resize(cols, rows);
  }

  snapshot(): ScreenSnapshot {
    return this.feed.screen.snapshot();
  }

  screenText(onlyVisible = false): string {
    return snapshotText(this.snapshot(), onlyVisible);
  }

  lastAnswer(): string | null {
    return this.provider.extractLastAnswer(this.snapshot());
  }

  pendingQuestion(): string | null {
    return this.provider.pendingQuestion(this.monitor.detectSnapshot());
  }

  /** The question on its screen now, or null (none, or the provider could not read it: a listing never fails on it). */
  questionNow(): string | null {
    try {
      return this.pendingQuestion()?.slice(0, MAX_QUESTION_CHARS) ?? null;
    } catch {
      return null;
    }
  }

  /** Resolves with the first status (current or later) that `pred` accepts; rejects on timeout/abort. */
  waitForStatus(pred: (s: AgentStatus) => boolean, timeoutMs: number, signal?: AbortSignal): Promise<AgentStatus> {
    if (pred(this.status)) return Promise.resolve(this.status);
    return new Promise((resolve, reject) => {
      const onStatus = (e: BusEvents['status']) => {
        if (e.terminalId === this.id && pred(e.status)) done(() => resolve(e.status));
      };
      const timer = this.clock.setTimeout(() => done(() => reject(new CaoError('timeout', `timed out after ${timeoutMs} ms`))), timeoutMs);
      const onAbort = () => done(() => reject(new CaoError('aborted', 'aborted')));
      const done = (fn: () => void) => {
        this.clock.clearTimeout(timer);
        off();
        signal?.removeEventListener('abort', onAbort);
        fn();
      };
      const off = this.onStatus(onStatus);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /**
   * Gets the CLI to its first ready screen: dismisses known startup dialogs; fails fast, with the
   * screen in the error, on one it does not know, on an exit, or when the time is up.
   */
  async startup(timeoutMs = this.provider.startupTimeoutMs, beforeReady?: () => Promise<unknown>): Promise<void> {
    const handled = new Map<string, number>();
    const label = this.provider.label;
    const result = await waitForReadyScreen(this, {
      timeoutMs,
      clock: this.clock,
      onQuietScreen: async (snap) => {
        const dialog = this.provider.startupDialogs.find((d) => d.match(snap));
        if (!dialog) return false;
        const n = (handled.get(dialog.id) ?? 0) + 1;
        if (n > 3) throw new CaoError('startup_failed', `${label} startup dialog "${dialog.id}" did not go away`, this.screenText(true));
        handled.set(dialog.id, n);
        for (const k of dialog.keys) {
          this.write(k, 'keys');
          await sleepOn(this.clock, 120);
        }
        await sleepOn(this.clock, 200);
        return true;
      },
      onNotReady: (d) => {
        if (d === 'waiting_user_answer')
          throw new CaoError('startup_failed', `${label} is showing a startup dialog cao-mcp does not know`, this.screenText(true));
        if (d === 'error') throw new CaoError('startup_failed', `${label} reported an error during startup`, this.screenText(true));
      },
    });
    if (result === 'exited') {
      await sleepOn(this.clock, 80);
      throw new CaoError('startup_failed', `${label} exited during startup (code ${this.exitInfo?.exitCode})`, this.screenText(true));
    }
    if (result !== 'ready')
      throw new CaoError('startup_failed', `${label} did not become ready within ${Math.round(timeoutMs / 1000)} s`, this.screenText(true));
    this.timeline.readyScreen = Date.now();
    if (beforeReady) await beforeReady();
    this.timeline.started = Date.now();
    this.monitor.markStarted();
  }

  /** Quits the CLI politely, then makes sure its whole process group is gone. */
  async stop(): Promise<void> {
    if (this.alive && this.provider.exit.keys.length) {
      // A short gap between keys (a TUI may read "/exit" and Enter as one paste otherwise), none after.
      for (const [i, k] of this.provider.exit.keys.entries()) {
        if (i > 0) await sleep(50);
        this.write(k, 'keys');
      }
      await Promise.race([this.pty.exit, sleep(this.provider.exit.graceMs)]);
    }
    await this.pty.terminate(500);
  }

  /** Kills the process group at once (hub shutdown). */
  async kill(): Promise<void> {
    await this.pty.terminate(300);
  }

  dispose(): void {
    this.monitor.dispose();
    this.feed.dispose();
    void this.log.close();
  }
}
