import type { Bus, BusEvents } from '../bus/bus.js';
import { Terminal } from '../agents/terminal.js';
import { RemotePty } from '../ptyhost/remote-pty.js';
import { hubStillRunning, newWorkerId } from '../registry/ids.js';
import { depthOf, type Caller } from '../registry/ownership.js';
import type { AgentProfile } from '../profiles/profile.js';
import { getProvider } from '../providers/registry.js';
import { describeCause } from '../status/cause.js';
import type { AgentStatus } from '../status/types.js';
import { CaoError, messageOf } from '../util/errors.js';
import { groupAlive, killGroup } from '../util/process.js';
import type { CreatedWorktree } from '../worktrees/worktrees.js';
import { checkCaps, DEFAULT_LIMITS, type Limits } from './limits.js';
import { toolsListedBy } from './tools-listed.js';
import { WarmSpares, warmSettingsFromEnv, type WorkerSpec } from './warm.js';
import { prepareLaunch, removeRuntimeDir } from './worker-env.js';
import { RowWrites } from './row-writes.js';
import { directoryFrom, resolveRequest } from './worker-spec.js';
import type { WorkerRequest } from './types.js';
import { logger } from '../util/log.js';

/** How long a CLI that loads its MCP servers lazily is given to ask for our tools before it counts as started. */
const MCP_TOOLS_WAIT_MS = 20_000;

/** What the hub keeps with a worker in the pty host. */
export interface WorkerMeta {
  token: string;
}

import type { WorkerPoolOptions } from './pool-options.js';
export type { WorkerPoolOptions } from './pool-options.js';

/** A worker as `start` hands it out. */
export interface StartedWorker {
  terminal: Terminal;
  profile: AgentProfile;
  spec: WorkerSpec;
  /** A warm spare took the request: its start-up happened before. */
  warm: boolean;
  worktree: CreatedWorktree | null;
}

/**
 * The live workers of this hub: starts them (every check first: profile, provider, model, caps), keeps their
 * tokens, records every status change in the registry, and ends them. The one owner of a worker's lifetime.
 */
export class WorkerPool {
  readonly limits: Limits;
  private readonly terminals = new Map<string, Terminal>();
  private readonly tokens = new Map<string, string>();
  /** Workers being started (not yet in `terminals`), per creator: they count against the caps already. */
  private readonly starting = new Map<string, number>();
  /** Workers whose CLI has asked our MCP server for its tools. */
  private readonly toolsListed = new Set<string>();
  /** Each worker's start-up, once begun: asked again (a taken warm spare), the same one is waited for. */
  private readonly startups = new Map<string, Promise<void>>();
  private shuttingDown = false;
  /** Workers being stopped in the background (release), and those stops. */
  private readonly releasing = new Set<string>();
  private readonly stopping = new Set<Promise<void>>();
  /** Statuses and ends of workers being recorded, in order per worker (shutdown waits for them). */
  private readonly writes = new RowWrites();
  readonly warm: WarmSpares;

  constructor(private readonly opts: WorkerPoolOptions) {
    this.limits = opts.limits ?? DEFAULT_LIMITS;
    this.warm = new WarmSpares(
      {
        startSpare: async (spec) => this.spawn(null, spec, await this.uniqueId()),
        startup: (t) => this.startup(t),
        stop: (id, reason) => this.stop(id, reason),
        // a spare never takes the last places: a caller's worker must not wait for one to be stopped
        roomForSpare: () => !this.shuttingDown && this.terminals.size + this.startingTotal() + 2 <= this.limits.maxWorkers,
      },
      opts.warm ?? warmSettingsFromEnv(),
    );
    // Persist every status change, so `list_agents` and other processes see it.
    opts.bus.on('status', (e) => this.onStatus(e));
    opts.bus.on('mcp:tools-listed', (e) => this.toolsListed.add(e.terminalId));
  }

  get bus(): Bus {
    return this.opts.bus;
  }

  get closing(): boolean {
    return this.shuttingDown;
  }

  get(id: string): Terminal | undefined {
    return this.terminals.get(id);
  }

  has(id: string): boolean {
    return this.terminals.has(id);
  }

