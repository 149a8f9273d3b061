import { spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from './support/browser.js';
import { CLI, REPO, startCao } from './support/cao-client.js';
import { connectHttp, hubRecords, stopProc, type HttpCaller, type HubInfo } from './support/http-client.js';
import { waitFor } from './support/procs.js';
import { inputsOf } from './support/record.js';

/** Three workers a supervisor might run (first matching rule wins, so the task texts pick them): one stops on a permission question, one streams a long review, one finishes at once. */
const SCRIPT = {
  rules: [
    {
      match: 'Review',
      delayMs: 500,
      stream: { chunks: 8, intervalMs: 800 },
      toolCalls: [
        { server: 'cao', tool: 'send_message', arguments: { message: 'Review done: the change is good, two nits in tests/parser.test.ts.' } },
      ],
      answer:
        'Review of the parser change:\n- escaped quotes are handled in the tokenizer\n- the error message names the column\n- nit: tests/parser.test.ts repeats one case\n- nit: a comment still says "TODO"\nVerdict: approve after the nits.',
    },
    {
      match: 'tests',
      delayMs: 300,
      toolCalls: [{ server: 'cao', tool: 'send_message', arguments: { message: 'All 42 tests pass.' } }],
      answer: 'Ran the suite: 42 passed, 0 failed.',
    },
    {
      match: 'parser',
      delayMs: 700,
      question: {
        text: 'Allow write to src/parser.ts?',
        options: ['Yes', "Yes, and don't ask again", 'No'],
        answers: { '1': 'Wrote src/parser.ts: the tokenizer now handles escaped quotes.', '3': 'Did not write src/parser.ts.' },
      },
      toolCalls: [{ server: 'cao', tool: 'send_message', arguments: { message: 'parser fix: {{choiceText}}' } }],
    },
  ],
  default: { answer: 'got it: {{input}}' },
};

let home = '';
let project = '';
let record = '';
let serve: ChildProcess | null = null;
let hub: HubInfo;
let sup: HttpCaller;
let browser: Browser | null = null;

beforeAll(async () => {
  // The browser first: a missing one fails the file at once, before a hub is started.
  browser = await launchChromium();
  home = mkdtempSync(join(tmpdir(), 'cao-dash-'));
  project = join(home, 'acme-app');
  mkdirSync(project);
  record = join(home, 'mock-record.jsonl');
  // `serve` in a project directory, as a person would run it.
  serve = spawn(process.execPath, [CLI, 'serve', '--port', '0'], {
    cwd: project,
    env: { ...(process.env as Record<string, string>), CAO_HOME: home, CAO_MOCK_SCRIPT: JSON.stringify(SCRIPT), CAO_MOCK_RECORD: record },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let err = '';
  serve.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const recs = await waitFor(
    () => hubRecords(home),
    (r) => r.length > 0,
    15_000,
  );
  if (!recs.length) throw new Error(`serve did not start:\n${err}`);
  hub = recs[0];
  // The hub prints the dashboard link, token included.
  await waitFor(
    () => err,
    (e) => e.includes('cao-mcp dashboard:'),
    5000,
  );
  expect(err).toContain(`cao-mcp dashboard: ${hub.url}/?token=${hub.token}`);
  sup = await connectHttp(hub, 'supervisor');
});

afterAll(async () => {
  await browser?.close();
  await sup?.close();
  if (serve) await stopProc(serve);
  if (home) rmSync(home, { recursive: true, force: true });
});

function raw(
  path: string,
  opts: { method?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(new URL(path, hub.url), { method: opts.method ?? 'GET', headers: opts.headers }, (res) => {
      const chunks: Buffer[] = [];
      // Event streams never end: what arrives in the first moments is enough.
      if (String(res.headers['content-type']).startsWith('text/event-stream')) {
        res.on('data', (c: Buffer) => chunks.push(c));
        setTimeout(() => {
          resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() });
          req.destroy();
        }, 300);
        return;
      }
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
    });
    req.on('error', reject);
    req.end(opts.body);
  });
}

