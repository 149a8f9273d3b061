import { createHash } from 'node:crypto';
import type { Terminal } from '../agents/terminal.js';
import type { AgentProfile } from '../profiles/profile.js';
import type { ProviderId } from '../providers/types.js';
import { isReady } from '../status/types.js';
import { messageOf } from '../util/errors.js';
import { logger } from '../util/log.js';

/** What a worker is started from, resolved: a warm spare serves a request only when all of it is the same. */
export interface WorkerSpec {
  cwd: string;
  profile: AgentProfile;
  providerId: ProviderId;
  model: string | undefined;
}

/** The settings of the warm pool (README, "Warm workers"). */
export interface WarmSettings {
  /** Spares kept per spec after its first use, unless the profile says `pool: N` (CAO_WARM_POOL, default 1). */
  perSpec: number;
  /** Spares in the whole hub (CAO_WARM_MAX, default 4). */
  max: number;
  /** A spare nobody took for this long is stopped (CAO_WARM_IDLE_SECONDS, default 600). */
  idleMs: number;
}

export function warmSettingsFromEnv(env: NodeJS.ProcessEnv = process.env): WarmSettings {
  const int = (name: string, dflt: number, max: number) => {
    const v = env[name];
    if (v === undefined || v === '') return dflt;
    const n = Number(v);
    if (!Number.isInteger(n) || n < 0 || n > max) throw new Error(`${name} must be a whole number from 0 to ${max} (got "${v}")`);
    return n;
  };
  return { perSpec: int('CAO_WARM_POOL', 1, 8), max: int('CAO_WARM_MAX', 4, 64), idleMs: int('CAO_WARM_IDLE_SECONDS', 600, 86_400) * 1000 };
}

/** What the pool of workers does for the spares: start one (registered, owned by nobody), stop one, and say if there is room. */
export interface SpareHost {
  startSpare(spec: WorkerSpec): Promise<Terminal>;
  startup(t: Terminal): Promise<void>;
  stop(id: string, reason: string): Promise<void>;
  /** A spare may be started without taking the place a caller's worker could need. */
  roomForSpare(): boolean;
}

interface Spare {
  terminal: Terminal;
  key: string;
  /** Since when it has been ready (0 while starting). */
  readySince: number;
}

/** After a spare failed to start, none for the same spec is tried again for this long. */
const RETRY_AFTER_FAILURE_MS = 60_000;

/**
 * The key of a spec: the profile's prompt and file count too, so an edited profile never gets a spare started from
 * the old one; and the hub's environment, which every worker inherits (a CLI setting changed there, a spare started
 * before it is not used).
 */
export function specKey(s: WorkerSpec, env: NodeJS.ProcessEnv = process.env): string {
  const hash = (text: string) => createHash('sha256').update(text).digest('hex').slice(0, 16);
  const environment = hash(JSON.stringify(Object.entries(env).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))));
  return JSON.stringify([s.providerId, s.profile.name, s.profile.file, hash(s.profile.systemPrompt), s.model ?? '', s.cwd, environment]);
}

/**
 * Warm spares: workers started ahead of need, never given any input, kept idle per spec, so that a handoff or an
 * assign of the same spec skips the CLI's start-up. A spare is fresh by construction (no task was ever typed
 * into it), so its context is clean without trusting a CLI's "new conversation" command. Spares are made after a
 * spec's first use (and after each use, to keep the count), never for a worker in a worktree (each worktree is
 * new), expire when unused, never take a caller's place under the worker cap, and one that went bad (exited, an
 * error, a dialog on its screen, anything but its ready prompt) is stopped instead of used.
 */