  /** See WorkerPoolOptions.previousHub. */
  isPreviousHub(hubId: string | null): boolean {
    if (hubId === this.opts.hubId) return false;
    return this.opts.previousHub ? this.opts.previousHub(hubId) : hubId === null || !hubStillRunning(hubId);
  }

  /** Why nothing may be typed now, or null (the hub's lease; see TerminalInit.typingGate). */
  readonly typingGate = (): string | null => this.opts.typingGate?.() ?? null;

  live(): Terminal[] {
    return [...this.terminals.values()];
  }

  /** Cleans up after a previous hub that died (kill -9): ends its workers, fails their mail, kills leftovers. */
  async recover(): Promise<{ endedTerminals: string[]; failedMessages: number }> {
    const r = await this.opts.registry.recoverAfterCrash(this.opts.hubId, (h) => !this.isPreviousHub(h));
    for (const pid of r.pids) if (pid > 1 && groupAlive(pid)) killGroup(pid, 'SIGKILL');
    return { endedTerminals: r.endedTerminals, failedMessages: r.failedMessages };
  }

  /**
   * Validates the request, then gives it a worker: a warm spare of the same spec when one is ready, else a new CLI
   * in a pty (not yet ready; in a new git worktree when asked), registered.
   */
  async start(caller: Caller, req: WorkerRequest, opts: { spare?: boolean } = {}): Promise<StartedWorker> {
    if (this.shuttingDown) throw new CaoError('shutting_down', 'the hub is shutting down');
    const { spec, worktree: wish } = resolveRequest(this.baseDirOf(caller), req);
    if (wish && !this.opts.worktrees) throw new CaoError('bad_request', 'this hub cannot make worktrees');
    // The depth is read first: from the caps' check to the spare taken or the start counted, nothing is awaited.
    this.checkCaps(caller, await depthOf(this.opts.registry, caller));
    const spare = !wish && opts.spare !== false ? this.warm.take(spec) : undefined;
    if (spare) {
      spare.creatorId = caller.id;
      await this.opts.registry.setCreator(spare.id, caller.id);
      return { terminal: spare, profile: spec.profile, spec, warm: true, worktree: null };
    }
    this.starting.set(caller.id, (this.starting.get(caller.id) ?? 0) + 1);
    try {
      // spares give way: the cap counts callers' workers only
      if (this.terminals.size + this.startingTotal() > this.limits.maxWorkers) await this.warm.evictOne();
      const id = await this.uniqueId();
      let tree: CreatedWorktree | null = null;
      if (wish) {
        tree = await this.opts.worktrees!.create(id, spec.cwd, `cao/${spec.profile.name}-${id}`, wish);
        spec.cwd = tree.workerCwd;
      }
      try {
        const terminal = await this.spawn(caller.id, spec, id);
        return { terminal, profile: spec.profile, spec, warm: false, worktree: tree };
      } catch (e) {
        if (tree) await this.opts.worktrees!.settle(id).catch(() => undefined);
        throw e;
      }
    } finally {
      const n = (this.starting.get(caller.id) ?? 1) - 1;
      if (n > 0) this.starting.set(caller.id, n);
      else this.starting.delete(caller.id);
    }
  }

  /** Keeps warm spares of `spec` ready for the next request (a no-op when its profile says `pool: 0`). */
  replenish(spec: WorkerSpec): void {
    if (!this.shuttingDown) this.warm.replenish(spec);
  }

  private startingTotal(): number {
    let n = 0;
    for (const v of this.starting.values()) n += v;
    return n;
  }

  /** Refuses a new worker beyond the delegation depth or the worker caps (spares and workers being stopped do not count). */
  private checkCaps(caller: Caller, depth: number): void {
    const counts = (t: Terminal) => !this.warm.isSpare(t.id) && !this.releasing.has(t.id);
    let workers = this.startingTotal();
    let mine = this.starting.get(caller.id) ?? 0;
    for (const t of this.terminals.values())
      if (counts(t)) {
        workers++;
        if (t.creatorId === caller.id) mine++;
      }
    checkCaps(this.limits, caller, depth + 1, workers, mine);
  }

