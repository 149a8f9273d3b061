import type { JournalRow } from '../db/schema.js';
import type { Store } from '../store/types.js';
import type { JournalEntry } from './events.js';

/** What the journal's queries read: the journal and the terminals of the store. */
export type JournalStore = Pick<Store, 'journal' | 'terminals'>;

/** A run as `cao-mcp runs` lists it: its root task, how many agents, how it ended, how long it took. */
export interface RunSummary {
  runId: string;
  /** The first worker of the run (started by a supervisor or the operator). */
  rootTerminalId: string | null;
  /** How the root was started, and by whom. */
  via: 'handoff' | 'assign' | null;
  callerId: string | null;
  profile: string | null;
  provider: string | null;
  agents: number;
  /** The root's handoff or assign outcome; `running` while an agent of the run is live; `unfinished` when none is and no outcome was recorded (a crash). */
  outcome: string;
  live: boolean;
  startedAt: number;
  endedAt: number | null;
  durationMs: number;
  events: number;
}

/** One agent of a run: who started it and how, how that ended, its own timeline, and the agents it started. */
export interface TraceNode {
  terminalId: string;
  profile: string | null;
  provider: string | null;
  createdBy: string | null;
  via: 'handoff' | 'assign' | null;
  outcome: string | null;
  createdAt: number | null;
  endedAt: number | null;
  /** Rows of this terminal in the run, in the order they happened. */
  events: JournalEntry[];
  children: TraceNode[];
}

export interface Trace {
  run: RunSummary;
  /** The root (normally one: a run is one tree). */
  tree: TraceNode[];
  /** Rows of the run about terminals outside the tree (its supervisor's inbox). */
  others: JournalEntry[];
  /** The run had more rows than a trace reads (the first ones are shown). */
  truncated: boolean;
}

/** Rows read for one trace at most. */
const TRACE_MAX_ROWS = 20_000;

export function toEntry(r: JournalRow): JournalEntry {
  let detail: unknown;
  try {
    detail = JSON.parse(r.detail);
  } catch {
    detail = {};
  }
  return { id: r.id, at: r.at, type: r.type, runId: r.runId, terminalId: r.terminalId, callerId: r.callerId, detail } as JournalEntry;
}

/** The most recent runs, newest first. */
export async function listRuns(store: JournalStore, opts: { limit?: number; now?: number } = {}): Promise<RunSummary[]> {
  const limit = Math.min(Math.max(1, opts.limit ?? 20), 1000);
  const runs = await store.journal.recentRuns(limit);
  const out: RunSummary[] = [];
  for (const runId of runs) out.push(await summarise(store, runId, await lifecycleOf(store, runId), opts.now));
  return out;
}

const LIFECYCLE = ['terminal.created', 'terminal.taken', 'handoff.started', 'assign.started', 'handoff.ended', 'assign.ended', 'terminal.ended'];

async function lifecycleOf(store: JournalStore, runId: string): Promise<JournalEntry[]> {
  return (await store.journal.rowsOfRun(runId, { types: LIFECYCLE })).map(toEntry);
}

interface Member {
  terminalId: string;
  createdBy: string | null;
  profile: string | null;
  provider: string | null;
  createdAt: number | null;
}

/** The agents of a run, in the order they were started: from the journal, and from the terminals table for rows the journal lost. */
async function membersOf(store: JournalStore, runId: string, entries: JournalEntry[]): Promise<Member[]> {
  const members = new Map<string, Member>();
  for (const e of entries) {
    if ((e.type !== 'terminal.created' && e.type !== 'terminal.taken') || !e.terminalId) continue;
    const known = members.get(e.terminalId);
    // a warm spare belongs to whoever took it
    if (known && e.type === 'terminal.taken') known.createdBy = e.callerId;
    if (known) continue;
    members.set(e.terminalId, {
      terminalId: e.terminalId,
      createdBy: e.callerId,
      profile: e.detail.profile,
      provider: e.detail.provider,
      createdAt: e.at,
    });
  }
  for (const t of await store.journal.terminalsOfRun(runId))
    if (!members.has(t.id))
      members.set(t.id, { terminalId: t.id, createdBy: t.creatorId, profile: t.profile, provider: t.provider, createdAt: t.createdAt });
  return [...members.values()];
}

