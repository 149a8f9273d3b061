// Many machines (issue 17): three hosts, each a network namespace joined to this one by a veth pair
// (tests/support/netns.ts), each running its own stdio front, daemon hub and pty host, all sharing one real
// PostgreSQL server that listens on the hosts' links only. Where a namespace cannot be made (not root), the three hubs
// run here with separate CAO_HOMEs and each reaches the database through a TCP proxy a test can cut instead; the
// first line of the output says which ran.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { promisify } from 'node:util';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, startCao, stopEverything, textOf, type CaoSession } from './support/cao-client.js';
import { makeHosts, netnsUnavailable, type NetHosts } from './support/netns.js';
import { startPostgres, type PgServer } from './support/postgres.js';
import { pidAlive, pidsWithEnv, waitFor } from './support/procs.js';
import { readRecord } from './support/record.js';
import { tcpProxy, type TcpProxy } from './support/tcp-proxy.js';

const execFileAsync = promisify(execFile);
const HOSTS = ['h1', 'h2', 'h3'] as const;
type HostName = (typeof HOSTS)[number];
const SCRIPT = {
  rules: [
    { match: 'slow task', answer: 'SLOW-DONE', delayMs: 1500 },
    { match: 'long task', answer: 'LONG-DONE', delayMs: 6000 },
    {
      match: 'ask first',
      answer: 'no answer',
      delayMs: 200,
      question: { text: 'Allow write to out.txt?', options: ['Yes', 'No'], answers: { '1': 'WROTE-IT', '2': 'LEFT-IT' } },
    },
  ],
  default: { answer: 'ok: {{input}}' },
};
const LEASE_MS = 1500;

interface Host {
  name: HostName;
  home: string;
  record: string;
  env: Record<string, string>;
  session: CaoSession;
  /** Takes its link to the database down (ip link down, or the proxy cut), and back up. */
  cut(): Promise<void> | void;
  heal(): Promise<void> | void;
}

let pgServer: PgServer;
let net: NetHosts | null = null;
const proxies: TcpProxy[] = [];
const hosts = new Map<HostName, Host>();
let dbName = '';
const mode = netnsUnavailable() ? `separate hubs on loopback (${netnsUnavailable()})` : 'network namespaces joined by veth pairs';

const host = (n: HostName) => hosts.get(n)!;
/** waitFor that fails the test when the condition never held (with what it last saw). */
async function until<T>(fn: () => T | Promise<T>, ok: (v: T) => boolean, ms: number): Promise<T> {
  const v = await waitFor(fn, ok, ms);
  if (!ok(v)) throw new Error(`not so after ${ms} ms: ${fn.toString().slice(0, 160)} → ${JSON.stringify(v)?.slice(0, 400)}`);
  return v;
}
const sc = <T>(r: Awaited<ReturnType<CaoSession['call']>>): T => {
  expect(r.isError, textOf(r)).toBeFalsy();
  return r.structuredContent as T;
};
const daemonPid = (h: Host) => Number(readFileSync(join(h.home, 'hubd.pid'), 'utf8').trim());
const ptyHostPid = (h: Host) => Number((JSON.parse(readFileSync(join(h.home, 'ptyhost.groups.json'), 'utf8')) as { host: number }).host);
/** A receiver's messages as the shared database holds them (the test reads it on loopback). */
async function mailOf(receiver: string): Promise<{ id: number; status: string; error: string | null }[]> {
  const c = new pg.Client({ connectionString: `postgres://cao@127.0.0.1:${pgServer.port}/${dbName}` });
  await c.connect();
  try {
    return (await c.query('select id, status, error from messages where receiver_id = $1 order by id', [receiver])).rows;
  } finally {
    await c.end();
  }
}
/** What was typed into a mock worker, in order. */
const received = (h: Host, terminal: string) =>
  readRecord(h.record)
    .filter((r) => r.event === 'input' && r.terminal === terminal)
    .map((r) => r.text ?? '');
/** The bodies of the messages typed into it that are tagged `<tag>-<n>` (each arrives wrapped in its sender's header). */
const tagged = (h: Host, terminal: string, tag: string) => received(h, terminal).flatMap((t) => new RegExp(`\\b(${tag}-\\d+)\\b`).exec(t)?.[1] ?? []);