async function assign(profile: string, message: string): Promise<string> {
  const r = await sup.call('assign', { agent_profile: profile, provider: 'mock', message, working_directory: project });
  expect(r.isError).toBeFalsy();
  return (r.structuredContent as { terminal_id: string }).terminal_id;
}

/** Status of an agent's row in the page's table. */
const rowStatus = (page: Page, id: string) =>
  page
    .locator(`#agents-body tr[data-id="${id}"]`)
    .getAttribute('data-status', { timeout: 2000 })
    .catch(() => null);

async function waitRow(page: Page, id: string, status: string, ms = 20_000): Promise<void> {
  await page.waitForSelector(`#agents-body tr[data-id="${id}"][data-status="${status}"]`, { timeout: ms });
}

const screenText = (page: Page) => page.locator('#term .xterm-rows').innerText();

/** Distinct colours in a PNG and the share of the most common one, measured by Chromium itself. */
async function colourStats(png: Buffer): Promise<{ distinct: number; top: number }> {
  const p = await browser!.newPage();
  try {
    return await p.evaluate(async (b64) => {
      const img = new Image();
      img.src = `data:image/png;base64,${b64}`;
      await img.decode();
      const c = document.createElement('canvas');
      c.width = img.width;
      c.height = img.height;
      const g = c.getContext('2d')!;
      g.drawImage(img, 0, 0);
      const d = g.getImageData(0, 0, c.width, c.height).data;
      const counts = new Map<number, number>();
      let n = 0;
      for (let i = 0; i < d.length; i += 4) {
        const k = (d[i] << 16) | (d[i + 1] << 8) | d[i + 2];
        counts.set(k, (counts.get(k) ?? 0) + 1);
        n++;
      }
      return { distinct: counts.size, top: Math.max(...counts.values()) / n };
    }, png.toString('base64'));
  } finally {
    await p.close();
  }
}

