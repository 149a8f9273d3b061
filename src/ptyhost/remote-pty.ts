import type { PtyExit, PtyLike } from '../pty/pty-like.js';
import type { PtySpawnOptions } from '../pty/pty-process.js';
import type { ScreenImage } from '../screen/serialize.js';
import { groupAlive, killGroup } from '../util/process.js';
import type { PtyHostClient } from './client.js';
import type { Meta } from './protocol.js';

/** The exit a remote pty reports when its host is gone: exit code -1, no signal (`hostLost` is true). */
export const HOST_LOST: PtyExit = { exitCode: -1 };

export interface AdoptOptions {
  /** Rows of scrollback in the image (default: all the host's screen kept). */
  scrollback?: number;
  /** Gets the image before the first live chunk reaches onData (write it into the screen first). */
  onImage?: (image: ScreenImage) => void;
}

/**
 * A pty that lives in the pty host, driven over a PtyHostClient: the same surface as PtyProcess. Output
 * reaches `onData` in pty order; until the host has answered the spawn or the attach, it is held back.
 */
export class RemotePty implements PtyLike {
  private pidValue = 0;
  private exited = false;
  private lost = false;
  private held: string[] | null = [];
  /** An exit that came while output was held back: resolved after that output. */
  private heldExit: PtyExit | null = null;
  private resolveExit!: (e: PtyExit) => void;
  readonly exit = new Promise<PtyExit>((r) => (this.resolveExit = r));
  /** Resolves once the host has answered (spawned, or attached); rejects if it refused. */
  readonly ready: Promise<void>;
  /** The attach image of an adopted terminal (null for one spawned here). */
  image: ScreenImage | null = null;
  private readonly unlisten: () => void;
  private readonly unClose: () => void;

  private constructor(
    private readonly client: PtyHostClient,
    readonly tid: string,
    private readonly onData: (data: string) => void,
    open: (self: RemotePty) => Promise<void>,
  ) {
    // listen before asking, so that not one chunk that follows the answer is missed
    this.unlisten = client.listen(tid, {
      data: (d) => (this.held ? this.held.push(d) : this.onData(d)),
      exit: (e) => this.ended(e),
    });
    this.unClose = client.onEnded(() => {
      this.lost = true;
      this.ended(HOST_LOST, true);
    });
    if (client.closed) {
      this.lost = true;
      this.ended(HOST_LOST);
    }
    this.ready = open(this).then(
      () => this.release(),
      (e: Error) => {
        this.ended(HOST_LOST);
        this.held = null;
        this.resolveExit(this.heldExit ?? HOST_LOST);
        throw e;
      },
    );
    this.ready.catch(() => {});
  }

  /** Spawns a terminal in the host, at once: writes sent before `ready` reach it after the spawn, in order. */
  static start(client: PtyHostClient, tid: string, opts: PtySpawnOptions, onData: (data: string) => void, meta?: Meta): RemotePty {
    return new RemotePty(client, tid, onData, async (self) => {
      const { pid } = await client.request('spawn', { tid, ...opts, meta: meta ?? null });
      self.pidValue = pid;
      client.notePid(tid, pid);
    });
  }

  /** Spawns a terminal in the host; resolves once it runs. */
  static async spawn(client: PtyHostClient, tid: string, opts: PtySpawnOptions, onData: (data: string) => void, meta?: Meta): Promise<RemotePty> {
    const p = RemotePty.start(client, tid, opts, onData, meta);
    await p.ready;
    return p;
  }

  /** Attaches to a terminal the host already runs, at once: `onImage` (and `.image`) first, then the live stream to onData. */
  static attach(client: PtyHostClient, tid: string, onData: (data: string) => void, opts: AdoptOptions = {}): RemotePty {
    return new RemotePty(client, tid, onData, async (self) => {
      const a = await client.request('attach', { tid, ...(opts.scrollback === undefined ? {} : { scrollback: opts.scrollback }) });
      self.pidValue = a.pid;
      self.image = a.image;
      if (a.exit) self.ended(a.exit);
      else client.notePid(tid, a.pid);
      opts.onImage?.(a.image);
    });
  }

  /** Attaches to a terminal the host already runs; resolves once the image is in (see attach). */
  static async adopt(client: PtyHostClient, tid: string, onData: (data: string) => void, opts: AdoptOptions = {}): Promise<RemotePty> {
    const p = RemotePty.attach(client, tid, onData, opts);
    await p.ready;
    return p;
  }

  private release(): void {
    const held = this.held ?? [];
    this.held = null;
    for (const d of held) this.onData(d);
    if (this.heldExit) this.resolveExit(this.heldExit);
  }

  /** The process exited, the host was lost, or this client detached. Output still arriving is passed on. */
  private ended(e: PtyExit, stopListening = false): void {
    if (stopListening) this.unlisten();
    if (this.exited) return;
    this.exited = true;
    this.unClose();
    if (this.held) this.heldExit = e;
    else this.resolveExit(e);
  }

  get pid(): number {
    return this.pidValue;
  }

  get alive(): boolean {
    return !this.exited;
  }

  /** True when `exit` resolved because the connection to the host ended, not because the process did. */
  get hostLost(): boolean {
    return this.lost;
  }

  write(data: string, tag?: string): void {
    if (!this.exited) this.client.send('write', tag === undefined ? { tid: this.tid, data } : { tid: this.tid, data, tag });
  }

  resize(cols: number, rows: number): void {
    if (!this.exited) this.client.send('resize', { tid: this.tid, cols, rows });
  }

  signalGroup(signal: NodeJS.Signals): void {
    if (!this.client.closed) this.client.send('signal', { tid: this.tid, signal });
    else if (this.pidValue) killGroup(this.pidValue, signal);
  }

  /** The host ends the group (SIGTERM, SIGKILL after graceMs); with the host gone, this process does it. */
  async terminate(graceMs = 1500): Promise<void> {
    if (!this.client.closed) {
      try {
        await this.client.request('terminate', { tid: this.tid, graceMs });
        return;
      } catch {
        if (!this.client.closed) return; // refused: the host no longer knows it
      }
    }
    const pid = this.pidValue;
    if (!pid || !groupAlive(pid)) return;
    killGroup(pid, 'SIGTERM');
    const deadline = Date.now() + graceMs;
    while (groupAlive(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    if (groupAlive(pid)) killGroup(pid, 'SIGKILL');
    const gone = Date.now() + 3000;
    while (groupAlive(pid) && Date.now() < gone) await new Promise((r) => setTimeout(r, 25));
  }

  /** Stops receiving this terminal's output; the host keeps it running. `exit` resolves (-1) if it had not. */
  detach(): void {
    if (!this.client.closed) this.client.send('detach', { tid: this.tid });
    this.ended(HOST_LOST, true);
  }
}
