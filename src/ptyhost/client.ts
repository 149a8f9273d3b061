import { spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { caoHome, distFile, ensureDir } from '../util/paths.js';
import { dirname } from 'node:path';
import { withoutDatabaseSecrets } from '../util/db-env.js';
import {
  lineReader,
  logPathIn,
  stderrPathIn,
  PROTOCOL,
  socketPathIn,
  type Answers,
  type HostEvent,
  type HostTerminalInfo,
  type Op,
  type TagRecord,
} from './protocol.js';

export interface ConnectOptions {
  /** The CAO_HOME whose host to reach (default: caoHome()). */
  home?: string;
  /** Start the host (detached) when none answers, and wait for it. */
  start?: boolean;
  /** How long to wait for a started host to answer (default 10 s). */
  startTimeoutMs?: number;
  /** Called once when the connection ends for any reason but close(): the host died or went away. */
  onClose?: (reason: string) => void;
}

export interface TerminalListener {
  data?: (data: string) => void;
  exit?: (e: { exitCode: number; signal?: number }) => void;
}

type Pending = { resolve: (v: Record<string, unknown>) => void; reject: (e: Error) => void; op: string };

/** A connection to the pty host: requests with ids, events dispatched by terminal. */
export class PtyHostClient {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private readonly listeners = new Map<string, Set<TerminalListener>>();
  private readonly closeFns: Array<(reason: string) => void> = [];
  private readonly endFns = new Set<(reason: string) => void>();
  private readonly pids = new Map<string, number>();
  private closedBy: string | null = null;
  hostPid = 0;
  hostVersion = '';

  private constructor(
    private readonly socket: Socket,
    readonly socketPath: string,
  ) {
    socket.on(
      'data',
      lineReader(
        (m) => this.onMessage(m),
        () => {},
      ),
    );
    socket.on('error', () => {
      /* 'close' follows */
    });
    socket.on('close', () => this.ended('the pty host closed the connection'));
  }

  /** Connects to the host of `home`; with `start`, starts one first if none answers. */
  static async connect(opts: ConnectOptions = {}): Promise<PtyHostClient> {
    const home = opts.home ?? caoHome();
    const path = socketPathIn(home);
    let sock = await tryConnect(path);
    if (!sock && opts.start) {
      startHost(home);
      const timeout = opts.startTimeoutMs ?? 10_000;
      const deadline = Date.now() + timeout;
      while (!sock && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 50));
        sock = await tryConnect(path);
      }
      if (!sock) throw new Error(`the pty host did not answer on ${path} within ${timeout} ms (see ${logPathIn(home)} and ${stderrPathIn(home)})`);
    }
    if (!sock) throw new Error(`no pty host answers on ${path}`);
    const c = new PtyHostClient(sock, path);
    if (opts.onClose) c.onClose(opts.onClose);
    try {
      const h = await c.request('hello');
      if (h.protocol !== PROTOCOL)
        throw new Error(
          `the pty host (pid ${h.pid}, cao-mcp ${h.version}) speaks protocol ${h.protocol}, this cao-mcp ${PROTOCOL}: it cannot take over those workers; end them and the host with \`cao-mcp stop --all\` (or wait for them to finish), then start again`,
        );
      c.hostPid = h.pid;
      c.hostVersion = h.version;
    } catch (e) {
      c.close();
      throw e;
    }
    return c;
  }

  get closed(): boolean {
    return this.closedBy !== null;
  }

  private onMessage(m: Record<string, unknown>): void {
    if (typeof m.ev === 'string') return this.onEvent(m as unknown as HostEvent);
    const p = typeof m.id === 'number' ? this.pending.get(m.id) : undefined;
    if (!p) return; // a fire-and-forget request's answer
    this.pending.delete(m.id as number);
    if (m.ok === true) p.resolve(m);
    else p.reject(new Error(`pty host: ${p.op}: ${typeof m.error === 'string' ? m.error : 'failed'}`));
  }

  private onEvent(e: HostEvent): void {
    const ls = this.listeners.get(e.tid);
    if (!ls) return;
    for (const l of [...ls]) {
      if (e.ev === 'data') l.data?.(e.data);
      else l.exit?.(e.signal ? { exitCode: e.exitCode, signal: e.signal } : { exitCode: e.exitCode });
    }
  }

  private ended(reason: string): void {
    if (this.closedBy !== null) return;
    this.closedBy = reason;
    for (const p of this.pending.values()) p.reject(new Error(`pty host: ${p.op}: ${reason}`));
    this.pending.clear();
    for (const fn of [...this.endFns]) fn(reason);
    this.endFns.clear();
    for (const fn of this.closeFns.splice(0)) fn(reason);
  }

  /** Sends a request; resolves with the answer's fields, rejects with the host's error or when the connection ends. */
  request<K extends Op>(op: K, fields: Record<string, unknown> = {}): Promise<Answers[K]> {
    if (this.closedBy !== null) return Promise.reject(new Error(`pty host: ${op}: ${this.closedBy}`));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve: (v) => resolve(v as unknown as Answers[K]), reject, op });
      this.socket.write(`${JSON.stringify({ ...fields, id, op })}\n`);
    });
  }

  /** Sends a request whose answer nobody waits for (writes, signals: the host handles requests in order). */
  send(op: Op, fields: Record<string, unknown>): void {
    if (this.closedBy === null) this.socket.write(`${JSON.stringify({ ...fields, id: this.nextId++, op })}\n`);
  }

  /** Listens to one terminal's events (data only once attached or spawned here); returns the unsubscribe. */
  listen(tid: string, l: TerminalListener): () => void {
    let set = this.listeners.get(tid);
    if (!set) this.listeners.set(tid, (set = new Set()));
    set.add(l);
    return () => {
      set.delete(l);
      if (!set.size && this.listeners.get(tid) === set) this.listeners.delete(tid);
    };
  }

  /** Called once when the connection ends (not after close()). Returns the unsubscribe. */
  onClose(fn: (reason: string) => void): () => void {
    this.closeFns.push(fn);
    return () => {
      const i = this.closeFns.indexOf(fn);
      if (i >= 0) this.closeFns.splice(i, 1);
    };
  }

  /** Called once when the connection ends for any reason, close() included (what RemotePty waits on). */
  onEnded(fn: (reason: string) => void): () => void {
    this.endFns.add(fn);
    return () => {
      this.endFns.delete(fn);
    };
  }

  /** Remembers a terminal's pid (its process group): knownPids() reports them once the host is gone. */
  notePid(tid: string, pid: number): void {
    this.pids.set(tid, pid);
  }

  /** Every pid this client has seen (spawned, adopted or listed), by tid: the groups to kill if the host died. */
  knownPids(): Map<string, number> {
    return new Map(this.pids);
  }

  async list(): Promise<HostTerminalInfo[]> {
    const { terminals } = await this.request('list');
    for (const t of terminals) if (t.alive) this.notePid(t.tid, t.pid);
    return terminals;
  }

  async lastTags(tid: string): Promise<TagRecord[]> {
    return (await this.request('lastTags', { tid })).tags;
  }

  async forget(tid: string): Promise<void> {
    await this.request('forget', { tid });
    this.pids.delete(tid);
  }

  /** Asks the host to end every terminal's group and exit; resolves when it has ended them. */
  async shutdown(): Promise<void> {
    await this.request('shutdown');
  }

  close(): void {
    this.closeFns.splice(0);
    this.ended('closed by the client');
    this.socket.destroy();
  }
}

function tryConnect(path: string): Promise<Socket | null> {
  return new Promise((resolve) => {
    const s = connect(path);
    s.once('connect', () => {
      s.removeAllListeners('error');
      resolve(s);
    });
    s.once('error', () => resolve(null));
  });
}

/** Starts `cao-mcp pty-host` detached from this process: its own session, stdio to `ptyhost.stderr.log`, not waited for. */
function startHost(home: string): void {
  const logFile = stderrPathIn(home);
  ensureDir(dirname(logFile));
  const fd = openSync(logFile, 'a', 0o600);
  try {
    const child = spawn(process.execPath, [distFile('cli/main.js'), 'pty-host'], {
      detached: true,
      stdio: ['ignore', fd, fd],
      env: { ...withoutDatabaseSecrets(process.env), CAO_HOME: home }, // it never opens the database
    });
    child.on('error', () => {
      /* reported as the timeout, with the log's path */
    });
    child.unref();
  } finally {
    closeSync(fd);
  }
}

export type { HostEvent };
