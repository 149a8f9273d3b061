import { rmSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Bus, BusEvents } from '../bus/bus.js';
import { submitInput, sendKeys, waitUntil } from '../agents/input.js';
import { Terminal } from '../agents/terminal.js';
import { submitTurn, type Turn } from '../agents/turn.js';
import type { InboxStore } from '../inbox/store.js';
import type { MessageRow, TerminalRow } from '../inbox/schema.js';
import { isInboxError } from '../inbox/errors.js';
import { newWorkerId } from '../inbox/ids.js';
import { loadProfile, listProfiles, resolveProviderId, ProfileError, type AgentProfile } from '../profiles/profile.js';
import { getProvider } from '../providers/registry.js';
import type { ProviderId } from '../providers/types.js';
import { groupAlive, killGroup, sleep } from '../pty/pty-process.js';
import { describeCause } from '../status/cause.js';
import { isReady, type AgentStatus } from '../status/types.js';
import { runtimeDir, runtimeDirPath } from '../util/paths.js';
import { neutraliseOneLine } from '../util/sanitize.js';
import { checkBody } from '../inbox/store.js';
import { ToolError } from './errors.js';
import { pidAlive } from './hub-record.js';
import { DEFAULT_LIMITS, type Limits } from './limits.js';
import { assertOwns, depthOf, type Caller } from './ownership.js';
import { checkArgv, checkModel } from './worker-args.js';
import { newToken, workerEnv, workerMcpSpec } from './worker-env.js';

export type { Caller } from './ownership.js';

export interface StartWorkerArgs {
  agent_profile: string;
  working_directory?: string;
  provider?: string;
  model?: string;
}

export interface HandoffArgs extends StartWorkerArgs {
  message: string;
  timeout?: number;
}

export interface HandoffResult {
  success: boolean;
  output: string;
  terminal_id: string | null;
  provider: string | null;
  duration_ms: number;
  message: string;
  status?: AgentStatus;
}

export interface ProgressFn {
  (p: { elapsedMs: number; totalMs: number; message: string }): void;
}

export interface OrchestratorOptions {
  bus: Bus;
  store: InboxStore;
  hubId: string;
  /** Loopback URL workers' `cao-mcp` forward their tool calls to. */
  hubUrl: () => string;
  /** Registers a worker's token with the hub's HTTP front (and forgets it when the worker ends). */
  authorize: (token: string, terminalId: string) => void;
  revoke: (token: string) => void;
  /** Seconds a worker CLI allows one MCP tool call. */
  toolTimeoutSec?: number;
  progressEveryMs?: number;
  /** Caps on workers and delegation depth (default DEFAULT_LIMITS). */
  limits?: Limits;
}

const HANDOFF_DEFAULT_TIMEOUT = 600;

/**
 * What the MCP tools do. One instance per hub; it owns the worker terminals and is the only writer
 * of the database. MCP transports only translate calls into these methods.
 */
export class Orchestrator {
  readonly bus: Bus;
  readonly store: InboxStore;
  private readonly terminals = new Map<string, Terminal>();
  private readonly tokens = new Map<string, string>();
  /** Workers being started (not yet in `terminals`), per creator: they count against the caps already. */
  private readonly starting = new Map<string, number>();
  private readonly limits: Limits;
  /** Workers whose CLI has asked our MCP server for its tools. */
  private readonly toolsListed = new Set<string>();
  private shuttingDown = false;

  constructor(private readonly opts: OrchestratorOptions) {
    this.bus = opts.bus;
    this.store = opts.store;
    this.limits = opts.limits ?? DEFAULT_LIMITS;
    // Persist every status change, so `list_agents` and other processes see it.
    this.bus.on('status', (e) => this.onStatus(e));
    this.bus.on('mcp:tools-listed', (e) => this.toolsListed.add(e.terminalId));
  }

  terminal(id: string): Terminal | undefined {
    return this.terminals.get(id);
  }

  liveTerminals(): Terminal[] {
    return [...this.terminals.values()];
  }

  /** Cleans up after a previous hub that died (kill -9): ends its workers, fails their mail, kills leftovers. */
  recover(): { endedTerminals: string[]; failedMessages: number } {
    const r = this.store.recoverAfterCrash(this.opts.hubId, hubStillRunning);
    for (const pid of r.pids) if (pid > 1 && groupAlive(pid)) killGroup(pid, 'SIGKILL');
    return { endedTerminals: r.endedTerminals, failedMessages: r.failedMessages };
  }

