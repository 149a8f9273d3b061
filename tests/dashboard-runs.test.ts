// The dashboard's Runs view in a real headless Chromium, and its JSON routes: a real `cao-mcp serve`, mock workers
// making real tool calls (a supervisor's handoff → assign → handoff chain), the page live over its event stream.
import { spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from './support/browser.js';
import { CLI, REPO } from './support/cao-client.js';
import { connectHttp, startServe, stopProc, type HttpCaller, type HubInfo } from './support/http-client.js';
import { waitFor } from './support/procs.js';
import { CHAIN_RULES, mock } from './support/chain.js';

// boss → handoff A; A assigns B; B hands off to C, then reports to boss. C ends after its answer, B idles until stopped.
const SCRIPT = {
  rules: [...CHAIN_RULES],
  default: { answer: 'OK' },
};

type Json = Record<string, any>;

let home = '';
let serve: { proc: ChildProcess; hub: HubInfo } | undefined;
let boss: HttpCaller | undefined;
let browser: Browser | null = null;
/** The chain's agents and its run, once the browser test has run it. */
let chain: { a: string; b: string; c: string; runId: string } | undefined;

beforeAll(async () => {
  browser = await launchChromium();
  home = mkdtempSync(path.join(tmpdir(), 'cao-dash-runs-'));
  serve = await startServe(home, { CAO_MOCK_SCRIPT: JSON.stringify(SCRIPT), CAO_WARM_POOL: '0' });
  boss = await connectHttp(serve.hub, 'boss');
});

afterAll(async () => {
  await browser?.close();
  await boss?.close();
  if (serve) await stopProc(serve.proc);
  if (home) rmSync(home, { recursive: true, force: true });
});

const json = (r: { structuredContent?: unknown }) => r.structuredContent as Json;
const agents = async (): Promise<Json[]> => json(await boss!.call('list_agents', { include_ended: true })).agents as Json[];

function cliJson(args: string[]): Json {
  const r = spawnSync(process.execPath, [CLI, ...args, '--json'], { env: { ...process.env, CAO_HOME: home }, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`cao-mcp ${args.join(' ')}: ${r.stderr}`);
  return JSON.parse(r.stdout) as Json;
}

async function api(p: string, token: string | null = serve!.hub.token): Promise<{ status: number; body: Json }> {
  const url = new URL(p, serve!.hub.url);
  if (token !== null) url.searchParams.set('token', token);
  const r = await fetch(url);
  return { status: r.status, body: (await r.json()) as Json };
}

const row = (page: Page, runId: string) => page.locator(`#runs-body tr[data-run="${runId}"]`);
const nodeOf = (page: Page, id: string) => page.locator(`#trace-tree details.tnode[data-id="${id}"]`);

describe('dashboard: the Runs view in Chromium', () => {
  it('lists a three-level chain live, shows its tree and each agent’s timeline, opens a live agent’s screen', async () => {
    const page = await browser!.newPage({ viewport: { width: 1600, height: 1000 } });
    const problems: string[] = [];
    page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
    page.on('console', (m) => m.type() === 'error' && problems.push(`console: ${m.text()}`));
    await page.goto(`${serve!.hub.url}/?token=${encodeURIComponent(serve!.hub.token)}`);
    await page.waitForSelector('#conn.live', { timeout: 10_000 });
    await page.evaluate(() => ((window as unknown as { __noReload: boolean }).__noReload = true));

    // The Runs tab, before there is any run.
    await page.locator('#tab-runs').click();
    expect(await page.locator('#view-agents').isHidden()).toBe(true);
    await page.locator('#runs-empty').waitFor({ state: 'visible', timeout: 5000 });
    expect(await page.locator('#runs-body tr').count()).toBe(0);

    // The chain: the handoff returns with A's answer; B reports once C has answered it.
    const r = await boss!.call('handoff', { ...mock, message: 'level-A task' });
    expect(json(r)).toMatchObject({ success: true, output: 'A-DONE' });
    const a = json(r).terminal_id as string;
    const inbox = await waitFor(
      async () => json(await boss!.call('read_inbox', { wait_seconds: 5 })).messages as Json[],
      (m) => m.length > 0,
      60_000,
    );
    expect(inbox.map((m) => m.body)).toEqual(['B-DONE']);
    const b = (await agents()).find((x) => x.creator === a)!.id as string;
    const c = (await agents()).find((x) => x.creator === b)!.id as string;
    await waitFor(
      async () => (await agents()).find((x) => x.id === c)!.ended,
      (e) => e === true,
      20_000,
    );

    // The run's row arrived live: its root task, three agents, running while B is.
    const tr = page.locator('#runs-body tr');
    await page.waitForSelector('#runs-body tr[data-outcome="running"]', { timeout: 10_000 });
    await page.waitForFunction(() => document.querySelector('#runs-body tr td.agents')?.textContent === '3', null, { timeout: 10_000 });
    expect(await tr.count()).toBe(1);
    const runId = (await tr.first().getAttribute('data-run'))!;
    expect(runId).toMatch(/^run-[0-9a-f]{8}$/);
    expect(await tr.first().locator('td.task').innerText()).toBe('handoff developer (mock) from boss');
    expect(await tr.first().locator('td.outcome').innerText()).toBe('running');
    expect(await page.locator('#runs-empty').isHidden()).toBe(true);

    // Its tree, after a click: three levels in order, who started whom, how that ended.
    await row(page, runId).click();
    await nodeOf(page, c).waitFor({ timeout: 10_000 });
    expect(await page.locator('#trace-title').innerText()).toBe(`run ${runId}`);
    const nodes = page.locator('#trace-tree details.tnode');
    expect(await nodes.evaluateAll((ns) => ns.map((n) => [(n as HTMLElement).dataset.id, (n as HTMLElement).dataset.depth]))).toEqual([
      [a, '0'],
      [b, '1'],
      [c, '2'],
      ['(outside the tree)', '0'],
    ]);
    const indent = await nodes.evaluateAll((ns) => ns.slice(0, 3).map((n) => n.getBoundingClientRect().left));
    expect(indent[0]).toBeLessThan(indent[1]!);
    expect(indent[1]).toBeLessThan(indent[2]!);
    const head = (id: string) => nodeOf(page, id).locator('summary').innerText();
    expect(await head(a)).toMatch(new RegExp(`^${a}\\s+developer \\(mock\\)\\s+handoff from boss\\s+completed`));
    expect(await head(b)).toMatch(new RegExp(`^${b}\\s+developer \\(mock\\)\\s+assign from ${a}`));
    expect(await head(b)).toMatch(/running · (idle|completed)/); // alive: no outcome yet, its status now
    expect(await head(c)).toMatch(new RegExp(`^${c}\\s+developer \\(mock\\)\\s+handoff from ${b}\\s+completed`));

    // C's timeline: offsets from the run's start, types, and what matters of each (sizes, causes, outcomes).
    const events = async (id: string) =>
      nodeOf(page, id)
        .locator('.tevents li')
        .evaluateAll((lis) => lis.map((li) => Array.from(li.querySelectorAll('span')).map((s) => s.textContent ?? '')));
    const evC = await events(c);
    const types = evC.map((e) => e[1]);
    const order = ['terminal.created', 'handoff.started', 'terminal.ready', 'input.submitted', 'handoff.ended', 'terminal.ended'];
    // (the first of each: how many inputs and status changes a CLI takes is its own business)
    expect(
      types.filter((t, i) => order.includes(t!) && types.indexOf(t) === i),
      JSON.stringify(evC),
    ).toEqual(order);
    for (const e of evC) expect(e[0]).toMatch(/^\+\d+\.\d{3}s$/);
    const offsets = evC.map((e) => Number(e[0]!.slice(1, -1)));
    expect([...offsets].sort((x, y) => x - y)).toEqual(offsets);
    expect(offsets[0]).toBeGreaterThan(0);
    const what = (type: string) => evC.find((e) => e[1] === type)![2];
    expect(what('terminal.created')).toBe(`worker by ${b}`);
    expect(what('handoff.started')).toBe(`developer (mock), task ${'level-C task'.length} B by ${b}`);
    expect(what('input.submitted')).toMatch(/^paste, \d+ B/);
    expect(what('handoff.ended')).toMatch(/^completed after \d+\.\d\d s$/);
    expect(what('terminal.ended')).toMatch(/^exited/);
    const statuses = evC.filter((e) => e[1] === 'status.changed').map((e) => e[2]);
    expect(statuses).toContain('idle → processing (input submitted)');
    expect(statuses.some((s) => /→ completed \(detected\)$/.test(s!))).toBe(true);
    // B's: its task as a message, queued by A and typed in.
    const evB = await events(b);
    expect(evB.find((e) => e[1] === 'message.queued')![2]).toMatch(new RegExp(`^#\\d+ task, \\d+ B from ${a}$`));
    expect(evB.map((e) => e[1])).toContain('message.delivered');
    // No task or message text anywhere in the view.
    const text = await page.locator('#view-runs').innerText();
    for (const secret of ['level-A', 'level-B', 'level-C', 'A-DONE', 'B-DONE', 'C-DONE']) expect(text).not.toContain(secret);

    // B is still alive: its live screen opens from the tree; the ended ones have no button.
    expect(await nodeOf(page, a).locator('button.open-screen').count()).toBe(0);
    expect(await nodeOf(page, c).locator('button.open-screen').count()).toBe(0);
    await nodeOf(page, b).locator('button.open-screen').click();
    await page.waitForFunction((id) => document.getElementById('screen-title')?.textContent?.startsWith(id), b, { timeout: 10_000 });
    await page.waitForFunction(() => (document.querySelector('#term .xterm-rows')?.textContent ?? '').includes('level-B task'), null, {
      timeout: 10_000,
    });
    expect(await nodeOf(page, b).getAttribute('open')).not.toBeNull(); // the click opened the screen, it did not fold the node
    mkdirSync(path.join(REPO, 'test-results'), { recursive: true });
    await page.screenshot({ path: path.join(REPO, 'test-results', 'dashboard-runs.png'), animations: 'disabled' });

    // B is stopped: the row and the open tree follow, live.
    expect(json(await boss!.call('stop_agent', { terminal_id: b }))).toMatchObject({ stopped: true });
    await page.waitForSelector(`#runs-body tr[data-run="${runId}"][data-outcome="completed"]`, { timeout: 15_000 });
    await page.waitForFunction((id) => !document.querySelector(`#trace-tree details.tnode[data-id="${id}"] button.open-screen`), b, {
      timeout: 10_000,
    });
    await page.waitForFunction(
      (id) => document.querySelector(`#trace-tree details.tnode[data-id="${id}"] .node-outcome`)?.textContent === 'ended',
      b,
      { timeout: 10_000 },
    );
    expect((await events(b)).map((e) => e[1])).toContain('assign.ended');
    expect(await page.locator('#trace-summary').innerText()).toMatch(/^handoff developer \(mock\) from boss · 3 agents · completed · \d+\.\d\d s/);
    expect(await page.evaluate(() => (window as unknown as { __noReload?: boolean }).__noReload)).toBe(true);
    expect(problems).toEqual([]);
    await page.close();
    chain = { a, b, c, runId };
  }, 120_000);
});

describe('dashboard: the runs routes', () => {
  it('GET /api/runs and /api/runs/:id answer what `cao-mcp runs --json` and `cao-mcp trace --json` print; token needed; 404 for an unknown id', async () => {
    expect(chain, 'the browser test ran the chain').toBeDefined();
    const { b, c, runId } = chain!;
    await new Promise((res) => setTimeout(res, 200)); // the journal's last batch
    const runs = await api('/api/runs');
    expect(runs.status).toBe(200);
    expect(runs.body).toEqual(cliJson(['runs']));
    expect(runs.body.runs).toHaveLength(1);
    expect(runs.body.runs[0]).toMatchObject({ run_id: runId, via: 'handoff', caller_id: 'boss', agents: 3, outcome: 'completed', live: false });
    const trace = await api(`/api/runs/${runId}`);
    expect(trace.status).toBe(200);
    expect(trace.body).toEqual(cliJson(['trace', runId]));
    expect(trace.body.tree[0].children[0].terminal_id).toBe(b);
    // by a terminal of the run, and by the supervisor's name: the same trace
    expect((await api(`/api/runs/${c}`)).body).toEqual(trace.body);
    expect((await api('/api/runs/boss')).body).toEqual(trace.body);
    // ?limit=
    const other = json(await boss!.call('handoff', { ...mock, message: 'another one' }));
    expect(other).toMatchObject({ success: true });
    const two = await api('/api/runs');
    expect(two.body.runs.map((x: Json) => x.run_id)).toEqual([expect.not.stringMatching(runId), runId]);
    expect((await api('/api/runs?limit=1')).body.runs.map((x: Json) => x.run_id)).toEqual([two.body.runs[0].run_id]);
    // unknown: 404 with the typed code
    const unknown = await api('/api/runs/nope-nothing');
    expect(unknown.status).toBe(404);
    expect(unknown.body).toMatchObject({ code: 'not_found', error: expect.stringContaining('"nope-nothing"') });
    // the page puts every string in as text: no HTML is parsed from data anywhere in its script
    const js = await fetch(new URL(`/dashboard/app.js?token=${encodeURIComponent(serve!.hub.token)}`, serve!.hub.url)).then((x) => x.text());
    expect(js).toContain('function renderTrace');
    expect(js).not.toMatch(/innerHTML|outerHTML|insertAdjacentHTML|document\.write/);
    // without the token, or with a wrong one: refused
    for (const p of ['/api/runs', `/api/runs/${runId}`]) {
      expect((await api(p, null)).status, p).toBe(401);
      expect((await api(p, 'wrong-token')).status, p).toBe(401);
    }
  }, 60_000);
});