export class WarmSpares {
  private readonly spares = new Map<string, Spare>();
  /** Spares whose process is being made, per key: counted already, so a burst of replenish() calls makes one, not many. */
  private readonly making = new Map<string, number>();
  private readonly failedAt = new Map<string, number>();
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly host: SpareHost,
    readonly settings: WarmSettings,
  ) {
    this.timer = setInterval(() => this.expire(), Math.min(30_000, Math.max(200, settings.idleMs / 4)));
    this.timer.unref();
  }

  isSpare(id: string): boolean {
    return this.spares.has(id);
  }

  get count(): number {
    return this.spares.size;
  }

  /** A started (or still starting) spare for `spec`, no longer a spare; undefined when there is none fit to use. */
  take(spec: WorkerSpec): Terminal | undefined {
    const key = specKey(spec);
    for (const s of [...this.spares.values()]) {
      if (s.key !== key) continue;
      this.spares.delete(s.terminal.id);
      if (fitToUse(s)) return s.terminal;
      void this.host.stop(s.terminal.id, `warm spare went bad (${s.terminal.alive ? s.terminal.status : 'exited'}); replaced`);
    }
    return undefined;
  }

  /** Starts spares for `spec` until it has as many as its profile (or CAO_WARM_POOL) asks, room permitting. */
  replenish(spec: WorkerSpec): void {
    const want = spec.profile.pool ?? this.settings.perSpec;
    const key = specKey(spec);
    if (Date.now() - (this.failedAt.get(key) ?? 0) < RETRY_AFTER_FAILURE_MS) return;
    let have = (this.making.get(key) ?? 0) + [...this.spares.values()].filter((s) => s.key === key).length;
    while (have < want && this.total() < this.settings.max && this.host.roomForSpare()) {
      have++;
      void this.startOne(spec, key);
    }
  }

  private total(): number {
    let n = this.spares.size;
    for (const m of this.making.values()) n += m;
    return n;
  }

  private async startOne(spec: WorkerSpec, key: string): Promise<void> {
    let t: Terminal;
    this.making.set(key, (this.making.get(key) ?? 0) + 1);
    try {
      t = await this.host.startSpare(spec);
    } catch (e) {
      this.failedAt.set(key, Date.now());
      logger('warm').warn({ profile: spec.profile.name, error: messageOf(e) }, 'a warm spare could not be started');
      return;
    } finally {
      const n = (this.making.get(key) ?? 1) - 1;
      if (n > 0) this.making.set(key, n);
      else this.making.delete(key);
    }
    const spare: Spare = { terminal: t, key, readySince: 0 };
    this.spares.set(t.id, spare);
    try {
      await this.host.startup(t);
      spare.readySince = Date.now();
    } catch (e) {
      this.failedAt.set(key, Date.now());
      if (this.spares.delete(t.id)) await this.host.stop(t.id, `warm spare failed to start: ${messageOf(e).split('\n')[0]}`);
    }
  }

  /** Stops the oldest spare to make room for a caller's worker; false when there is none. */
  async evictOne(): Promise<boolean> {
    const oldest = [...this.spares.values()].sort((a, b) => a.terminal.createdAt - b.terminal.createdAt)[0];
    if (!oldest) return false;
    this.spares.delete(oldest.terminal.id);
    await this.host.stop(oldest.terminal.id, 'warm spare stopped to make room');
    return true;
  }

  /** A spare that ended on its own is forgotten. */
  forget(id: string): void {
    this.spares.delete(id);
  }

  private expire(): void {
    const now = Date.now();
    for (const s of [...this.spares.values()]) {
      if (s.readySince <= 0 || now - s.readySince < this.settings.idleMs) continue;
      this.spares.delete(s.terminal.id);
      void this.host.stop(s.terminal.id, `warm spare unused for ${Math.round(this.settings.idleMs / 1000)} s (CAO_WARM_IDLE_SECONDS)`);
    }
  }

  close(): void {
    clearInterval(this.timer);
  }
}

/** Alive, never typed into, and its screen still its ready prompt (or still starting up, which the taker waits for). */
function fitToUse(s: Spare): boolean {
  const t = s.terminal;
  if (!t.alive || t.submittedTurn > 0 || t.lastUserInputAt > 0) return false;
  if (s.readySince === 0) return t.status === 'starting';
  const now = t.provider.detect(t.monitor.detectSnapshot());
  return isReady(t.status) && (now === 'idle' || now === 'completed');
}