  /** Starts the CLI of `spec` in a pty, as `id`, for `creatorId` (null: a warm spare), and registers it. */
  private async spawn(creatorId: string | null, spec: WorkerSpec, id: string): Promise<Terminal> {
    const { cwd, profile } = spec;
    const provider = getProvider(spec.providerId);
    const { token, launch } = await prepareLaunch(provider, spec, id, this.opts.hubUrl(), this.opts.toolTimeoutSec ?? 3600);
    this.opts.authorize(token, id);
    this.tokens.set(id, token);
    let terminal: Terminal;
    try {
      const host = this.opts.ptyHost ? await this.opts.ptyHost() : undefined;
      terminal = new Terminal({
        id,
        bus: this.opts.bus,
        provider,
        profileName: profile.name,
        creatorId,
        workingDirectory: cwd,
        launch,
        logMaxBytes: this.limits.logMaxBytes,
        typingGate: this.typingGate,
        // The token rides with the terminal in the host (never in argv): a hub that adopts it admits it again.
        ptyFactory: host ? (o, onData) => RemotePty.start(host, id, o, onData, { token } satisfies WorkerMeta) : undefined,
      });
      if (terminal.pty instanceof RemotePty) await terminal.pty.ready;
    } catch (e) {
      this.dropToken(id);
      removeRuntimeDir(id);
      throw new CaoError('spawn_failed', `could not start ${provider.label} (${launch.command}): ${messageOf(e)}`);
    }
    // Registered with its process group, so a later hub can clean up after a crash of this one.
    try {
      await this.opts.registry.registerTerminal({
        id,
        kind: 'worker',
        provider: provider.id,
        profile: profile.name,
        creatorId,
        workingDirectory: cwd,
        pid: terminal.pid,
        hubId: this.opts.hubId,
        status: 'starting',
      });
    } catch (e) {
      await terminal.kill();
      terminal.dispose();
      this.dropToken(id);
      removeRuntimeDir(id);
      throw e;
    }
    this.terminals.set(id, terminal);
    return terminal;
  }

  /** A worker that a previous hub started and the pty host kept, taken over by this one (flows/adopt.ts). */
  async take(terminal: Terminal, token: string): Promise<void> {
    this.opts.authorize(token, terminal.id);
    this.tokens.set(terminal.id, token);
    this.terminals.set(terminal.id, terminal);
    await this.opts.registry.adoptTerminal(terminal.id, this.opts.hubId);
  }

  get hubId(): string {
    return this.opts.hubId;
  }

  private async uniqueId(): Promise<string> {
    for (;;) {
      const id = newWorkerId();
      if (!this.terminals.has(id) && !(await this.opts.registry.getTerminal(id))) return id;
    }
  }

  /** Where a caller's relative paths point: a worker's own working directory, a supervisor's (sent by its front), else the hub's. */
  private baseDirOf(caller: Caller): string {
    return (caller.kind === 'worker' ? this.terminals.get(caller.id)?.workingDirectory : caller.cwd) ?? process.cwd();
  }

  /** A caller's `working_directory`, resolved and checked. */
  workingDirectoryOf(caller: Caller, wd: string | undefined): string {
    return directoryFrom(this.baseDirOf(caller), wd);
  }

  private onStatus(e: BusEvents['status']): void {
    const t = this.terminals.get(e.terminalId);
    if (!t) return;
    if (e.status === 'exited') {
      // A worker whose pty host went away: its group may still run (a CLI deaf to SIGHUP); it is ended here.
      const lost = t.pty instanceof RemotePty && t.pty.hostLost;
      if (lost && t.pid > 1 && groupAlive(t.pid)) killGroup(t.pid, 'SIGKILL');
      void this.forget(t.id, 'exited', lost ? 'the pty host went away' : describeCause(e.cause));
      return;
    }
    const error = e.status === 'error' ? describeCause(e.cause) : undefined;
    // the question goes into the row with its status: a hub of another host shows it from there
    const question = e.status === 'waiting_user_answer' ? t.questionNow() : null;
    // a plain status may replace one still waiting; an error's (it carries the reason) is always written
    void this.writes.record(
      t.id,
      'a status',
      () => this.opts.registry.updateTerminalStatus(t.id, e.status, error, question),
      error ? undefined : 'status',
    );
  }

