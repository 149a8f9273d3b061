import { parseArgs } from 'node:util';
import type { AgentView } from '../dashboard/views.js';
import type { HubInfo } from '../dashboard/routes.js';
import type { HostView } from '../flows/index.js';
import { findHubs, HubClient, HubError, NO_HUB } from './hub-client.js';
import { ago, paint, table, useColour } from './table.js';

export const LS_HELP = `Usage: cao-mcp ls [--all] [--json] [--hub <url|port|pid>]

Lists the agents of the running hub(s): id, profile, provider, status, creator (or "warm spare"),
age, the messages waiting for them, and the branch of any in a git worktree (kept ones: see
cao-mcp worktrees). Agents stuck on a question are flagged, with the question. With hubs on many
machines sharing one PostgreSQL (CAO_DATABASE_URL): every host, and each agent's HOST.
  --all     include agents that have ended
  --json    {"hubs": [...], "agents": [...]} for scripts
  --hub     only this hub (when several run)`;

export async function runLs(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: { json: { type: 'boolean' }, all: { type: 'boolean', short: 'a' }, hub: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
    strict: true,
  });
  if (values.help) return void process.stdout.write(`${LS_HELP}\n`);
  const records = findHubs({ hub: values.hub });
  if (!records.length) throw new HubError(NO_HUB, 0);
  const hubs: HubInfo[] = [];
  const byId = new Map<string, LsAgent>();
  let hosts: HostView[] | null = null;
  for (const r of records) {
    let res;
    try {
      res = await new HubClient(r).agents({ all: values.all });
    } catch (e) {
      process.stderr.write(`cao-mcp: hub ${r.url} (pid ${r.pid}) did not answer: ${(e as Error).message}\n`);
      continue;
    }
    hubs.push(res.hub);
    hosts ??= res.hosts ?? null;
    for (const a of res.agents) {
      if (a.kind !== 'worker' || (a.endedAt && !values.all)) continue;
      // Hubs under one CAO_HOME share the database; the one that owns the pty knows the live status.
      const prev = byId.get(a.id);
      if (!prev || (a.live && !prev.live)) byId.set(a.id, { ...a, hub: a.live ? res.hub.url : null });
    }
  }
  if (!hubs.length) throw new HubError('no running hub answered', 0);
  const agents = [...byId.values()].sort((x, y) => x.createdAt - y.createdAt || x.id.localeCompare(y.id));
  if (values.json) return void process.stdout.write(`${JSON.stringify({ hubs, ...(hosts ? { hosts } : {}), agents }, null, 2)}\n`);
  process.stdout.write(formatAgents(hubs, agents, useColour(), hosts));
}

function hostLine(h: HostView, p: ReturnType<typeof paint>): string {
  const state = h.state === 'live' ? p.green(h.state) : h.state === 'stopped' ? p.dim(h.state) : p.red(h.state);
  const labels = h.labels.length ? `  labels ${h.labels.join(',')}` : '';
  return `host ${h.name}${h.self ? ' (this one)' : ''}  ${state}  ${h.workers}/${h.capacity} workers${labels}${h.reason ? `  ${p.dim(h.reason)}` : ''}`;
}

/** An agent as `ls` reports it: plus the hub that runs it (null when it has ended). */
export type LsAgent = AgentView & { hub: string | null };

/** The `ls` table, with every waiting agent's question spelled out under it. */
export function formatAgents(hubs: HubInfo[], agents: LsAgent[], colour: boolean, hosts: HostView[] | null = null): string {
  const p = paint(colour);
  let out = hubs.map((h) => p.dim(`hub ${h.url}  (${h.mode}, pid ${h.pid})`)).join('\n') + '\n';
  // many hosts: every host sharing the database, then a HOST column
  if (hosts) out += hosts.map((h) => hostLine(h, p)).join('\n') + '\n';
  if (!agents.length) return out + 'no agents\n';
  const multi = hubs.length > 1;
  const trees = agents.some((a) => a.worktree);
  const rows = agents.map((a) => {
    const waiting = a.status === 'waiting_user_answer' && !a.endedAt;
    const status = waiting ? p.bold(p.yellow('⚠ WAITING FOR ANSWER')) : colourStatus(a.status, p);
    const pending = a.pending ? p.yellow(String(a.pending)) : '0';
    const row = [a.id, a.profile ?? '', a.provider ?? '', status, a.warm ? p.dim('warm spare') : (a.creator ?? ''), ago(a.ageSeconds), pending];
    if (trees) row.push(a.worktree ? `${a.worktree.branch}${a.worktree.state === 'active' ? '' : ` (${a.worktree.state})`}` : '');
    if (multi) row.push(a.hub ? new URL(a.hub).port : '');
    if (hosts) row.push(a.host ?? '');
    return row;
  });
  const header = [
    'ID',
    'PROFILE',
    'PROVIDER',
    'STATUS',
    'CREATOR',
    'AGE',
    'PENDING',
    ...(trees ? ['WORKTREE'] : []),
    ...(multi ? ['HUB'] : []),
    ...(hosts ? ['HOST'] : []),
  ];
  out += table(header, rows, p);
  const waiting = agents.filter((a) => a.status === 'waiting_user_answer' && !a.endedAt);
  for (const a of waiting) {
    out += `\n${p.bold(p.yellow(`⚠ ${a.id} (${a.profile ?? '?'}) is waiting for an answer:`))}\n`;
    out += (a.question ?? '(the question could not be read; see `cao-mcp attach ' + a.id + '`)')
      .split('\n')
      .map((l) => `    ${l}`)
      .join('\n');
    out += `\n  ${p.dim(`answer it in the dashboard (cao-mcp dashboard), with answer_question("${a.id}", …), or: cao-mcp attach ${a.id} --write`)}\n`;
  }
  return out;
}

function colourStatus(s: string, p: ReturnType<typeof paint>): string {
  if (s === 'processing') return p.blue(s);
  if (s === 'completed' || s === 'idle') return p.green(s);
  if (s === 'error') return p.red(s);
  if (s === 'exited') return p.dim(s);
  return s;
}