  // ------------------------------------------------------------------ workers

  /** Validates the request, starts the worker CLI in a pty (not yet ready) and registers it. */
  async startWorker(caller: Caller, args: StartWorkerArgs): Promise<{ terminal: Terminal; profile: AgentProfile }> {
    if (this.shuttingDown) throw new ToolError('the hub is shutting down');
    const cwd = this.resolveWorkingDirectory(caller, args.working_directory);
    let profile: AgentProfile;
    let providerId: ProviderId;
    try {
      profile = loadProfile(requireText(args.agent_profile, 'agent_profile'), cwd);
      providerId = resolveProviderId(args.provider, profile);
    } catch (e) {
      if (e instanceof ProfileError) throw new ToolError(e.message, 'bad_profile');
      throw e;
    }
    const model = checkModel(args.model, 'model') ?? checkModel(profile.model, `the model of profile "${profile.name}"`);
    this.checkCaps(caller);
    this.starting.set(caller.id, (this.starting.get(caller.id) ?? 0) + 1);
    try {
      return await this.spawnWorker(caller, cwd, profile, providerId, model);
    } finally {
      const n = (this.starting.get(caller.id) ?? 1) - 1;
      if (n > 0) this.starting.set(caller.id, n);
      else this.starting.delete(caller.id);
    }
  }

  /** Refuses a new worker beyond the delegation depth or the worker caps, saying which and how to raise it. */
  private checkCaps(caller: Caller): void {
    const { maxDepth, maxWorkers, maxWorkersPerCaller } = this.limits;
    const depth = depthOf(this.store, caller) + 1;
    if (depth > maxDepth)
      throw new ToolError(
        `delegation depth limit reached: a worker of yours would be at depth ${depth}, and the limit is ${maxDepth} (CAO_MAX_DEPTH); do this task yourself instead of handing it on`,
        'depth_limit',
      );
    const startingTotal = [...this.starting.values()].reduce((a, b) => a + b, 0);
    if (this.terminals.size + startingTotal >= maxWorkers)
      throw new ToolError(
        `worker limit reached: ${maxWorkers} workers are running in this hub (CAO_MAX_WORKERS); stop one with stop_agent first`,
        'worker_limit',
      );
    let mine = this.starting.get(caller.id) ?? 0;
    for (const t of this.terminals.values()) if (t.creatorId === caller.id) mine++;
    if (mine >= maxWorkersPerCaller)
      throw new ToolError(
        `worker limit reached: you (${caller.id}) have ${mine} workers running and the limit per caller is ${maxWorkersPerCaller} (CAO_MAX_WORKERS_PER_CALLER); stop one with stop_agent first`,
        'worker_limit',
      );
  }

  private async spawnWorker(
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
    const dir = runtimeDir(id);
    const ctx = {
      terminalId: id,
      workingDirectory: cwd,
      profileName: profile.name,
      systemPrompt: profile.systemPrompt,
      model,
      mcp: workerMcpSpec(hubUrl, id, token),
      runtimeDir: dir,
      env: workerEnv(process.env, hubUrl, id, token),
      toolTimeoutSec: this.opts.toolTimeoutSec ?? 3600,
    };
    let launch;
    try {
      launch = await provider.launch(ctx);
      checkArgv(launch.command, launch.args, [token]);
    } catch (e) {
      removeRuntimeDir(id);
      throw new ToolError(`could not prepare ${provider.label}: ${(e as Error).message}`, 'launch_failed');
    }
    this.opts.authorize(token, id);
    this.tokens.set(id, token);
    let terminal: Terminal;
    try {
      terminal = new Terminal({
        id,
        bus: this.bus,
        provider,
        profileName: profile.name,
        creatorId: caller.id,
        workingDirectory: cwd,
        launch,
        logMaxBytes: this.limits.logMaxBytes,
      });
    } catch (e) {
      this.opts.revoke(token);
      this.tokens.delete(id);
      removeRuntimeDir(id);
      throw new ToolError(`could not start ${provider.label} (${launch.command}): ${(e as Error).message}`, 'spawn_failed');
    }
    // Registered with its process group, so a later hub can clean up after a crash of this one.
    try {
      this.registerWorker(terminal, caller, cwd);
    } catch (e) {
      await terminal.kill();
      terminal.dispose();
      this.opts.revoke(token);
      this.tokens.delete(id);
      removeRuntimeDir(id);
      throw e;
    }
    this.terminals.set(id, terminal);
    return { terminal, profile };
  }