async function startHost(name: HostName, i: number, extraEnv: Record<string, string> = {}): Promise<Host> {
  const home = mkdtempSync(join(tmpdir(), `cao-${name}-`));
  const record = join(home, 'mock-record.jsonl');
  const nh = net?.hosts[i];
  let url: string;
  let cut: Host['cut'];
  let heal: Host['heal'];
  if (nh) {
    url = `postgres://cao@${nh.gateway}:${pgServer.port}/${dbName}`;
    cut = () => nh.cut();
    heal = () => nh.heal();
  } else {
    const p = await tcpProxy(pgServer.port);
    proxies.push(p);
    url = `postgres://cao@127.0.0.1:${p.port}/${dbName}`;
    cut = () => p.cut();
    heal = () => p.heal();
  }
  const env = {
    CAO_DATABASE_URL: url,
    CAO_HOST_NAME: name,
    CAO_HOST_CAPACITY: '4',
    CAO_HOST_LEASE_MS: String(LEASE_MS),
    CAO_HOST_GRACE_MS: '2000',
    CAO_SUPERVISOR_ID: `sup-${name}`,
    CAO_MOCK_SCRIPT: JSON.stringify(SCRIPT),
    CAO_MOCK_RECORD: record,
    CAO_HUB_IDLE_SECONDS: '600',
    CAO_WARM_POOL: '0',
    ...extraEnv,
  };
  const session = await startCao({ home, env, keepHub: true, wrap: nh ? (c, a) => nh.exec(c, a) : undefined });
  return { name, home, record, env, session, cut, heal };
}

beforeAll(async () => {
  process.stdout.write(`hosts-netns: ${mode}\n`);
  if (!netnsUnavailable()) net = makeHosts(3);
  // the server listens on the hosts' links (and loopback, for the test's own checks)
  pgServer = await startPostgres({ listen: ['127.0.0.1', ...(net?.gateways ?? [])].join(','), allow: net ? [net.subnet] : [] });
  const url = await pgServer.createDatabase();
  dbName = new URL(url).pathname.slice(1);
  for (const [i, n] of HOSTS.entries()) hosts.set(n, await startHost(n, i));
}, 120_000);

afterAll(async () => {
  for (const h of hosts.values()) {
    await h.session.close().catch(() => undefined);
    stopEverything(h.home);
    // CAO_TEST_KEEP=1: the hosts' homes (their logs) stay for a look
    if (process.env.CAO_TEST_KEEP) process.stdout.write(`hosts-netns: ${h.name} kept in ${h.home}\n`);
    else rmSync(h.home, { recursive: true, force: true });
  }
  for (const p of proxies) await p.close();
  await pgServer?.stop();
  net?.destroy();
}, 120_000);

interface Assigned {
  terminal_id: string;
  host: string;
}
interface AgentRow {
  id: string;
  host: string | null;
  status: string;
  pending: number;
}

