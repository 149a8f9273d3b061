import { randomBytes } from 'node:crypto';
import { createBus, type Bus } from '../bus/bus.js';
import { DeliveryService } from '../inbox/delivery.js';
import { openDatabase, type CaoDb } from '../inbox/db.js';
import { InboxStore } from '../inbox/store.js';
import { HubHttpServer } from './http-server.js';
import { TokenRegistry } from './http-auth.js';
import { Orchestrator } from './orchestrator.js';
import { limitsFromEnv, type Limits } from './limits.js';
import { removeHubRecord, writeHubRecord, type HubRecord } from './hub-record.js';
import { newToken } from './worker-env.js';
import { dashboardRoutes } from '../dashboard/routes.js';
import { dashboardBanner } from '../dashboard/banner.js';

/** How long after a person's last key cao-mcp waits before typing a message into that agent. */
const USER_TYPING_HOLD_MS = 3000;

export interface HubOptions {
  mode: HubRecord['mode'];
  /** Port for the loopback HTTP front (0 = any free port). */
  port?: number;
  host?: string;
  /** Token admitting external clients; random when not given. */
  clientToken?: string;
  dbFile?: string;
  sweepMs?: number;
  /** Caps (default: limitsFromEnv()). */
  limits?: Limits;
}

/**
 * The process that owns the ptys, the database and the bus. Workers' own `cao-mcp` processes reach it
 * over loopback HTTP with their per-terminal tokens.
 */
export class Hub {
  /** `<pid>.<random>`: another hub sharing the database can tell whether this one still runs. */
  readonly id = `${process.pid}.${randomBytes(4).toString('hex')}`;
  readonly bus: Bus = createBus();
  readonly db: CaoDb;
  readonly store: InboxStore;
  readonly orch: Orchestrator;
  readonly http: HubHttpServer;
  readonly tokens: TokenRegistry;
  readonly clientToken: string;
  readonly limits: Limits;
  private readonly delivery: DeliveryService;
  private stopped: Promise<void> | null = null;

  constructor(private readonly opts: HubOptions) {
    this.limits = opts.limits ?? limitsFromEnv();
    this.clientToken = opts.clientToken ?? newToken();
    this.tokens = new TokenRegistry(this.clientToken);
    this.db = openDatabase(opts.dbFile);
    this.store = new InboxStore(this.db, this.bus);
    this.orch = new Orchestrator({
      bus: this.bus,
      store: this.store,
      hubId: this.id,
      hubUrl: () => this.http.url(),
      authorize: (t, id) => this.tokens.authorizeWorker(t, id),
      // A worker that ended loses its token and every MCP session it had open.
      revoke: (t) => {
        const id = this.tokens.revoke(t);
        if (id) this.http.closeSessionsOf(id);
      },
      limits: this.limits,
    });
    this.http = new HubHttpServer(this.orch, this.tokens, this.limits);
    // The dashboard (web page + the API `cao-mcp ls/attach/inbox` use), behind the client token.
    const startedAt = Date.now();
    this.http.addRoutes(
      dashboardRoutes({
        bus: this.bus,
        store: this.store,
        orch: this.orch,
        hub: () => ({
          hubId: this.id,
          pid: process.pid,
          mode: opts.mode,
          url: this.url,
          startedAt,
          cwd: process.cwd(),
          mcpSessions: this.http.sessionCount,
        }),
      }),
    );
    this.delivery = new DeliveryService(
      this.bus,
      this.store,
      {
        // A person typing into the agent (launch, attach --write, dashboard) holds deliveries off; the sweep retries.
        status: (id) => {
          const t = this.orch.terminal(id);
          return t?.userTypedWithin(USER_TYPING_HOLD_MS) ? 'processing' : t?.status;
        },
        submit: (id, m) => this.orch.typeMessage(id, m),
      },
      { sweepMs: opts.sweepMs },
    );
  }

  get url(): string {
    return this.http.url();
  }

  async start(): Promise<this> {
    const rec = this.orch.recover();
    if (rec.endedTerminals.length)
      process.stderr.write(
        `cao-mcp: cleaned up after a previous hub: ${rec.endedTerminals.length} worker(s) ended, ${rec.failedMessages} message(s) failed\n`,
      );
    await this.http.listen(this.opts.port ?? 0, this.opts.host ?? '127.0.0.1');
    this.delivery.start();
    writeHubRecord({
      hubId: this.id,
      pid: process.pid,
      url: this.url,
      token: this.clientToken,
      mode: this.opts.mode,
      startedAt: Date.now(),
      cwd: process.cwd(),
    });
    process.stderr.write(dashboardBanner(this.opts.mode, this.url, this.clientToken));
    return this;
  }

  /** Ends every worker (their process groups), closes the front and the database. Idempotent. */
  stop(): Promise<void> {
    this.stopped ??= (async () => {
      removeHubRecord(process.pid);
      await this.delivery.stop();
      await this.orch.shutdown();
      await this.http.close();
      this.store.flush(); // messages still waiting for their group commit are stored (and answered) first
      this.db.close();
    })();
    return this.stopped;
  }
}