  private registerWorker(terminal: Terminal, caller: Caller, cwd: string): void {
    const { id, provider, profileName: profile } = terminal;
    this.store.registerTerminal({
      id,
      kind: 'worker',
      provider: provider.id,
      profile,
      creatorId: caller.id,
      workingDirectory: cwd,
      pid: terminal.pid,
      hubId: this.opts.hubId,
      status: 'starting',
    });
  }

  private uniqueId(): string {
    for (;;) {
      const id = newWorkerId();
      if (!this.terminals.has(id) && !this.store.getTerminal(id)) return id;
    }
  }

  private resolveWorkingDirectory(caller: Caller, wd: string | undefined): string {
    // A worker's relative paths are its own: they resolve against its working directory, not the hub's.
    const base = (caller.kind === 'worker' ? this.terminals.get(caller.id)?.workingDirectory : undefined) ?? process.cwd();
    if (wd !== undefined && typeof wd !== 'string') throw new ToolError('working_directory must be a string');
    if (wd && /[\x00-\x1f\x7f]/.test(wd)) throw new ToolError('working_directory holds a control character');
    const dir = resolve(base, wd?.trim() ? wd : '.');
    let st;
    try {
      st = statSync(dir);
    } catch {
      throw new ToolError(`working_directory "${dir}" does not exist`);
    }
    if (!st.isDirectory()) throw new ToolError(`working_directory "${dir}" is not a directory`);
    return dir;
  }

  private onStatus(e: BusEvents['status']): void {
    const t = this.terminals.get(e.terminalId);
    if (!t) return;
    if (e.status === 'exited') {
      this.forget(t.id, 'exited', describeCause(e.cause));
      return;
    }
    this.store.updateTerminalStatus(t.id, e.status, e.status === 'error' ? describeCause(e.cause) : undefined);
  }

  /** Drops a worker from the live set: DB row ended, token revoked, its pending mail failed. */
  private forget(id: string, status: AgentStatus, reason?: string): void {
    const t = this.terminals.get(id);
    this.terminals.delete(id);
    this.toolsListed.delete(id);
    const token = this.tokens.get(id);
    if (token) this.opts.revoke(token);
    this.tokens.delete(id);
    this.store.endTerminal(id, status, reason);
    this.store.failPendingFor(id, `receiver ${id} ${status === 'exited' ? 'exited' : 'ended'}${reason ? `: ${reason}` : ''}`);
    if (t) setTimeout(() => t.dispose(), 100);
    // The files given to the worker CLI (its MCP config…) are of no use once it has ended.
    removeRuntimeDir(id);
  }

  /** Brings a new worker to its first ready screen (and, where the CLI loads MCP lazily, to its tools). */
  private startupWorker(t: Terminal, timeoutMs = t.provider.startupTimeoutMs): Promise<void> {
    const toolsReady = async () => {
      if (!t.provider.waitForMcpTools) return;
      const deadline = Date.now() + 20_000;
      while (!this.toolsListed.has(t.id) && t.alive && Date.now() < deadline) await sleep(50);
    };
    return t.startup(timeoutMs, toolsReady);
  }

  /** Stops a worker: politely, then its whole process group. */
  async stopWorker(id: string, reason = 'stopped'): Promise<void> {
    const t = this.terminals.get(id);
    if (!t) return;
    await t.stop();
    this.forget(id, 'exited', reason);
  }

  // ------------------------------------------------------------------ handoff