describe('dashboard in Chromium', () => {
  it('shows agents, live statuses, live screens and the message timeline; answers a question; types only when allowed; saves a screenshot', async () => {
    const page = await browser!.newPage({ viewport: { width: 1600, height: 1000 } });
    const problems: string[] = [];
    page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
    page.on('console', (m) => m.type() === 'error' && problems.push(`console: ${m.text()}`));
    await page.goto(`${hub.url}/?token=${encodeURIComponent(hub.token)}`);
    await page.waitForSelector('#conn.live', { timeout: 10_000 });
    expect(await page.locator('#hub-info').innerText()).toContain(hub.url);
    // A marker that would vanish on a reload: everything below must arrive live.
    await page.evaluate(() => ((window as unknown as { __noReload: boolean }).__noReload = true));
    // Every status each row shows, as it changes.
    await page.evaluate(() => {
      const seen: string[] = [];
      (window as unknown as { __seen: string[] }).__seen = seen;
      const note = () =>
        document.querySelectorAll('#agents-body tr').forEach((tr) => {
          const k = `${(tr as HTMLElement).dataset.id}:${(tr as HTMLElement).dataset.status}`;
          if (seen[seen.length - 1] !== k && !seen.includes(k)) seen.push(k);
        });
      new MutationObserver(note).observe(document.getElementById('agents-body')!, { childList: true, subtree: true });
    });

    const dev = await assign('developer', 'Fix the parser: escaped quotes break the tokenizer');
    const rev = await assign('reviewer', 'Review the parser change in src/parser.ts');
    const tst = await assign('developer', 'Run the tests and report');

    // Live statuses: the developer stops on its question, the reviewer streams, the tester finishes.
    await waitRow(page, dev, 'waiting_user_answer');
    await waitRow(page, rev, 'processing');
    await waitRow(page, tst, 'completed');
    // The pending question, with its options as buttons.
    const card = page.locator(`#question-list .question[data-id="${dev}"]`);
    await card.waitFor({ timeout: 5000 });
    expect(await card.locator('pre').innerText()).toMatch(/Allow write to src\/parser\.ts\?/);
    expect(await card.locator('button.opt').allInnerTexts()).toEqual(['1. Yes', "2. Yes, and don't ask again", '3. No']);
    // The first live agent's screen is shown: the developer's dialog.
    await page.waitForFunction(() => document.querySelector('#term .xterm-rows')?.textContent?.includes('Enter to confirm'), null, {
      timeout: 10_000,
    });
    expect(await page.locator('#screen-title').innerText()).toContain(dev);
    // The timeline: the three tasks delivered, the tester's report waiting in the supervisor's inbox.
    await page.waitForSelector('#timeline li[data-state="pending"]', { timeout: 10_000 });
    expect(await page.locator('#timeline li[data-state="delivered"]').count()).toBeGreaterThanOrEqual(3);
    expect(await page.locator('#timeline').innerText()).toMatch(/All 42 tests pass\./);

    // The screenshot for the README, while all of it is on screen.
    const shot = await page.screenshot({ animations: 'disabled' });
    const stats = await colourStats(shot);
    expect(stats.distinct).toBeGreaterThan(50);
    expect(stats.top).toBeLessThan(0.95);
    mkdirSync(join(REPO, 'test-results'), { recursive: true });
    const out = join(REPO, 'test-results', 'dashboard.png');
    await page.screenshot({ path: out, animations: 'disabled' });
    if (process.env.CAO_UPDATE_SCREENSHOT === '1') {
      mkdirSync(join(REPO, 'docs'), { recursive: true });
      copyFileSync(out, join(REPO, 'docs', 'dashboard.png'));
    }

    // The reviewer's screen, live: its answer grows while it streams.
    await page.locator(`#agents-body tr[data-id="${rev}"]`).click();
    await page.waitForFunction(() => document.querySelector('#term .xterm-rows')?.textContent?.includes('Review the parser change'), null, {
      timeout: 10_000,
    });
    const grew: number[] = [];
    for (let i = 0; i < 30 && (await rowStatus(page, rev)) === 'processing'; i++) {
      const text = await screenText(page);
      const m = text.match(/^\s*- .*$/gm);
      grew.push(m ? m.length : 0);
      await page.waitForTimeout(300);
    }
    expect(new Set(grew).size, `lines of the streamed answer seen: ${grew.join(',')}`).toBeGreaterThan(1);
    await waitRow(page, rev, 'completed', 20_000);
    expect(await screenText(page)).toContain('Verdict: approve after the nits.');

    // Answer the question in the page: the developer goes on.
    await page.locator(`#agents-body tr[data-id="${dev}"]`).click();
    await page.waitForFunction(() => document.querySelector('#term .xterm-rows')?.textContent?.includes('Allow write'), null, { timeout: 10_000 });
    await card.locator('button.opt', { hasText: '1. Yes' }).click();
    await waitRow(page, dev, 'completed', 20_000);
    await page.waitForFunction(
      () => document.querySelector('#term .xterm-rows')?.textContent?.includes('the tokenizer now handles escaped quotes'),
      null,
      { timeout: 10_000 },
    );
    await page.waitForSelector(`#question-list .question[data-id="${dev}"]`, { state: 'detached', timeout: 5000 });
    expect(await page.locator('#questions').isHidden()).toBe(true);
    await page.waitForFunction(() => document.getElementById('timeline')?.textContent?.includes('parser fix: Yes'), null, { timeout: 10_000 });

    // Typing: read-only by default; with the switch on, keys reach the agent.
    await page.locator(`#agents-body tr[data-id="${tst}"]`).click();
    await page.waitForFunction(() => document.querySelector('#term .xterm-rows')?.textContent?.includes('42 passed'), null, { timeout: 10_000 });
    await page.locator('#term').click();
    await page.keyboard.type('not allowed');
    await page.waitForFunction(() => document.getElementById('screen-note')?.textContent?.includes('Read-only'), null, { timeout: 5000 });
    await page.waitForTimeout(300);
    expect(inputsOf(record, tst).join('\n')).not.toContain('not allowed');
    await page.locator('#typing-toggle').check();
    await page.locator('#term').click();
    await page.keyboard.type('hello from the page');
    await page.keyboard.press('Enter');
    await page.waitForFunction(() => document.querySelector('#term .xterm-rows')?.textContent?.includes('got it: hello from the page'), null, {
      timeout: 15_000,
    });
    expect(inputsOf(record, tst).filter((x) => x === 'hello from the page')).toHaveLength(1);

    // Everything above arrived without a reload, and each status change was seen as it happened.
    expect(await page.evaluate(() => (window as unknown as { __noReload?: boolean }).__noReload)).toBe(true);
    const seen = await page.evaluate(() => (window as unknown as { __seen: string[] }).__seen);
    const order = (id: string) => seen.filter((s) => s.startsWith(`${id}:`)).map((s) => s.split(':')[1]);
    expect(order(dev)).toEqual(expect.arrayContaining(['waiting_user_answer', 'completed']));
    expect(order(dev).indexOf('waiting_user_answer')).toBeLessThan(order(dev).lastIndexOf('completed'));
    expect(order(rev).indexOf('processing')).toBeLessThan(order(rev).lastIndexOf('completed'));

    // An agent that ends is shown as ended, live.
    await sup.call('stop_agent', { terminal_id: tst });
    await waitRow(page, tst, 'exited', 10_000);
    await page.waitForFunction(() => document.getElementById('screen-note')?.textContent?.includes('ended'), null, { timeout: 5000 });
    expect(problems).toEqual([]);
    await page.close();
  });
});

