import type { Bus } from '../bus/bus.js';
import type { PtyHostClient } from '../ptyhost/client.js';
import type { TerminalRegistry } from '../registry/terminals.js';
import type { Worktrees } from '../worktrees/worktrees.js';
import type { Limits } from './limits.js';
import type { WarmSettings } from './warm.js';

/** What the worker pool (workers.ts) is made with: the hub's parts it needs, its caps, and its many-hosts rules. */
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
  /** The worktrees of workers (handoff/assign with `worktree`); without it such a request is refused. */
  worktrees?: Worktrees;
  /** The warm pool's settings (default: from CAO_WARM_POOL, CAO_WARM_MAX, CAO_WARM_IDLE_SECONDS). */
  warm?: WarmSettings;
  /** Why nothing may be typed into the workers now, or null (see TerminalInit.typingGate). */
  typingGate?: () => string | null;
  /**
   * Whether a worker row under `hubId` was this machine's previous hub's, whose live workers are this hub's to adopt
   * or end. Default (one machine): every hub id whose process no longer runs here. Many hosts: only the hub that held
   * this host's row before (another machine's hubs are not this one's to judge).
   */
  previousHub?: (hubId: string | null) => boolean;
}