  async handoff(caller: Caller, args: HandoffArgs, progress?: ProgressFn, signal?: AbortSignal): Promise<HandoffResult> {
    const started = Date.now();
    const message = requireText(args.message, 'message');
    checkTaskSize(message);
    const timeoutSec = args.timeout ?? HANDOFF_DEFAULT_TIMEOUT;
    if (!Number.isFinite(timeoutSec) || timeoutSec < 1 || timeoutSec > 3600)
      throw new ToolError(`timeout must be between 1 and 3600 seconds (got ${args.timeout})`);
    const totalMs = timeoutSec * 1000;
    const deadline = started + totalMs;
    const { terminal: t, profile } = await this.startWorker(caller, args);
    const result = (success: boolean, msg: string, output = '', status?: AgentStatus): HandoffResult => ({
      success,
      output,
      terminal_id: t.id,
      provider: t.provider.id,
      duration_ms: Date.now() - started,
      message: msg,
      status,
    });
    const who = `${profile.name} (${t.provider.id}, terminal ${t.id})`;
    let lastNote = '';
    const tick = (note: string) => {
      lastNote = note;
      progress?.({ elapsedMs: Date.now() - started, totalMs, message: note });
    };
    const ticker = setInterval(() => tick(lastNote || `${who}: ${t.status}`), this.opts.progressEveryMs ?? 5000);
    const onStatus = (e: BusEvents['status']) => {
      if (e.terminalId === t.id) tick(`${who}: ${e.status}`);
    };
    this.bus.on('status', onStatus);
    try {
      tick(`starting ${who}`);
      try {
        await withDeadline(this.startupWorker(t, Math.min(t.provider.startupTimeoutMs, deadline - Date.now())), signal);
      } catch (e) {
        const why = (e as Error).message;
        await this.stopWorker(t.id, 'startup failed');
        return result(false, `Handoff failed: ${who} did not start: ${why}`, '', 'exited');
      }
      tick(`${who} is ready; sending the task`);
      try {
        await submitInput(t, message);
      } catch (e) {
        await this.stopWorker(t.id, 'task not accepted');
        return result(false, `Handoff failed: ${who} did not take the task: ${(e as Error).message}`, '', 'exited');
      }
      const end = await this.waitForTurnEnd(t, deadline - Date.now(), signal);
      if (end === 'timeout') {
        const partial = t.lastAnswer() ?? '';
        return result(
          false,
          `Handoff timed out after ${timeoutSec} s; ${who} is still ${t.status} and was left running: read it with read_output("${t.id}") or end it with stop_agent("${t.id}").`,
          partial,
          t.status,
        );
      }
      if (end === 'exited' || end === 'error') {
        const tail = lastLines(t.screenText(true), 15);
        const code = t.exitInfo ? ` with code ${t.exitInfo.exitCode}` : '';
        const partial = t.lastAnswer() ?? '';
        await this.stopWorker(t.id, end === 'error' ? 'worker error' : 'exited');
        return result(
          false,
          `Handoff failed: ${who} ${end === 'exited' ? `exited${code}` : 'reported an error'} before finishing.\n${tail}`,
          partial,
          end,
        );
      }
      if (end === 'waiting_user_answer') {
        const q = t.pendingQuestion() ?? lastLines(t.screenText(true), 12);
        return result(
          false,
          `${who} is waiting for an answer and was left running. Answer it with answer_question("${t.id}", …), then collect the result with read_output("${t.id}", wait_seconds).\nQuestion:\n${q}`,
          t.lastAnswer() ?? '',
          end,
        );
      }
      const output = t.lastAnswer() ?? '';
      await this.stopWorker(t.id, 'handoff finished');
      return result(true, `Handed off to ${who} in ${((Date.now() - started) / 1000).toFixed(2)} s`, output, 'completed');
    } catch (e) {
      if (signal?.aborted) {
        await this.stopWorker(t.id, 'handoff cancelled');
        return result(false, 'Handoff cancelled by the client; the worker was stopped.', '', 'exited');
      }
      throw e;
    } finally {
      clearInterval(ticker);
      this.bus.off('status', onStatus);
    }
  }

