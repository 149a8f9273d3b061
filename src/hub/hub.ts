import { randomBytes } from 'node:crypto';
import { announce, createBus, type Bus } from '../bus/bus.js';
import { dashboardBanner } from '../dashboard/banner.js';
import { dashboardRoutes } from '../dashboard/routes.js';
import { adoptWorkers, type AdoptResult } from '../flows/adopt.js';
import { Flows } from '../flows/flows.js';
import { limitsFromEnv, type Limits } from '../flows/limits.js';
import { resumeDelegations } from '../flows/resume.js';
import { newToken } from '../flows/worker-env.js';
import { WorkerPool } from '../flows/workers.js';
import { DeliveryService } from '../inbox/delivery.js';
import { MessageQueue } from '../inbox/messages.js';
import { Journal } from '../journal/journal.js';
import { retentionFromEnv } from '../journal/retention.js';
import { TokenRegistry } from '../mcp/http/auth.js';
import { HubHttpServer } from '../mcp/http/server.js';
import { PtyHostClient } from '../ptyhost/client.js';
import { TerminalRegistry } from '../registry/terminals.js';
import { openStore } from '../store/open.js';
import { openSqliteStore } from '../store/sqlite/index.js';
import { Cluster } from '../hosts/cluster.js';
import { hostConfig, type HostConfig } from '../hosts/config.js';
import { HostNode } from '../hosts/node.js';
import type { Store } from '../store/types.js';
import { startTelemetry, type Telemetry } from '../telemetry/index.js';
import { CaoError, messageOf } from '../util/errors.js';
import { VERSION } from '../util/version.js';
import { Worktrees } from '../worktrees/worktrees.js';
import { removeHubRecord, writeHubRecord, type HubRecord } from './hub-record.js';
import { flushLog, logger } from '../util/log.js';

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
  /**
   * Durable: the workers' ptys live in the pty host of this CAO_HOME (started when absent), so they outlive this
   * process; at start this hub adopts the workers a previous one left (flows/adopt.ts).
   */
  durable?: boolean;
  /** The store (Hub.open opens it: PostgreSQL when CAO_DATABASE_URL is set); default the SQLite file `dbFile`. */
  store?: Store;
  /**
   * Many hosts (a PostgreSQL store): this machine's name, capacity and labels (Hub.open reads them from the flags
   * given and CAO_HOST_*), and the database URL its host lease uses.
   */
  cluster?: { config: HostConfig; databaseUrl: string };
}

/**
 * The composition root: the one place where the parts are made and wired together. The process that owns the
 * ptys, the database and the bus; workers' own `cao-mcp` processes reach it over loopback HTTP with their
 * per-terminal tokens.
 */
export class Hub {
  /** `<pid>.<random>`: another hub sharing the database can tell whether this one still runs. */
  readonly id = `${process.pid}.${randomBytes(4).toString('hex')}`;
  readonly bus: Bus = createBus();
  readonly store: Store;
  readonly journal: Journal;
  readonly registry: TerminalRegistry;
  readonly inbox: MessageQueue;
  readonly pool: WorkerPool;
  readonly flows: Flows;
  readonly http: HubHttpServer;
  readonly tokens: TokenRegistry;
  readonly worktrees: Worktrees;
  readonly clientToken: string;
  readonly limits: Limits;
  private readonly delivery: DeliveryService;
  private stopped: Promise<void> | null = null;
  private host: Promise<PtyHostClient> | null = null;
  /** The OpenTelemetry export of runs, when it is on (off by default: telemetry/config.ts). */
  private telemetry: Telemetry | null = null;
  /** What re-adoption did at start (durable mode). */
  adoption: AdoptResult | null = null;
  /** Many hosts (a PostgreSQL store): this machine's lease and calls, and the hub's part in placement. */
  private node: HostNode | null = null;
  private cluster: Cluster | null = null;
  private stopWatch: (() => Promise<void>) | null = null;

