import { rmSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Bus, BusEvents } from '../bus/bus.js';
import { Terminal } from '../agents/terminal.js';
import { RemotePty } from '../ptyhost/remote-pty.js';
import type { PtyHostClient } from '../ptyhost/client.js';
import { newWorkerId } from '../registry/ids.js';
import { depthOf, type Caller } from '../registry/ownership.js';
import type { TerminalRegistry } from '../registry/terminals.js';
import { loadProfile, resolveProviderId, type AgentProfile } from '../profiles/profile.js';
import { getProvider } from '../providers/registry.js';
import type { ProviderId } from '../providers/types.js';
import { describeCause } from '../status/cause.js';
import type { AgentStatus } from '../status/types.js';
import { CaoError, messageOf } from '../util/errors.js';
import { runtimeDir, runtimeDirPath } from '../util/paths.js';
import { groupAlive, killGroup, pidAlive } from '../util/process.js';
import { requireText } from './checks.js';
import { DEFAULT_LIMITS, type Limits } from './limits.js';
import { checkArgv, checkModel } from './worker-args.js';
import { newToken, workerEnv, workerMcpSpec } from './worker-env.js';
import type { WorkerRequest } from './types.js';

/** How long a CLI that loads its MCP servers lazily is given to ask for our tools before it counts as started. */
const MCP_TOOLS_WAIT_MS = 20_000;

/** What the hub keeps with a worker in the pty host. */
export interface WorkerMeta {
  token: string;
}

export interface WorkerPoolOptions {
  bus: Bus;
  registry: TerminalRegistry;
  hubId: string;
  /** Loopback URL workers' `cao-mcp` forward their tool calls to. */
  hubUrl: () => string;
  /** Registers a worker's token with the hub's HTTP front (and forgets it when the worker ends). */
  authorize: (token: string, terminalId: string) => void;
  revoke: (token: string) => void;
  /** Seconds a worker CLI allows one MCP tool call. */
  toolTimeoutSec?: number;
  /** Caps on workers and delegation depth (default DEFAULT_LIMITS). */
  limits?: Limits;
  /**
   * The pty host that keeps the workers' ptys (durable mode): workers then outlive this hub and a later one
   * adopts them (flows/adopt.ts). Without it, ptys are children of this process and end with it.
   */
  ptyHost?: () => Promise<PtyHostClient>;
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
  private shuttingDown = false;