describe(`many hosts on one PostgreSQL (${mode})`, () => {
  it('assign is placed on each host (capacity 1 each); list_agents on one host shows all; stop_agent is carried out by the owner', async () => {
    const a = host('h1').session;
    // every host shows in every hub's view of the hosts
    const seen = sc<{ hosts: { name: string; state: string }[] }>(await a.call('list_hosts', {}));
    expect(seen.hosts.map((x) => [x.name, x.state])).toEqual(HOSTS.map((n) => [n, 'live']));

    const placed: Assigned[] = [];
    for (const n of HOSTS)
      placed.push(sc<Assigned>(await a.call('assign', { agent_profile: 'developer', provider: 'mock', message: `hello ${n}`, host: n })));
    expect(placed.map((p) => p.host)).toEqual([...HOSTS]);
    const agents = sc<{ agents: AgentRow[] }>(await a.call('list_agents', {})).agents;
    for (const p of placed) expect(agents.find((x) => x.id === p.terminal_id)?.host).toBe(p.host);
    // each task was typed into its worker by its own host's hub
    for (const p of placed) {
      const typed = await until(
        () => received(host(p.host as HostName), p.terminal_id),
        (r) => r.some((t) => t.startsWith(`hello ${p.host}`)),
        20_000,
      );
      expect(typed.filter((t) => t.startsWith('hello '))).toHaveLength(1);
      for (const other of HOSTS.filter((n) => n !== p.host)) expect(received(host(other), p.terminal_id)).toEqual([]);
    }
    // `cao-mcp ls` on another host (inside its namespace) shows every host and each worker's host
    const [cmd, argv] = net ? net.hosts[1]!.exec(process.execPath, [CLI, 'ls', '--json']) : [process.execPath, [CLI, 'ls', '--json']];
    // (not execFileSync: where the hosts reach the database through this process's proxies, it must keep running)
    const ls = JSON.parse((await execFileAsync(cmd, argv, { env: { ...process.env, CAO_HOME: host('h2').home }, encoding: 'utf8' })).stdout) as {
      hosts: { name: string; state: string; self: boolean }[];
      agents: { id: string; host: string | null }[];
    };
    expect(ls.hosts.map((x) => [x.name, x.state, x.self])).toEqual(HOSTS.map((n) => [n, 'live', n === 'h2']));
    for (const p of placed) expect(ls.agents.find((x) => x.id === p.terminal_id)?.host).toBe(p.host);
    // the database's URL reached no worker and no pty host (only the hubs hold it)
    for (const p of placed) {
      const pids = [...pidsWithEnv('CAO_TERMINAL_ID', p.terminal_id), ptyHostPid(host(p.host as HostName))];
      expect(pids.length).toBeGreaterThan(1);
      for (const pid of pids) expect(readFileSync(`/proc/${pid}/environ`, 'latin1')).not.toContain('CAO_DATABASE_URL');
    }
    expect(readFileSync(`/proc/${daemonPid(host('h1'))}/environ`, 'latin1')).toContain('CAO_DATABASE_URL'); // (the check can tell)
    for (const p of placed) sc(await a.call('stop_agent', { terminal_id: p.terminal_id }));
    const after = sc<{ agents: AgentRow[] }>(await a.call('list_agents', {})).agents;
    for (const p of placed) expect(after.find((x) => x.id === p.terminal_id)).toBeUndefined();
  }, 120_000);

  it('without a host, placement spreads workers by load and refuses when no host has room', async () => {
    const a = host('h2').session;
    // the workers the last test stopped are gone from every host's count (its next heartbeat says so)
    await until(
      async () => sc<{ hosts: { workers: number; reserved: number }[] }>(await a.call('list_hosts', {})).hosts.map((x) => x.workers + x.reserved),
      (n) => n.every((x) => x === 0),
      10_000,
    );
    const placed: Assigned[] = [];
    for (let k = 0; k < 12; k++)
      placed.push(sc<Assigned>(await a.call('assign', { agent_profile: 'developer', provider: 'mock', message: `spread ${k}` })));
    const per = Object.fromEntries(HOSTS.map((n) => [n, placed.filter((p) => p.host === n).length]));
    expect(per).toEqual({ h1: 4, h2: 4, h3: 4 });
    const full = await a.call('assign', { agent_profile: 'developer', provider: 'mock', message: 'one too many' });
    expect(full.isError).toBe(true);
    expect(textOf(full)).toMatch(/no_host_with_room.*h1: 4\/4, h2: 4\/4, h3: 4\/4/s);
    for (const p of placed) sc(await a.call('stop_agent', { terminal_id: p.terminal_id }));
  }, 180_000);

  it('a handoff from host A is answered by a worker on host B; read_output of B’s worker from A', async () => {
    const a = host('h1').session;
    const r = sc<{ success: boolean; output: string; terminal_id: string; host: string }>(
      await a.call('handoff', { agent_profile: 'developer', provider: 'mock', message: 'slow task please', host: 'h2' }),
    );
    expect(r).toMatchObject({ success: true, output: 'SLOW-DONE', host: 'h2' });
    // typed into h2's worker only: its task, then (the handoff answered) the stop that ends it
    expect(
      await until(
        () => received(host('h2'), r.terminal_id),
        (t) => t.length >= 2,
        20_000,
      ),
    ).toEqual(['slow task please', '/exit']);
    expect(received(host('h1'), r.terminal_id)).toEqual([]);

    // a handoff carried out on another host sends progress all the same: its worker's status there, with its id
    const notes: string[] = [];
    const long = sc<{ output: string; terminal_id: string }>(
      await a.call(
        'handoff',
        { agent_profile: 'developer', provider: 'mock', message: 'long task please', host: 'h3' },
        { timeout: 60_000, onprogress: (p) => notes.push(p.message ?? '') },
      ),
    );
    expect(long.output).toBe('LONG-DONE');
    expect(notes.length).toBeGreaterThan(0);
    expect(notes.every((n) => n.includes(`terminal ${long.terminal_id} on host h3`))).toBe(true);
    expect(notes.some((n) => /: processing$/.test(n))).toBe(true);

    const w = sc<Assigned>(await a.call('assign', { agent_profile: 'developer', provider: 'mock', message: 'slow task two', host: 'h3' }));
    const out = sc<{ output: string }>(await a.call('read_output', { terminal_id: w.terminal_id, wait_seconds: 30 }, { timeout: 60_000 }));
    expect(out.output).toBe('SLOW-DONE');
    sc(await a.call('stop_agent', { terminal_id: w.terminal_id }));
  }, 120_000);

  it('a question on host B: the handoff from A says so; A sees it, answers it (B types the choice); mail sent meanwhile waits', async () => {
    const a = host('h1').session;
    const b = host('h2');
    // a handoff that ends in a question is an error result (the task is not done), with the worker left running
    const res = await a.call('handoff', { agent_profile: 'developer', provider: 'mock', message: 'ask first', host: 'h2' }, { timeout: 60_000 });
    expect(res.isError).toBe(true);
    const r = res.structuredContent as { success: boolean; status: string; message: string; terminal_id: string; host: string };
    expect(r).toMatchObject({ success: false, status: 'waiting_user_answer', host: 'h2' });
    expect(r.message).toMatch(/Allow write to out\.txt\?/);
    const id = r.terminal_id;
    // the listing on A shows the question B's worker asks
    const seen = sc<{ agents: (AgentRow & { question?: string })[] }>(await a.call('list_agents', {})).agents.find((x) => x.id === id);
    expect(seen).toMatchObject({ host: 'h2', status: 'waiting_user_answer' });
    expect(seen?.question).toMatch(/Allow write to out\.txt\?/);
    // a message from a third host is held while the dialog is up (its keys would answer it)
    sc(await host('h3').session.call('send_message', { receiver_id: id, message: 'after the dialog' }));
    await new Promise((res) => setTimeout(res, 1500));
    expect(received(b, id).filter((t) => t.includes('after the dialog'))).toEqual([]);
    expect(sc<{ terminal_id: string }>(await a.call('answer_question', { terminal_id: id, answer: '1' })).terminal_id).toBe(id);
    const choices = await until(
      () => readRecord(b.record).filter((x) => x.event === 'choice' && x.terminal === id),
      (c) => c.length > 0,
      20_000,
    );
    expect(choices).toHaveLength(1);
    expect(choices[0]).toMatchObject({ choice: 1 });
    // answered once: a second answer is refused by B's hub, its error carried back to A
    const again = await a.call('answer_question', { terminal_id: id, answer: '2' });
    expect(again.isError).toBe(true);
    expect(textOf(again)).toMatch(/is not waiting for an answer/);
    // then the held message is typed, once
    await until(
      () => received(b, id).filter((t) => t.includes('after the dialog')),
      (t) => t.length === 1,
      20_000,
    );
    const out = sc<{ output: string; status: string }>(await a.call('read_output', { terminal_id: id, wait_seconds: 30 }, { timeout: 60_000 }));
    expect(out.output).toMatch(/WROTE-IT|ok: /);
    expect(received(host('h1'), id)).toEqual([]);
    sc(await a.call('stop_agent', { terminal_id: id }));
  }, 120_000);

  it('send_message across hosts: in order per sender and exactly once', async () => {
    const a = host('h1').session;
    const w = sc<Assigned>(await a.call('assign', { agent_profile: 'developer', provider: 'mock', message: 'ready?', host: 'h2' }));
    await until(
      () => received(host('h2'), w.terminal_id),
      (r) => r.length === 1,
      20_000,
    );
    const N = 40;
    // two senders on two other hosts, interleaved
    await Promise.all(
      (['h1', 'h3'] as const).map(async (from) => {
        for (let k = 0; k < N; k++) sc(await host(from).session.call('send_message', { receiver_id: w.terminal_id, message: `${from}-${k}` }));
      }),
    );
    const got = await until(
      () => received(host('h2'), w.terminal_id).filter((t) => /h[13]-\d+/.test(t)),
      (r) => r.length >= 2 * N,
      120_000,
    );
    await new Promise((r) => setTimeout(r, 1000)); // anything typed twice would show by now
    const all = received(host('h2'), w.terminal_id).filter((t) => /h[13]-\d+/.test(t));
    expect(all.length).toBe(2 * N);
    for (const from of ['h1', 'h3']) {
      const mine = got
        .map((t) => /(h[13])-(\d+)/.exec(t)!)
        .filter((m) => m[1] === from)
        .map((m) => Number(m[2]));
      expect(mine).toEqual([...Array(N).keys()]);
    }
    sc(await a.call('stop_agent', { terminal_id: w.terminal_id }));
  }, 240_000);

  it('kill -9 of host B’s hub and pty host mid-storm: nothing lost to the live hosts, nothing twice, B’s mail failed with a reason', async () => {
    const a = host('h1').session;
    const wb = sc<Assigned>(await a.call('assign', { agent_profile: 'developer', provider: 'mock', message: 'b ready', host: 'h2' }));
    const wc = sc<Assigned>(await a.call('assign', { agent_profile: 'developer', provider: 'mock', message: 'c ready', host: 'h3' }));
    await until(
      () => received(host('h2'), wb.terminal_id).length + received(host('h3'), wc.terminal_id).length,
      (n) => n === 2,
      20_000,
    );
    const N = 60;
    const ids = { b: [] as number[], c: [] as number[] };
    const storm = (async () => {
      for (let k = 0; k < N; k++) {
        ids.b.push(sc<{ message_id: number }>(await a.call('send_message', { receiver_id: wb.terminal_id, message: `storm-b-${k}` })).message_id);
        ids.c.push(sc<{ message_id: number }>(await a.call('send_message', { receiver_id: wc.terminal_id, message: `storm-c-${k}` })).message_id);
      }
    })();
    await until(
      () => received(host('h2'), wb.terminal_id).length,
      (n) => n >= 5,
      60_000,
    );
    const b = host('h2');
    const [hub, pty] = [daemonPid(b), ptyHostPid(b)];
    process.kill(hub, 'SIGKILL');
    process.kill(pty, 'SIGKILL');
    await storm;
    await until(
      () => [pidAlive(hub), pidAlive(pty)],
      (v) => !v[0] && !v[1],
      10_000,
    );

    // C got every one of its messages exactly once, in order
    const c = await until(
      () => tagged(host('h3'), wc.terminal_id, 'storm-c'),
      (r) => r.length >= N,
      120_000,
    );
    expect(c).toEqual(Array.from({ length: N }, (_, k) => `storm-c-${k}`));
    // B's worker is declared dead after its lease and the grace; its undelivered mail failed with the reason
    const messages = await until(
      () => mailOf(wb.terminal_id),
      (ms) => ms.filter((m) => m.status === 'pending' || m.status === 'delivering').length === 0,
      60_000,
    );
    const typedB = tagged(b, wb.terminal_id, 'storm-b');
    expect(new Set(typedB).size).toBe(typedB.length); // nothing twice
    const failed = messages.filter((m) => m.status === 'failed');
    expect(failed.length).toBeGreaterThan(0);
    for (const f of failed) expect(f.error).toMatch(/host h2 is dead/);
    expect(failed.length + messages.filter((m) => m.status === 'delivered' && ids.b.includes(m.id)).length).toBe(N);
    sc(await a.call('stop_agent', { terminal_id: wc.terminal_id }));
    // B comes back: a new hub takes the name again
    hosts.set('h2', await startHost('h2', 1));
    const back = sc<{ hosts: { name: string; state: string }[] }>(await host('h2').session.call('list_hosts', {}));
    expect(back.hosts.find((x) => x.name === 'h2')?.state).toBe('live');
  }, 300_000);

  it('kill -9 of host B’s hub alone: its pty host keeps the workers; a new hub within the grace re-adopts them and types the mail held meanwhile, once', async () => {
    // h2 gets a long grace here: its workers are held while it has no hub
    const old = host('h2');
    await old.session.close();
    stopEverything(old.home);
    hosts.set('h2', await startHost('h2', 1, { CAO_HOST_GRACE_MS: '120000' }));
    const b = host('h2');
    const a = host('h1').session;
    const w = sc<Assigned>(await a.call('assign', { agent_profile: 'developer', provider: 'mock', message: 'adopt ready', host: 'h2' }));
    await until(
      () => received(b, w.terminal_id),
      (r) => r.length === 1,
      20_000,
    );
    const [worker] = pidsWithEnv('CAO_TERMINAL_ID', w.terminal_id);
    expect(worker).toBeDefined();
    const [hub, pty] = [daemonPid(b), ptyHostPid(b)];
    process.kill(hub, 'SIGKILL');
    await until(
      () => pidAlive(hub),
      (v) => !v,
      10_000,
    );
    // B is dead to the others; what is sent to its worker meanwhile is stored and held, not failed
    await until(
      async () => sc<{ hosts: { name: string; state: string }[] }>(await a.call('list_hosts', {})).hosts.find((x) => x.name === 'h2')?.state,
      (s) => s === 'dead',
      LEASE_MS * 6,
    );
    const kept: number[] = [];
    for (let k = 0; k < 5; k++)
      kept.push(sc<{ message_id: number }>(await a.call('send_message', { receiver_id: w.terminal_id, message: `kept-${k}` })).message_id);
    await new Promise((r) => setTimeout(r, 2 * LEASE_MS));
    const held = (await mailOf(w.terminal_id)).filter((m) => kept.includes(m.id));
    expect(held.map((m) => m.status)).toEqual(['pending', 'pending', 'pending', 'pending', 'pending']);
    expect(sc<{ agents: AgentRow[] }>(await a.call('list_agents', {})).agents.find((x) => x.id === w.terminal_id)).toBeDefined();
    // B's front starts a new hub at its next call: it takes the name back and re-adopts the worker from the live pty host
    const back = await until(
      () =>
        b.session
          .call('list_hosts', {})
          .then((r) => (r.isError ? null : (r.structuredContent as { hosts: { name: string; state: string }[] })))
          .catch(() => null),
      (r) => r?.hosts.find((x) => x.name === 'h2')?.state === 'live',
      30_000,
    );
    expect(back?.hosts.find((x) => x.name === 'h2')?.state).toBe('live');
    expect(daemonPid(b)).not.toBe(hub);
    expect(ptyHostPid(b)).toBe(pty);
    expect(pidsWithEnv('CAO_TERMINAL_ID', w.terminal_id)).toContain(worker);
    const got = await until(
      () => tagged(b, w.terminal_id, 'kept'),
      (r) => r.length >= 5,
      30_000,
    );
    await new Promise((r) => setTimeout(r, 1000)); // anything typed twice would show by now
    expect(tagged(b, w.terminal_id, 'kept')).toEqual(got);
    expect(got).toEqual(Array.from({ length: 5 }, (_, k) => `kept-${k}`));
    // all of its mail delivered: the held messages, and its task (in flight when the hub died: the new hub found it typed)
    expect((await mailOf(w.terminal_id)).map((m) => m.status)).toEqual(Array(6).fill('delivered'));
    sc(await a.call('stop_agent', { terminal_id: w.terminal_id }));
  }, 240_000);

  it('a cut link (ip link down) stops that hub typing; healed within the grace, its held mail is delivered exactly once', async () => {
    // h3 gets a long grace here: its workers are held while its link is down
    const c = host('h3');
    await c.session.close();
    stopEverything(c.home);
    hosts.set('h3', await startHost('h3', 2, { CAO_HOST_GRACE_MS: '120000' }));
    const a = host('h1').session;
    const w = sc<Assigned>(await a.call('assign', { agent_profile: 'developer', provider: 'mock', message: 'cut ready', host: 'h3' }));
    await until(
      () => received(host('h3'), w.terminal_id),
      (r) => r.length === 1,
      20_000,
    );
    await host('h3').cut();
    // within a lease, h3 knows it is cut off; the others then declare it dead
    await until(
      async () => sc<{ hosts: { name: string; state: string }[] }>(await a.call('list_hosts', {})).hosts.find((x) => x.name === 'h3')?.state,
      (s) => s === 'dead',
      LEASE_MS * 6,
    );
    const cutAt = Date.now();
    for (let k = 0; k < 10; k++) sc(await a.call('send_message', { receiver_id: w.terminal_id, message: `held-${k}` }));
    await new Promise((r) => setTimeout(r, 2 * LEASE_MS));
    // nothing was typed into h3's worker while it could not record it
    expect(readRecord(host('h3').record).filter((r) => r.event === 'input' && r.terminal === w.terminal_id && r.t > cutAt)).toEqual([]);
    await host('h3').heal();
    const got = await until(
      () => tagged(host('h3'), w.terminal_id, 'held'),
      (r) => r.length >= 10,
      60_000,
    );
    await new Promise((r) => setTimeout(r, 1000));
    expect(tagged(host('h3'), w.terminal_id, 'held')).toEqual(got);
    expect(got).toEqual(Array.from({ length: 10 }, (_, k) => `held-${k}`));
    const hs = sc<{ hosts: { name: string; state: string }[] }>(await a.call('list_hosts', {}));
    expect(hs.hosts.find((x) => x.name === 'h3')?.state).toBe('live');
    sc(await a.call('stop_agent', { terminal_id: w.terminal_id }));
  }, 240_000);
});