  constructor(private readonly opts: HubOptions) {
    this.limits = opts.limits ?? limitsFromEnv();
    this.clientToken = opts.clientToken ?? newToken();
    this.tokens = new TokenRegistry(this.clientToken);
    this.store = opts.store ?? openSqliteStore(opts.dbFile);
    // The run journal listens first: what it records of one event comes before what the others make of it.
    this.journal = new Journal(this.store, this.bus);
    this.registry = new TerminalRegistry(this.store, this.bus);
    this.inbox = new MessageQueue(this.registry);
    this.worktrees = new Worktrees(this.store);
    this.pool = new WorkerPool({
      bus: this.bus,
      registry: this.registry,
      hubId: this.id,
      hubUrl: () => this.http.url(),
      authorize: (t, id) => this.tokens.authorizeWorker(t, id),
      // A worker that ended loses its token and every MCP session it had open.
      revoke: (t) => {
        const id = this.tokens.revoke(t);
        if (id) this.http.closeSessionsOf(id);
      },
      limits: this.limits,
      ptyHost: opts.durable ? () => this.ptyHost() : undefined,
      worktrees: this.worktrees,
      // many hosts: nothing is typed without a valid lease (it could not be recorded), and only this host's previous
      // hub's workers are this one's to adopt or end
      typingGate: () => (this.node && !this.node.canAct() ? `host ${this.node.name} holds no valid lease on the database` : null),
      previousHub: opts.cluster ? (h) => h !== null && h === this.node?.previousHubId : undefined,
    });
    this.flows = new Flows({ bus: this.bus, registry: this.registry, inbox: this.inbox, pool: this.pool, journal: this.journal });
    this.http = new HubHttpServer(this.flows, this.tokens, this.limits);
    // The dashboard (web page + the API `cao-mcp ls/attach/inbox` use), behind the client token.
    const startedAt = Date.now();
    this.http.addRoutes(
      dashboardRoutes({
        flows: this.flows,
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
      this.inbox,
      {
        // A person typing into the agent (launch, attach --write, dashboard) holds deliveries off; the sweep retries.
        status: (id) => {
          const t = this.pool.get(id);
          // without a valid lease this hub claims nothing (another may be failing this worker's mail)
          if (t && this.pool.typingGate()) return 'processing';
          return t?.userTypedWithin(USER_TYPING_HOLD_MS) ? 'processing' : t?.status;
        },
        submit: (id, m) => this.flows.typeMessage(id, m),
      },
      { sweepMs: opts.sweepMs },
    );
  }

  get url(): string {
    return this.http.url();
  }

  /**
   * A hub on the store the environment names: PostgreSQL when CAO_DATABASE_URL is set (then one host among many, its
   * settings from `host` and CAO_HOST_*), else the SQLite file. Bad settings and an unreachable database are refused
   * here, before anything is started.
   */
  static async open(opts: HubOptions & { hostFlags?: { name?: string; capacity?: string; labels?: string } }, env = process.env): Promise<Hub> {
    const url = env.CAO_DATABASE_URL?.trim();
    if (!url) {
      if (opts.hostFlags && Object.values(opts.hostFlags).some((v) => v !== undefined))
        throw new CaoError(
          'bad_request',
          '--host-name, --capacity and --labels need CAO_DATABASE_URL=postgres://… (the hosts share one PostgreSQL database)',
        );
      return new Hub(opts);
    }
    const config = hostConfig((opts.limits ?? limitsFromEnv()).maxWorkers, opts.hostFlags, env);
    const store = opts.store ?? (await openStore({ env }));
    return new Hub({ ...opts, store, cluster: { config, databaseUrl: url } });
  }

  /** This machine among many (a PostgreSQL store), once started. */
  get hostName(): string | null {
    return this.node?.name ?? null;
  }

  /** Joins the hosts sharing the database: takes this host's name (its lease), serves the others' calls, watches them. */
  private async joinHosts(c: NonNullable<HubOptions['cluster']>): Promise<void> {
    const node = new HostNode({
      url: c.databaseUrl,
      name: c.config.name,
      hubId: this.id,
      capacity: c.config.capacity,
      labels: c.config.labels,
      ttlMs: c.config.ttlMs,
      graceMs: c.config.graceMs,
      workers: () => this.pool.live().length,
      handler: (kind, payload) => this.cluster!.handler(kind, payload),
      endWorkersOf: (hubId, reason) => this.endWorkersOf(hubId, reason),
      onRejoined: () => void this.afterRejoin(),
    });
    this.node = node;
    this.cluster = new Cluster({ node, hubOf: async (id) => (await this.registry.getTerminal(id))?.hubId });
    this.cluster.serve(this.flows);
    this.flows.useCluster(this.cluster);
    await node.start();
  }

  /** A dead host's workers (rows of its last hub): ended, their mail failed with the reason, what was being typed too. */
  private async endWorkersOf(hubId: string, reason: string): Promise<number> {
    let n = 0;
    for (const row of await this.registry.listTerminals({ kind: 'worker', hubId })) {
      if (!(await this.registry.endTerminal(row.id, 'exited', reason))) continue;
      await this.inbox.failInFlight(row.id, `receiver ${row.id} ended (exited): ${reason}; a message being typed into it may have been partly typed`);
      n++;
    }
    return n;
  }

  /** Back on the database after a cut: workers the others ended meanwhile (past the grace) are stopped here too. */
  private async afterRejoin(): Promise<void> {
    for (const t of this.pool.live()) {
      const row = await this.registry.getTerminal(t.id).catch(() => undefined);
      if (row && row.endedAt !== null)
        await this.pool.stop(t.id, `ended by the other hosts while this one was cut off: ${row.lastError ?? ''}`).catch(() => undefined);
    }
    this.delivery.sweep();
  }

  /** The pty host (durable mode), connected (and started) on first use, and again after it went away. */
  ptyHost(): Promise<PtyHostClient> {
    this.host ??= PtyHostClient.connect({
      start: true,
      onClose: (why) => {
        logger('hub').error({ why }, 'lost the pty host; its workers ended with it');
        this.host = null;
      },
    }).catch((e: Error) => {
      this.host = null;
      throw e;
    });
    return this.host;
  }

  async start(): Promise<this> {
    // Its consumer reads rows on the bus, in the tick of the event: the registry's rows as it last wrote or read them.
    this.telemetry = await startTelemetry(this.bus, (id) => this.registry.cached(id));
    // many hosts: this host's name first (refused while another live hub holds it); it says whose workers are ours
    if (this.opts.cluster) await this.joinHosts(this.opts.cluster);
    announce(this.bus, 'hub:started', { hubId: this.id, pid: process.pid, mode: this.opts.mode, version: VERSION });
    if (this.opts.durable) {
      const r = await adoptWorkers({ registry: this.registry, inbox: this.inbox, pool: this.pool, host: await this.ptyHost() });
      this.adoption = r;
      await this.resume({ adopted: r.adopted, ended: r.ended });
      if (r.adopted.length || r.ended.length) {
        announce(this.bus, 'hub:recovered', { hubId: this.id, adopted: r.adopted.length, ended: r.ended.length, failedMessages: 0 });
        logger('hub').info(
          { adopted: r.adopted.length, ended: r.ended.length, ms: r.ms, inFlight: r.inFlight },
          `adopted ${r.adopted.length} worker(s) from the pty host in ${r.ms} ms (${r.ended.length} ended; in flight: ${r.inFlight.delivered} delivered, ${r.inFlight.finished} finished, ${r.inFlight.requeued} requeued)`,
        );
      }
    } else {
      const rec = await this.pool.recover();
      await this.resume({ adopted: [], ended: rec.endedTerminals });
      if (rec.endedTerminals.length) {
        announce(this.bus, 'hub:recovered', { hubId: this.id, adopted: 0, ended: rec.endedTerminals.length, failedMessages: rec.failedMessages });
        logger('hub').info(
          { ended: rec.endedTerminals.length, failedMessages: rec.failedMessages },
          `cleaned up after a previous hub: ${rec.endedTerminals.length} worker(s) ended, ${rec.failedMessages} message(s) failed`,
        );
      }
    }
    // Journal retention (by age and by size, never a live run's rows): now, after the recovery ended what it ended, and hourly.
    await this.journal.startRetention(retentionFromEnv());
    // Worktrees of workers that ended while no hub ran (a crash): settled now, as their workers' end would have.
    void this.worktrees
      .settleOrphans(async (id) => (await this.registry.getTerminal(id))?.endedAt === null)
      .catch((e: Error) => logger('worktrees').warn({ error: e.message }, 'could not settle the worktrees of ended workers'));
    await this.http.listen(this.opts.port ?? 0, this.opts.host ?? '127.0.0.1');
    this.delivery.start();
    // mail other hubs stored for this one's workers and supervisors: a wake-up instead of the next sweep
    if (this.store.watchMail)
      this.stopWatch = await this.store.watchMail((receiverId) => {
        this.delivery.kick(receiverId);
        announce(this.bus, 'mail:arrived', { receiverId });
      });
    writeHubRecord({
      hubId: this.id,
      pid: process.pid,
      url: this.url,
      token: this.clientToken,
      mode: this.opts.mode,
      startedAt: Date.now(),
      cwd: process.cwd(),
    });
    logger('hub').info({ mode: this.opts.mode, url: this.url, version: VERSION, hubId: this.id }, 'hub started');
    // A person reads this one (a daemon has no terminal: its stderr is a file, so it gets the log line only).
    if (this.opts.mode !== 'daemon') process.stderr.write(dashboardBanner(this.opts.mode, this.url, this.clientToken));
    return this;
  }

  /** Closes or resumes, as the journal tells, the handoffs and assigns of workers a previous hub ran. */
  private async resume(workers: { adopted: string[]; ended: string[] }): Promise<void> {
    try {
      await resumeDelegations({ bus: this.bus, registry: this.registry, inbox: this.inbox, pool: this.pool }, this.store, workers);
    } catch (e) {
      logger('hub').error({ error: messageOf(e) }, 'could not resume the delegations of a previous hub');
    }
  }

  /**
   * Ends every worker (their process groups), closes the front and the database. Idempotent. `keepWorkers`
   * (durable mode): the workers run on in the pty host for the next hub to adopt (an upgrade, a restart).
   */
  stop(opts: { keepWorkers?: boolean } = {}): Promise<void> {
    this.stopped ??= (async () => {
      removeHubRecord(process.pid);
      const keepWorkers = Boolean(opts.keepWorkers && this.opts.durable);
      announce(this.bus, 'hub:stopped', { hubId: this.id, keepWorkers, workers: this.pool.live().length });
      this.flows.close();
      await this.stopWatch?.().catch(() => undefined);
      await this.delivery.stop();
      if (keepWorkers) this.pool.detachAll();
      await this.pool.shutdown();
      await this.http.close();
      await this.inbox.flush(); // messages still waiting for their group commit are stored (and answered) first
      await this.worktrees.idle();
      await this.journal.close(); // and the journal's last batch
      await this.telemetry?.shutdown(opts.keepWorkers && this.opts.durable ? 'hub stopped; workers left running' : undefined);
      // a clean stop frees this host's name at once (its workers ended with it, or run on for the next hub to adopt)
      await this.node?.stop({ release: true, reason: keepWorkers ? 'its hub stopped; its workers run on for the next' : 'its hub stopped' });
      await this.store.close();
      if (this.host) (await this.host.catch(() => null))?.close();
      logger('hub').info({ keepWorkers: Boolean(opts.keepWorkers) }, 'hub stopped');
      await flushLog();
    })();
    return this.stopped;
  }
}