  /**
   * Waits for the turn that was just submitted to end. A question the worker asks ends the wait only
   * if it stays unanswered for a moment (it may be answered by someone else, e.g. the dashboard).
   */
  private async waitForTurnEnd(
    t: Terminal,
    ms: number,
    signal?: AbortSignal,
  ): Promise<'completed' | 'idle' | 'exited' | 'error' | 'waiting_user_answer' | 'timeout'> {
    const deadline = Date.now() + ms;
    for (;;) {
      const left = deadline - Date.now();
      if (left <= 0) return 'timeout';
      let s: AgentStatus;
      try {
        s = await t.waitForStatus((x) => isReady(x) || x === 'exited' || x === 'error' || x === 'waiting_user_answer', left, signal);
      } catch (e) {
        if (signal?.aborted) throw e;
        return 'timeout';
      }
      if (s !== 'waiting_user_answer') return s as 'completed' | 'idle' | 'exited' | 'error';
      // Give a human watching the dashboard a short chance; otherwise hand the question to the caller.
      const stillWaiting = !(await waitUntil(() => t.status !== 'waiting_user_answer', Math.min(3000, Math.max(0, deadline - Date.now()))));
      if (stillWaiting) return Date.now() >= deadline ? 'timeout' : 'waiting_user_answer';
    }
  }

  // ------------------------------------------------------------------ assign

  async assign(caller: Caller, args: StartWorkerArgs & { message: string }): Promise<{ terminal_id: string; provider: string; profile: string }> {
    const message = requireText(args.message, 'message');
    const task = `${message}\n\n[Assigned by ${describe(caller)}. When you have finished, send your result back with the send_message tool of the "cao" MCP server (receiver_id may be left empty: it goes to whoever assigned this task).]`;
    // Every check before anything is started: the task as it will be stored must fit.
    checkTaskSize(task);
    const { terminal: t, profile } = await this.startWorker(caller, args);
    // The task goes through the inbox like any message: durable, typed exactly once, when the worker is ready.
    let row: MessageRow;
    try {
      row = this.store.enqueue(caller.id, t.id, task, 'task');
    } catch (e) {
      await this.stopWorker(t.id, 'task could not be queued');
      throw new ToolError(
        `worker ${t.id} was started but its task could not be queued (${(e as Error).message}); the worker was stopped`,
        'task_not_queued',
      );
    }
    void this.startupWorker(t).catch(async (e: Error) => {
      const why = e.message;
      await this.stopWorker(t.id, 'startup failed');
      this.notify(
        caller.id,
        t.id,
        `Worker ${t.id} (${profile.name}, ${t.provider.id}) failed to start, so it never received the task you assigned:\n${why}`,
      );
    });
    // If the task message ends up failed (never typed), tell the assigner.
    const onState = (e: BusEvents['message:state']) => {
      if (e.messageId !== row.id) return;
      if (e.state === 'delivered' || e.state === 'failed') this.bus.off('message:state', onState);
      if (e.state === 'failed' && !this.shuttingDown && this.terminals.has(t.id))
        this.notify(
          caller.id,
          t.id,
          `Worker ${t.id} (${profile.name}) never took the task you assigned: ${e.error ?? 'delivery failed'}. It was left running; stop it with stop_agent("${t.id}").`,
        );
    };
    this.bus.on('message:state', onState);
    return { terminal_id: t.id, provider: t.provider.id, profile: profile.name };
  }

  /** A notice from cao-mcp itself about `aboutId` into someone's inbox (kind `notice`); never throws. */
  private notify(receiverId: string, aboutId: string, text: string): void {
    try {
      this.store.enqueue(aboutId, receiverId, text, 'notice');
    } catch (e) {
      process.stderr.write(`cao-mcp: could not notify ${receiverId}: ${(e as Error).message}\n`);
    }
  }

  // ------------------------------------------------------------------ messages

  async sendMessage(caller: Caller, args: { message: string; receiver_id?: string }): Promise<{ message_id: number; receiver_id: string }> {
    let receiver = args.receiver_id?.trim();
    if (!receiver) {
      const me = this.store.getTerminal(caller.id);
      receiver = me?.creatorId ?? undefined;
      if (!receiver)
        throw new ToolError(`receiver_id is required: ${describe(caller)} was not started by cao-mcp, so it has no creator to report to`);
    }
    if (typeof args.message !== 'string') throw new ToolError('message must be a string');
    try {
      const row = await this.store.enqueueSoon(caller.id, receiver, args.message);
      return { message_id: row.id, receiver_id: receiver };
    } catch (e) {
      if (isInboxError(e)) throw new ToolError(e.message, e.code);
      throw e;
    }
  }