  /** Drops a worker from the live set: its row ended (which fails its pending mail), its token revoked. */
  private forget(id: string, status: AgentStatus, reason?: string): Promise<void> {
    const t = this.terminals.get(id);
    this.terminals.delete(id);
    this.toolsListed.delete(id);
    this.startups.delete(id);
    this.warm.forget(id);
    this.dropToken(id);
    const ended = this.writes.record(id, 'the end of a worker', () => this.opts.registry.endTerminal(id, status, reason));
    if (t) setTimeout(() => t.dispose(), 100);
    // The files given to the worker CLI (its MCP config…) are of no use once it has ended.
    removeRuntimeDir(id);
    // Its worktree: what it changed is recorded; nothing changed, and it goes (once its row says it ended).
    void ended.then(() =>
      this.opts.worktrees
        ?.settle(id)
        .catch((e: Error) => logger('worktrees').warn({ terminalId: id, error: e.message }, 'could not settle the worktree of an ended worker')),
    );
    return ended;
  }

  private dropToken(id: string): void {
    const token = this.tokens.get(id);
    if (token) this.opts.revoke(token);
    this.tokens.delete(id);
  }

  /** Brings a new worker to its first ready screen (and, where the CLI loads MCP lazily, to its tools). */
  startup(t: Terminal, timeoutMs = t.provider.startupTimeoutMs): Promise<void> {
    let p = this.startups.get(t.id);
    if (!p) {
      const toolsReady = () =>
        t.provider.waitForMcpTools ? toolsListedBy(this.opts.bus, this.toolsListed, t, MCP_TOOLS_WAIT_MS) : Promise.resolve();
      p = t.startup(timeoutMs, toolsReady);
      this.startups.set(t.id, p);
      p.catch(() => undefined);
    }
    return p;
  }

  /** Stops a worker: politely, then its whole process group. */
  async stop(id: string, reason = 'stopped'): Promise<void> {
    const t = this.terminals.get(id);
    if (!t) return;
    await t.stop();
    await this.forget(id, 'exited', reason);
    await this.opts.worktrees?.settle(id).catch(() => undefined);
  }

  /**
   * Stops a worker without waiting for its exit (a finished handoff's: its answer need not wait). It no longer
   * counts as its caller's at once; shutdown waits for it.
   */
  release(id: string, reason: string): void {
    const t = this.terminals.get(id);
    if (!t || this.releasing.has(id)) return;
    this.releasing.add(id);
    const p = this.stop(id, reason).finally(() => {
      this.releasing.delete(id);
      this.stopping.delete(p);
    });
    this.stopping.add(p);
  }

  /** Worktree of a worker (as recorded: after `stop`, with what it changed). */
  worktreeOf(id: string) {
    return this.opts.worktrees?.get(id) ?? Promise.resolve(undefined);
  }

  /** Workers that are not warm spares (the hub daemon idles when there are none). */
  busy(): Terminal[] {
    return this.live().filter((t) => !this.warm.isSpare(t.id));
  }

  /**
   * Lets go of every worker without ending it (durable mode, `cao-mcp stop --keep-workers`): they run on in the
   * pty host, their rows stay live, and the next hub adopts them. Only workers whose pty the host keeps.
   */
  detachAll(): number {
    this.shuttingDown = true;
    this.warm.close();
    let n = 0;
    for (const t of [...this.terminals.values()]) {
      if (!(t.pty instanceof RemotePty)) continue;
      this.terminals.delete(t.id);
      this.dropToken(t.id);
      t.pty.detach();
      t.dispose();
      n++;
    }
    return n;
  }

  /** Ends every worker (process groups killed) and marks them ended. */
  async shutdown(): Promise<void> {
    this.shuttingDown = true;
    this.warm.close();
    await Promise.allSettled([...this.stopping]);
    await Promise.all(
      [...this.terminals.values()].map(async (t) => {
        await t.kill();
        await this.forget(t.id, 'exited', 'hub shut down');
      }),
    );
    // ends and statuses recorded for status events (a worker that exited on its own) are written before the store closes
    await this.writes.idle();
    await this.opts.worktrees?.idle();
  }
}