async function summarise(store: JournalStore, runId: string, entries: JournalEntry[], now = Date.now()): Promise<RunSummary> {
  const members = await membersOf(store, runId, entries);
  const ids = new Set(members.map((m) => m.terminalId));
  const root = members.find((m) => !m.createdBy || !ids.has(m.createdBy)) ?? members[0];
  const start = entries.find((e) => (e.type === 'handoff.started' || e.type === 'assign.started') && e.terminalId === root?.terminalId);
  const end = entries.find((e) => (e.type === 'handoff.ended' || e.type === 'assign.ended') && e.terminalId === root?.terminalId);
  const live = await store.journal.runLive(runId);
  const span = await store.journal.runSpan(runId);
  const startedAt = span.first ?? root?.createdAt ?? now;
  const endedAt = live ? null : (span.last ?? startedAt);
  return {
    runId,
    rootTerminalId: root?.terminalId ?? null,
    via: start ? (start.type === 'handoff.started' ? 'handoff' : 'assign') : null,
    callerId: start?.callerId ?? root?.createdBy ?? null,
    profile: root?.profile ?? null,
    provider: root?.provider ?? null,
    agents: members.length,
    outcome: live ? 'running' : end ? (end.detail as { outcome: string }).outcome : 'unfinished',
    live,
    startedAt,
    endedAt,
    durationMs: (endedAt ?? now) - startedAt,
    events: span.n,
  };
}

/**
 * The run an id names: a run id, a terminal (the run it belongs to), or a supervisor (the last run it started).
 * Null when it names none.
 */
export function resolveRun(store: JournalStore, id: string): Promise<string | null> {
  return store.journal.resolveRun(id);
}

/** The tree of a run (who started whom, each with its timeline), or null when `id` names no run the journal holds rows of. */
export async function readTrace(store: JournalStore, id: string, now = Date.now()): Promise<Trace | null> {
  const runId = await resolveRun(store, id);
  if (!runId) return null;
  const rows = await store.journal.rowsOfRun(runId, { limit: TRACE_MAX_ROWS + 1 });
  if (!rows.length) return null; // its rows are gone (retention): nothing to show
  const truncated = rows.length > TRACE_MAX_ROWS;
  const entries = rows.slice(0, TRACE_MAX_ROWS).map(toEntry);
  const run = await summarise(
    store,
    runId,
    entries.filter((e) => LIFECYCLE.includes(e.type)),
    now,
  );
  const members = await membersOf(store, runId, entries);
  const nodes = new Map<string, TraceNode>();
  for (const m of members) {
    const mine = entries.filter((e) => e.terminalId === m.terminalId);
    const start = mine.find((e) => e.type === 'handoff.started' || e.type === 'assign.started');
    const end = mine.find((e) => e.type === 'handoff.ended' || e.type === 'assign.ended');
    nodes.set(m.terminalId, {
      terminalId: m.terminalId,
      profile: m.profile,
      provider: m.provider,
      createdBy: m.createdBy,
      via: start ? (start.type === 'handoff.started' ? 'handoff' : 'assign') : null,
      outcome: end ? (end.detail as { outcome: string }).outcome : null,
      createdAt: m.createdAt,
      endedAt: mine.find((e) => e.type === 'terminal.ended')?.at ?? null,
      events: mine,
      children: [],
    });
  }
  const tree: TraceNode[] = [];
  for (const n of nodes.values()) {
    const parent = n.createdBy ? nodes.get(n.createdBy) : undefined;
    if (parent && parent !== n) parent.children.push(n);
    else tree.push(n);
  }
  const others = entries.filter((e) => !e.terminalId || !nodes.has(e.terminalId));
  return { run, tree, others, truncated };
}

/** The agents of a run, flat (for the ownership check: a caller sees a run it is in). */
export function agentsOf(t: Trace): string[] {
  const out: string[] = [];
  const walk = (n: TraceNode) => {
    out.push(n.terminalId);
    n.children.forEach(walk);
  };
  t.tree.forEach(walk);
  return out;
}

/** A handoff or assign whose start is journalled and whose end is not. */
export interface OpenDelegation {
  via: 'handoff' | 'assign';
  terminalId: string;
  callerId: string;
  at: number;
}

/**
 * The delegations of these terminals that began and never ended in the journal: what a hub that died (or stopped,
 * leaving its workers to the next) was still waiting on. The next hub ends or resumes them (flows/resume.ts).
 */
export async function openDelegations(store: JournalStore, terminalIds: readonly string[]): Promise<OpenDelegation[]> {
  if (!terminalIds.length) return [];
  const rows = await store.journal.delegationRows(terminalIds);
  const open = new Map<string, OpenDelegation>();
  for (const r of rows) {
    if (!r.terminalId) continue;
    const [via, what] = r.type.split('.') as ['handoff' | 'assign', string];
    const key = `${via}:${r.terminalId}`;
    if (what === 'started' && r.callerId) open.set(key, { via, terminalId: r.terminalId, callerId: r.callerId, at: r.at });
    else open.delete(key);
  }
  return [...open.values()];
}
