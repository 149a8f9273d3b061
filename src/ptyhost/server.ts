import { chmodSync, statSync, unlinkSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { basename } from 'node:path';
import { Connection } from './connection.js';
import { HostTerminal } from './host-terminal.js';
import { reapLeftovers, removeGroups, startTimeOf, writeGroups } from './leftovers.js';
import { probeHello } from './probe.js';
import { PROTOCOL, socketPathIn, type HostEvent } from './protocol.js';
import { field, optInt, optStr, signalName, spawnRequest } from './validate.js';

export interface PtyHostOptions {
  /** The CAO_HOME this host serves (one host per home). */
  home: string;
  version: string;
  /** Exit after this long with no live terminal and no client. */
  idleMs: number;
  /** Exited terminals are kept (exit info, screen, tags) this long unless forgotten. */
  keepExitedMs: number;
  /** A line of the host's log (`warn` for what went wrong; `info` otherwise). */
  log: (line: string, level?: 'info' | 'warn') => void;
}

/**
 * The pty host: owns ptys and nothing else. It answers requests on a Unix socket (protocol.ts), keeps a
 * headless screen per terminal so a client can attach at any time, and outlives the hubs that use it.
 */
export class PtyHostServer {
  readonly socketPath: string;
  private readonly server: Server;
  private readonly terminals = new Map<string, HostTerminal>();
  private readonly conns = new Set<Connection>();
  private idleTimer: NodeJS.Timeout | null = null;
  private readonly sweepTimer: NodeJS.Timeout;
  private stopping: Promise<void> | null = null;
  private readonly shutdownAnswers: Array<() => void> = [];
  private socketIno = -1;
  private endedResolve!: (reason: string) => void;
  /** Resolves (with the reason) once the host has ended every group and closed its socket. */
  readonly ended = new Promise<string>((r) => (this.endedResolve = r));

  constructor(private readonly opts: PtyHostOptions) {
    this.socketPath = socketPathIn(opts.home);
    this.server = createServer((s) => this.onConnection(s));
    this.sweepTimer = setInterval(() => this.sweep(), Math.min(10_000, Math.max(200, opts.keepExitedMs / 4)));
    this.sweepTimer.unref();
  }

  /** Binds the socket: 'other-host' when a live host already answers there (a stale file is replaced). */
  async listen(): Promise<'listening' | 'other-host'> {
    for (let attempt = 0; ; attempt++) {
      if (await probeHello(this.socketPath)) return 'other-host';
      // a host killed -9 before us may have left groups that ignore SIGHUP: nobody can reach their ptys now
      // (a live host's groups are left alone, whatever happened to its socket file)
      const reaped = await reapLeftovers(this.opts.home);
      if (reaped.length) this.opts.log(`ended ${reaped.length} process group(s) a previous host left: ${reaped.join(' ')}`);
      try {
        unlinkSync(this.socketPath);
        this.opts.log('replaced a stale socket file');
      } catch {
        /* none there */
      }
      const old = process.umask(0o177);
      try {
        await new Promise<void>((resolve, reject) => {
          this.server.once('error', reject);
          this.server.listen(this.socketPath, () => {
            this.server.off('error', reject);
            resolve();
          });
        });
      } catch (e) {
        // another host bound it between our probe and our bind: ask again
        if ((e as NodeJS.ErrnoException).code === 'EADDRINUSE' && attempt < 3) continue;
        throw e;
      } finally {
        process.umask(old);
      }
      chmodSync(this.socketPath, 0o600);
      this.socketIno = statSync(this.socketPath).ino;
      this.opts.log(`listening (pid ${process.pid}, protocol ${PROTOCOL})`);
      this.checkIdle();
      return 'listening';
    }
  }

  private onConnection(socket: import('node:net').Socket): void {
    if (this.stopping) return void socket.destroy();
    const c = new Connection(
      socket,
      (conn, m) => this.onRequest(conn, m),
      (conn) => conn.fail(null, 'not a JSON object'),
    );
    this.conns.add(c);
    this.checkIdle();
    socket.on('close', () => {
      this.conns.delete(c);
      for (const t of this.terminals.values()) t.detach(c);
      this.checkIdle();
    });
  }

  private onRequest(c: Connection, m: Record<string, unknown>): void {
    const id = m.id;
    const fail = (e: unknown) => c.fail(id, e instanceof Error ? e.message : String(e));
    try {
      const p = this.handle(c, id, m);
      if (p) p.catch(fail);
    } catch (e) {
      fail(e);
    }
  }

  private terminal(m: Record<string, unknown>): HostTerminal {
    const tid = field(m, 'tid', 'string');
    const t = this.terminals.get(tid);
    if (!t) throw new Error(`no terminal "${tid}"`);
    return t;
  }

  /** Runs one request; answers it (now, or when the returned promise settles). */
  private handle(c: Connection, id: unknown, m: Record<string, unknown>): Promise<void> | void {
    switch (m.op) {
      case 'hello':
        return c.answer(id, { protocol: PROTOCOL, pid: process.pid, version: this.opts.version });
      case 'spawn': {
        if (this.stopping) throw new Error('the pty host is shutting down');
        const req = spawnRequest(m);
        if (this.terminals.has(req.tid)) throw new Error(`terminal "${req.tid}" exists`);
        const masters = [...this.terminals.values()].filter((x) => x.alive).map((x) => x.pty.masterFd ?? -1);
        const t = new HostTerminal(req, masters, (x) => this.onExit(x));
        this.terminals.set(req.tid, t);
        this.saveGroups();
        // the spawner follows the output from the first byte
        t.follow(c);
        this.opts.log(`spawn ${req.tid}: ${basename(req.command)} pid ${t.pty.pid}`);
        this.checkIdle();
        return c.answer(id, { pid: t.pty.pid });
      }
      case 'list':
        return c.answer(id, { terminals: [...this.terminals.values()].map((t) => t.info()) });
      case 'attach': {
        const t = this.terminal(m);
        const scrollback = optInt(m, 'scrollback');
        return t.attach(c, (image) => c.answer(id, { image, pid: t.pty.pid, ...(t.exitInfo ? { exit: t.exitInfo } : {}) }), scrollback);
      }
      case 'detach':
        this.terminal(m).detach(c);
        return c.answer(id, {});
      case 'write':
        this.terminal(m).write(field(m, 'data', 'string'), optStr(m, 'tag'));
        return c.answer(id, {});
      case 'resize':
        this.terminal(m).resize(field(m, 'cols', 'size'), field(m, 'rows', 'size'));
        return c.answer(id, {});
      case 'signal': {
        const t = this.terminal(m);
        if (t.alive) t.pty.signalGroup(signalName(m));
        return c.answer(id, {});
      }
      case 'terminate': {
        const t = this.terminal(m);
        return t.pty.terminate(optInt(m, 'graceMs') ?? 1500).then(() => c.answer(id, {}));
      }
      case 'forget': {
        const t = this.terminal(m);
        if (t.alive) throw new Error(`terminal "${t.tid}" is running: terminate it first`);
        this.drop(t);
        return c.answer(id, {});
      }
      case 'lastTags':
        return c.answer(id, { tags: this.terminal(m).lastTags() });
      case 'shutdown':
        this.shutdownAnswers.push(() => c.answer(id, {}));
        void this.stop('shutdown requested');
        return;
      default:
        throw new Error(`unknown op ${JSON.stringify(m.op)}`);
    }
  }

  private onExit(t: HostTerminal): void {
    const e = t.exitInfo!;
    this.opts.log(`exit ${t.tid}: pid ${t.pty.pid} code ${e.exitCode}${e.signal ? ` signal ${e.signal}` : ''}`);
    const ev: HostEvent = { ev: 'exit', tid: t.tid, exitCode: e.exitCode, ...(e.signal ? { signal: e.signal } : {}) };
    for (const c of this.conns) c.event(ev);
    this.saveGroups();
    this.checkIdle();
  }

  private drop(t: HostTerminal): void {
    this.terminals.delete(t.tid);
    t.dispose();
  }

  private sweep(): void {
    const before = Date.now() - this.opts.keepExitedMs;
    for (const t of this.terminals.values()) if (!t.alive && t.exitedAt < before) this.drop(t);
  }

  private checkIdle(): void {
    const idle = !this.stopping && this.conns.size === 0 && ![...this.terminals.values()].some((t) => t.alive);
    if (idle && !this.idleTimer) {
      this.idleTimer = setTimeout(() => void this.stop(`idle for ${Math.round(this.opts.idleMs / 1000)} s`), this.opts.idleMs);
    } else if (!idle && this.idleTimer) {
      clearTimeout(this.idleTimer);
      this.idleTimer = null;
    }
  }

  private saveGroups(): void {
    if (this.stopping) return;
    try {
      writeGroups(
        this.opts.home,
        [...this.terminals.values()].filter((t) => t.alive).map((t) => ({ pid: t.pty.pid, start: startTimeOf(t.pty.pid) })),
      );
    } catch (e) {
      this.opts.log(`cannot write the groups file: ${(e as Error).message}`, 'warn');
    }
  }

  /** Ends every terminal's process group, answers pending `shutdown`s, closes the socket. Idempotent. */
  stop(reason: string): Promise<void> {
    this.stopping ??= (async () => {
      this.opts.log(`stopping: ${reason}`);
      if (this.idleTimer) clearTimeout(this.idleTimer);
      clearInterval(this.sweepTimer);
      await Promise.all([...this.terminals.values()].map((t) => t.pty.terminate(1000)));
      removeGroups(this.opts.home);
      for (const answer of this.shutdownAnswers.splice(0)) answer();
      this.removeSocketFile();
      const closed = new Promise<void>((r) => this.server.close(() => r()));
      for (const c of this.conns) c.socket.end();
      const forced = setTimeout(() => {
        for (const c of this.conns) c.socket.destroy();
      }, 500);
      await closed;
      clearTimeout(forced);
      for (const t of this.terminals.values()) t.dispose();
      this.opts.log('stopped');
      this.endedResolve(reason);
    })();
    return this.stopping;
  }

  /** Unlinks the socket file if it is still ours (a host that replaced it keeps its own). */
  private removeSocketFile(): void {
    try {
      if (statSync(this.socketPath).ino === this.socketIno) unlinkSync(this.socketPath);
    } catch {
      /* already gone */
    }
  }
}