describe('dashboard: who may open it', () => {
  it('rejects requests without the client token (401) and with a non-loopback Host or Origin (403)', async () => {
    for (const path of ['/', '/api/agents', '/api/events', '/api/messages', '/dashboard/app.js', '/dashboard/xterm.js'])
      expect((await raw(path)).status, path).toBe(401);
    expect((await raw('/?token=wrong-token')).status).toBe(401);
    expect(
      (await raw('/api/agents/abcdef12/answer', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"answer":"1"}' })).status,
    ).toBe(401);
    const t = `token=${encodeURIComponent(hub.token)}`;
    expect((await raw(`/?${t}`)).status).toBe(200);
    expect((await raw(`/api/events?${t}`)).body).toMatch(/event: hello/);
    expect((await raw('/api/agents', { headers: { authorization: `Bearer ${hub.token}` } })).status).toBe(200);
    expect((await raw(`/api/agents?${t}`, { headers: { host: 'evil.example:80' } })).status).toBe(403);
    expect((await raw(`/api/agents?${t}`, { headers: { origin: 'http://evil.example' } })).status).toBe(403);
    expect((await raw(`/api/agents?${t}`, { headers: { origin: `http://localhost:${new URL(hub.url).port}` } })).status).toBe(200);
    // A plain form post (no JSON content type) cannot answer for anyone.
    expect(
      (await raw(`/api/agents/abcdef12/answer?${t}`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: '{"answer":"1"}' })).status,
    ).toBe(415);
    // A refusal carries its typed code next to the message, with the HTTP status that goes with it.
    const unknown = await raw(`/api/agents/abcdef12/answer?${t}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"answer":"1"}',
    });
    expect(unknown.status).toBe(404);
    expect(JSON.parse(unknown.body)).toMatchObject({ code: 'not_found', error: 'no agent with terminal id "abcdef12"' });
    // A worker's own token opens its MCP forwarding, not the dashboard.
    const id = await assign('developer', 'say hi');
    const mcp = JSON.parse(readFileSync(join(home, 'run', id, 'mock-mcp.json'), 'utf8')) as { mcpServers: { cao: { env: Record<string, string> } } };
    const workerToken = mcp.mcpServers.cao.env.CAO_TOKEN;
    expect(workerToken).toBeTruthy();
    expect((await raw(`/api/agents?token=${encodeURIComponent(workerToken)}`)).status).toBe(401);
    await sup.call('stop_agent', { terminal_id: id });
  });

  it('a stdio hub prints the dashboard address without its token (its stderr lands in the client’s logs)', async () => {
    const session = await startCao();
    try {
      const err = await waitFor(
        () => session.stderr(),
        (e) => e.includes('cao-mcp dashboard:'),
        5000,
      );
      const [rec] = hubRecords(session.home);
      expect(err).toContain(`cao-mcp dashboard: ${rec.url}/  (run \`cao-mcp dashboard\` for the link with its token)`);
      expect(err).not.toContain(rec.token);
    } finally {
      await session.close();
    }
  });
});