  /** How a queued message looks when it is typed into a worker. */
  formatForTyping(m: MessageRow): string {
    if (m.kind === 'task') return m.body;
    if (m.kind === 'notice') return `[cao-mcp notice about terminal ${m.senderId}]\n${m.body}`;
    const from = this.store.getTerminal(m.senderId);
    const who = from?.kind === 'worker' ? `terminal ${m.senderId} (${from.profile})` : `supervisor ${m.senderId}`;
    return `[Message from ${who}]\n${m.body}\n\n[To reply, use the send_message tool with receiver_id "${m.senderId}".]`;
  }

  /** Types one inbox message into a worker as a new turn (the delivery service's port). */
  async typeMessage(terminalId: string, m: MessageRow): Promise<Turn> {
    const t = this.terminals.get(terminalId);
    if (!t) throw new Error(`terminal ${terminalId} is not running in this hub`);
    if (!isReady(t.status)) throw new Error(`terminal ${terminalId} is ${t.status}`);
    return submitTurn(t, this.formatForTyping(m));
  }

  /** An external supervisor's inbox: takes pending messages (marking them delivered), waiting up to `waitSec` for one. */
  async readInbox(caller: Caller, args: { wait_seconds?: number; limit?: number }, signal?: AbortSignal): Promise<MessageRow[]> {
    const limit = Math.min(Math.max(1, args.limit ?? 20), 200);
    const waitSec = args.wait_seconds ?? 0;
    if (waitSec < 0 || waitSec > 3600) throw new ToolError(`wait_seconds must be between 0 and 3600 (got ${waitSec})`);
    if (caller.kind === 'worker') {
      // A worker's messages are typed into it; here it can see its history.
      return this.store.listMessages({ receiverId: caller.id, order: 'desc', limit });
    }
    let rows = this.store.takeForExternal(caller.id, limit);
    if (rows.length || waitSec === 0) return rows;
    await new Promise<void>((resolveWait) => {
      const timer = setTimeout(done, waitSec * 1000);
      function done() {
        clearTimeout(timer);
        bus.off('message:queued', onQueued);
        signal?.removeEventListener('abort', done);
        resolveWait();
      }
      const bus = this.bus;
      const onQueued = (e: BusEvents['message:queued']) => {
        if (e.receiverId === caller.id) done();
      };
      bus.on('message:queued', onQueued);
      signal?.addEventListener('abort', done, { once: true });
    });
    rows = this.store.takeForExternal(caller.id, limit);
    return rows;
  }

  // ------------------------------------------------------------------ around them

  listAgents(caller: Caller, args: { include_ended?: boolean }): Array<Record<string, unknown>> {
    const rows = this.store.listTerminals({ includeEnded: args.include_ended ?? false, kind: 'worker' });
    return rows.map((r: TerminalRow) => {
      const live = this.terminals.get(r.id);
      return {
        id: r.id,
        profile: r.profile,
        provider: r.provider,
        status: live?.status ?? r.status,
        creator: r.creatorId,
        created_by_you: r.creatorId === caller.id,
        working_directory: r.workingDirectory,
        age_seconds: Math.round(((r.endedAt ?? Date.now()) - r.createdAt) / 1000),
        pending_messages: this.store.countPending(r.id),
        ended: r.endedAt !== null,
        ...(r.lastError ? { last_error: r.lastError } : {}),
        ...(live?.status === 'waiting_user_answer' ? { question: live.pendingQuestion() } : {}),
      };
    });
  }

  private liveOrThrow(id: string): Terminal {
    const tid = requireText(id, 'terminal_id');
    const t = this.terminals.get(tid);
    if (t) return t;
    const row = this.store.getTerminal(tid);
    if (!row) throw new ToolError(`no agent with terminal id "${tid}"`, 'not_found');
    throw new ToolError(`agent ${tid} has ended (${row.status}${row.lastError ? `: ${row.lastError}` : ''})`, 'ended');
  }

