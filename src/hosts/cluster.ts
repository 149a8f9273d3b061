import type { Caller } from '../registry/ownership.js';
import { CaoError } from '../util/errors.js';
import type { HostNode } from './node.js';

/** The calls one hub carries out for another (see `Cluster.handler`), with what each carries. */
export const REMOTE_KINDS = ['handoff', 'assign', 'read_output', 'answer_question', 'stop_agent'] as const;
export type RemoteKind = (typeof REMOTE_KINDS)[number];

/** What a hub needs of its own flows to carry out another host's call (flows/flows.ts `Flows` is one). */
export interface LocalFlows {
  run(kind: RemoteKind, caller: Caller, args: Record<string, unknown>): Promise<unknown>;
}

export interface ClusterOptions {
  node: HostNode;
  /** The hub id a worker's row names (its owner), or undefined when there is no such worker. */
  hubOf: (terminalId: string) => Promise<string | null | undefined>;
}

/** A caller as another host sees it: who it is; its working directory is a path on its own machine, not there. */
function portable(caller: Caller): Caller {
  return { id: caller.id, kind: caller.kind };
}

/**
 * A hub's part in many hosts: where a new worker goes (placement), and calls about a worker carried out by the hub
 * that owns it (a hub types only into its own workers). Between hubs there is only the database (HostNode).
 */
export class Cluster {
  private flows: LocalFlows | null = null;

  constructor(private readonly opts: ClusterOptions) {}

  get host(): string {
    return this.opts.node.name;
  }

  get node(): HostNode {
    return this.opts.node;
  }

  /** The flows that carry out what other hosts ask of this one. */
  serve(flows: LocalFlows): void {
    this.flows = flows;
  }

  /** What a request from another host runs here (HostNode's handler). */
  handler = async (kind: string, payload: unknown): Promise<unknown> => {
    if (!this.flows) throw new CaoError('shutting_down', `host ${this.host} is not ready for calls yet`);
    if (!(REMOTE_KINDS as readonly string[]).includes(kind)) throw new CaoError('bad_request', `host ${this.host} does not carry out "${kind}"`);
    const p = payload as { caller?: Caller; args?: Record<string, unknown> } | null;
    if (!p?.caller?.id || !p.args) throw new CaoError('bad_request', `a "${kind}" call without its caller or arguments`);
    return this.flows.run(kind as RemoteKind, portable(p.caller), p.args);
  };

  /**
   * A slot for a new worker: the host asked for, or the one placement picks (a live host with room, the profile's
   * labels first, then the lowest load). `local`: it is this one. The caller gives the slot back with `release`.
   */
  async place(host: string | undefined, labels: string[] | undefined): Promise<{ host: string; local: boolean }> {
    if (!this.opts.node.canAct()) throw new CaoError('lease_lost', `host ${this.host} has lost its lease on the database; it starts nothing`);
    const row = await this.opts.node.reserve({ host, labels });
    return { host: row.name, local: row.name === this.host };
  }

  release(host: string, started: boolean): Promise<void> {
    return this.opts.node.release(host, started);
  }

  /** Runs `kind` on `host` for `caller` (a handoff or assign placed there). */
  on<T>(host: string, kind: RemoteKind, caller: Caller, args: Record<string, unknown>, timeoutMs: number): Promise<T> {
    return this.opts.node.call<T>(host, kind, { caller: portable(caller), args }, timeoutMs);
  }

  /**
   * Runs `kind` about `terminalId` on the host whose hub owns it. Refused when no live host owns it (its hub is gone
   * and no hub took its host since: the worker is dead or about to be declared so).
   */
  async about<T>(terminalId: string, kind: RemoteKind, caller: Caller, args: Record<string, unknown>, timeoutMs = 30_000): Promise<T> {
    const hubId = await this.opts.hubOf(terminalId);
    if (!hubId) throw new CaoError('not_found', `no agent with terminal id "${terminalId}"`);
    const host = await this.opts.node.hostOfHub(hubId);
    if (!host) throw new CaoError('host_dead', `agent ${terminalId} ran under hub ${hubId}, which no host runs any more`);
    if (host === this.host) throw new CaoError('not_here', `agent ${terminalId} is not running in this hub`);
    return this.on<T>(host, kind, caller, args, timeoutMs);
  }
}