  constructor(private readonly opts: WorkerPoolOptions) {
    this.limits = opts.limits ?? DEFAULT_LIMITS;
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

  live(): Terminal[] {
    return [...this.terminals.values()];
  }

  /** Cleans up after a previous hub that died (kill -9): ends its workers, fails their mail, kills leftovers. */
  recover(): { endedTerminals: string[]; failedMessages: number } {
    const r = this.opts.registry.recoverAfterCrash(this.opts.hubId, hubStillRunning);
    for (const pid of r.pids) if (pid > 1 && groupAlive(pid)) killGroup(pid, 'SIGKILL');
    return { endedTerminals: r.endedTerminals, failedMessages: r.failedMessages };
  }

  /** Validates the request, starts the worker CLI in a pty (not yet ready) and registers it. */
  async start(caller: Caller, req: WorkerRequest): Promise<{ terminal: Terminal; profile: AgentProfile }> {
    if (this.shuttingDown) throw new CaoError('shutting_down', 'the hub is shutting down');
    const cwd = this.workingDirectoryOf(caller, req.workingDirectory);
    const profile = loadProfile(requireText(req.agentProfile, 'agent_profile'), cwd);
    const providerId = resolveProviderId(req.provider, profile);
    const model = checkModel(req.model, 'model') ?? checkModel(profile.model, `the model of profile "${profile.name}"`);
    this.checkCaps(caller);
    this.starting.set(caller.id, (this.starting.get(caller.id) ?? 0) + 1);
    try {
      return await this.spawn(caller, cwd, profile, providerId, model);
    } finally {
      const n = (this.starting.get(caller.id) ?? 1) - 1;
      if (n > 0) this.starting.set(caller.id, n);
      else this.starting.delete(caller.id);
    }
  }

  /** Refuses a new worker beyond the delegation depth or the worker caps, saying which and how to raise it. */
  private checkCaps(caller: Caller): void {
    const { maxDepth, maxWorkers, maxWorkersPerCaller } = this.limits;
    const depth = depthOf(this.opts.registry, caller) + 1;
    if (depth > maxDepth)
      throw new CaoError(
        'depth_limit',
        `delegation depth limit reached: a worker of yours would be at depth ${depth}, and the limit is ${maxDepth} (CAO_MAX_DEPTH); do this task yourself instead of handing it on`,
      );
    const startingTotal = [...this.starting.values()].reduce((a, b) => a + b, 0);
    if (this.terminals.size + startingTotal >= maxWorkers)
      throw new CaoError(
        'worker_limit',
        `worker limit reached: ${maxWorkers} workers are running in this hub (CAO_MAX_WORKERS); stop one with stop_agent first`,
      );
    let mine = this.starting.get(caller.id) ?? 0;
    for (const t of this.terminals.values()) if (t.creatorId === caller.id) mine++;
    if (mine >= maxWorkersPerCaller)
      throw new CaoError(
        'worker_limit',
        `worker limit reached: you (${caller.id}) have ${mine} workers running and the limit per caller is ${maxWorkersPerCaller} (CAO_MAX_WORKERS_PER_CALLER); stop one with stop_agent first`,
      );
  }

  private async spawn(
    caller: Caller,
    cwd: string,
    profile: AgentProfile,
    providerId: ProviderId,
    model: string | undefined,
  ): Promise<{ terminal: Terminal; profile: AgentProfile }> {
    const provider = getProvider(providerId);
    const id = this.uniqueId();
    const token = newToken();
    const hubUrl = this.opts.hubUrl();
    const ctx = {
      terminalId: id,
      workingDirectory: cwd,
      profileName: profile.name,
      systemPrompt: profile.systemPrompt,
      model,
      mcp: workerMcpSpec(hubUrl, id, token),
      runtimeDir: runtimeDir(id),
      env: workerEnv(process.env, hubUrl, id, token),
      toolTimeoutSec: this.opts.toolTimeoutSec ?? 3600,
    };
    let launch;
    try {
      launch = await provider.launch(ctx);
      checkArgv(launch.command, launch.args, [token]);
    } catch (e) {
      removeRuntimeDir(id);
      throw new CaoError('launch_failed', `could not prepare ${provider.label}: ${messageOf(e)}`);
    }
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
        creatorId: caller.id,
        workingDirectory: cwd,
        launch,
        logMaxBytes: this.limits.logMaxBytes,
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
      this.opts.registry.registerTerminal({
        id,
        kind: 'worker',
        provider: provider.id,
        profile: profile.name,
        creatorId: caller.id,
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
    return { terminal, profile };
  }

  /** A worker that a previous hub started and the pty host kept, taken over by this one (flows/adopt.ts). */
  take(terminal: Terminal, token: string): void {
    this.opts.authorize(token, terminal.id);
    this.tokens.set(terminal.id, token);
    this.terminals.set(terminal.id, terminal);
    this.opts.registry.adoptTerminal(terminal.id, this.opts.hubId);
  }

  get hubId(): string {
    return this.opts.hubId;
  }

  private uniqueId(): string {
    for (;;) {
      const id = newWorkerId();
      if (!this.terminals.has(id) && !this.opts.registry.getTerminal(id)) return id;
    }
  }

  /** Where a caller's relative paths point: a worker's own working directory, a supervisor's (sent by its front), else the hub's. */
  workingDirectoryOf(caller: Caller, wd: string | undefined): string {
    const base = (caller.kind === 'worker' ? this.terminals.get(caller.id)?.workingDirectory : caller.cwd) ?? process.cwd();
    if (wd && /[\x00-\x1f\x7f]/.test(wd)) throw new CaoError('bad_request', 'working_directory holds a control character');
    const dir = resolve(base, wd?.trim() ? wd : '.');
    let st;
    try {
      st = statSync(dir);
    } catch {
      throw new CaoError('bad_request', `working_directory "${dir}" does not exist`);
    }
    if (!st.isDirectory()) throw new CaoError('bad_request', `working_directory "${dir}" is not a directory`);
    return dir;
  }

  private onStatus(e: BusEvents['status']): void {
    const t = this.terminals.get(e.terminalId);
    if (!t) return;
    if (e.status === 'exited') {
      // A worker whose pty host went away: its group may still run (a CLI deaf to SIGHUP); it is ended here.
      const lost = t.pty instanceof RemotePty && t.pty.hostLost;
      if (lost && t.pid > 1 && groupAlive(t.pid)) killGroup(t.pid, 'SIGKILL');
      this.forget(t.id, 'exited', lost ? 'the pty host went away' : describeCause(e.cause));
      return;
    }
    this.opts.registry.updateTerminalStatus(t.id, e.status, e.status === 'error' ? describeCause(e.cause) : undefined);
  }

  /** Drops a worker from the live set: its row ended (which fails its pending mail), its token revoked. */
  private forget(id: string, status: AgentStatus, reason?: string): void {
    const t = this.terminals.get(id);
    this.terminals.delete(id);
    this.toolsListed.delete(id);
    this.dropToken(id);
    this.opts.registry.endTerminal(id, status, reason);
    if (t) setTimeout(() => t.dispose(), 100);
    // The files given to the worker CLI (its MCP config…) are of no use once it has ended.
    removeRuntimeDir(id);
  }

  private dropToken(id: string): void {
    const token = this.tokens.get(id);
    if (token) this.opts.revoke(token);
    this.tokens.delete(id);
  }

  /** Brings a new worker to its first ready screen (and, where the CLI loads MCP lazily, to its tools). */
  startup(t: Terminal, timeoutMs = t.provider.startupTimeoutMs): Promise<void> {
    const toolsReady = () => (t.provider.waitForMcpTools ? this.toolsListedBy(t, MCP_TOOLS_WAIT_MS) : Promise.resolve());
    return t.startup(timeoutMs, toolsReady);
  }

  /** Resolves once the worker's CLI has asked for our tools, it exits, or `ms` pass (it is then started without). */
  private toolsListedBy(t: Terminal, ms: number): Promise<void> {
    if (this.toolsListed.has(t.id) || !t.alive) return Promise.resolve();
    return new Promise((done) => {
      const finish = () => {
        clearTimeout(timer);
        this.opts.bus.off('mcp:tools-listed', onListed);
        this.opts.bus.off('status', onStatus);
        done();
      };
      const onListed = (e: BusEvents['mcp:tools-listed']) => e.terminalId === t.id && finish();
      const onStatus = (e: BusEvents['status']) => e.terminalId === t.id && e.status === 'exited' && finish();
      const timer = setTimeout(finish, ms);
      this.opts.bus.on('mcp:tools-listed', onListed);
      this.opts.bus.on('status', onStatus);
    });
  }

  /** Stops a worker: politely, then its whole process group. */
  async stop(id: string, reason = 'stopped'): Promise<void> {
    const t = this.terminals.get(id);
    if (!t) return;
    await t.stop();
    this.forget(id, 'exited', reason);
  }

  /**
   * Lets go of every worker without ending it (durable mode, `cao-mcp stop --keep-workers`): they run on in the
   * pty host, their rows stay live, and the next hub adopts them. Only workers whose pty the host keeps.
   */
  detachAll(): number {
    this.shuttingDown = true;
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
    await Promise.all(
      [...this.terminals.values()].map(async (t) => {
        await t.kill();
        this.forget(t.id, 'exited', 'hub shut down');
      }),
    );
  }
}

/** Hub ids are `<pid>.<random>`: a hub whose process still runs keeps its workers (two hubs may share a database). */
export function hubStillRunning(hubId: string): boolean {
  const pid = Number(hubId.split('.')[0]);
  return Number.isInteger(pid) && pid > 1 && pid !== process.pid && pidAlive(pid);
}

function removeRuntimeDir(id: string): void {
  try {
    rmSync(runtimeDirPath(id), { recursive: true, force: true });
  } catch {
    /* best effort */
  }
}