  async readOutput(
    caller: Caller,
    args: { terminal_id: string; mode?: 'last' | 'screen' | 'full'; wait_seconds?: number },
    signal?: AbortSignal,
  ): Promise<{ terminal_id: string; status: AgentStatus; output: string; question?: string | null }> {
    const t = this.liveOrThrow(args.terminal_id);
    assertOwns(this.store, caller, t.id, 'read the output of');
    const waitSec = args.wait_seconds ?? 0;
    if (waitSec < 0 || waitSec > 3600) throw new ToolError(`wait_seconds must be between 0 and 3600 (got ${waitSec})`);
    if (waitSec > 0) {
      await t
        .waitForStatus((s) => isReady(s) || s === 'waiting_user_answer' || s === 'exited' || s === 'error', waitSec * 1000, signal)
        .catch(() => undefined);
    }
    const mode = args.mode ?? 'last';
    const output = mode === 'last' ? (t.lastAnswer() ?? '') : t.screenText(mode === 'screen');
    return {
      terminal_id: t.id,
      status: t.status,
      output,
      ...(t.status === 'waiting_user_answer' ? { question: t.pendingQuestion() } : {}),
    };
  }

  async answerQuestion(caller: Caller, args: { terminal_id: string; answer: string }): Promise<{ terminal_id: string; status: AgentStatus }> {
    const t = this.liveOrThrow(args.terminal_id);
    assertOwns(this.store, caller, t.id, 'answer');
    const raw = requireText(args.answer, 'answer');
    if (raw.length > 4000) throw new ToolError(`answer is ${raw.length} characters; the limit is 4000`);
    // Typed like a message: no control characters or escape sequences, and one line (a dialog's field takes one).
    const answer = neutraliseOneLine(raw);
    if (!answer) throw new ToolError('answer is empty once control characters are removed; nothing was typed');
    if (t.status !== 'waiting_user_answer')
      throw new ToolError(`agent ${t.id} is not waiting for an answer (it is ${t.status}); nothing was typed`, 'not_waiting');
    const snap = t.monitor.detectSnapshot();
    const keys = t.provider.answerKeys?.(answer, snap) ?? [answer, t.provider.input.submitKey];
    if (!keys.length)
      throw new ToolError(
        `"${answer}" is not one of the options of agent ${t.id}'s question; nothing was typed.\n${t.pendingQuestion() ?? ''}`,
        'bad_answer',
      );
    await sendKeys(t, keys);
    await t.waitForStatus((s) => s !== 'waiting_user_answer', 3000).catch(() => undefined);
    return { terminal_id: t.id, status: t.status };
  }

  async stopAgent(caller: Caller, args: { terminal_id: string }): Promise<{ terminal_id: string; stopped: boolean }> {
    const t = this.liveOrThrow(args.terminal_id);
    assertOwns(this.store, caller, t.id, 'stop');
    await this.stopWorker(t.id, `stopped by ${caller.id}`);
    return { terminal_id: t.id, stopped: true };
  }

  listProfiles(caller: Caller, args: { working_directory?: string }) {
    const cwd = this.resolveWorkingDirectory(caller, args.working_directory);
    return listProfiles(cwd);
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
function hubStillRunning(hubId: string): boolean {
  const pid = Number(hubId.split('.')[0]);
  return Number.isInteger(pid) && pid > 1 && pid !== process.pid && pidAlive(pid);
}

/** A task must fit in the inbox as it will be stored; checked before a worker is started for it. */
function checkTaskSize(task: string): void {
  try {
    checkBody(task, 'the task message');
  } catch (e) {
    throw new ToolError(`${(e as Error).message}; no worker was started`, 'body_too_large');
  }
}

function removeRuntimeDir(id: string): void {
  try {
    rmSync(runtimeDirPath(id), { recursive: true, force: true });
  } catch {
    /* best effort */
  }
}

function requireText(v: unknown, field: string): string {
  if (typeof v !== 'string' || !v.trim()) throw new ToolError(`${field} must be a non-empty string`);
  return v;
}

function describe(c: Caller): string {
  if (c.kind === 'worker') return `terminal ${c.id}`;
  return c.id === 'supervisor' ? 'the supervisor' : `supervisor "${c.id}"`;
}

function lastLines(text: string, n: number): string {
  return text.split('\n').slice(-n).join('\n');
}

function withDeadline<T>(p: Promise<T>, signal?: AbortSignal): Promise<T> {
  if (!signal) return p;
  return new Promise<T>((res, rej) => {
    const onAbort = () => rej(new Error('aborted'));
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        res(v);
      },
      (e) => {
        signal.removeEventListener('abort', onAbort);
        rej(e);
      },
    );
  });
}
