// The dashboard with hubs on two hosts sharing one real PostgreSQL (issue 17), in Chromium: host alpha's page shows
// every host, a worker placed on host beta with its host and the question it asks there (no event of beta's reaches
// alpha: the page reads those rows again), and answers it from alpha (the call is carried out by beta's hub).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from './support/browser.js';
import { connectHttp, startServe, stopProc, type HttpCaller, type HubInfo } from './support/http-client.js';
import { startPostgres, type PgServer } from './support/postgres.js';
import { waitFor } from './support/procs.js';
import { readRecord } from './support/record.js';

const SCRIPT = {
  rules: [
    {
      match: 'parser',
      delayMs: 300,
      question: { text: 'Allow write to src/parser.ts?', options: ['Yes', 'No'], answers: { '1': 'Wrote src/parser.ts.', '2': 'Did not write it.' } },
    },
  ],
  default: { answer: 'got it: {{input}}' },
};

interface Host {
  name: string;
  home: string;
  record: string;
  proc: ChildProcess;
  hub: HubInfo;
}

let browser: Browser | null = null;
let pgServer: PgServer | null = null;
const hosts: Host[] = [];
let sup: HttpCaller | null = null;

beforeAll(async () => {
  browser = await launchChromium();
  pgServer = await startPostgres();
  const url = await pgServer.createDatabase();
  for (const name of ['alpha', 'beta']) {
    const home = mkdtempSync(join(tmpdir(), `cao-dash-${name}-`));
    const record = join(home, 'mock-record.jsonl');
    const { proc, hub } = await startServe(home, {
      CAO_DATABASE_URL: url,
      CAO_HOST_NAME: name,
      CAO_HOST_CAPACITY: '2',
      CAO_MOCK_SCRIPT: JSON.stringify(SCRIPT),
      CAO_MOCK_RECORD: record,
      CAO_WARM_POOL: '0',
    });
    hosts.push({ name, home, record, proc, hub });
  }
  sup = await connectHttp(hosts[0]!.hub, 'supervisor');
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await sup?.close();
  for (const h of hosts) {
    await stopProc(h.proc);
    rmSync(h.home, { recursive: true, force: true });
  }
  await pgServer?.stop();
}, 60_000);

describe('dashboard across hosts, in Chromium', () => {
  it('alpha’s page shows both hosts, beta’s worker with its host and its question; answered there, the choice is typed on beta', async () => {
    const [alpha, beta] = hosts as [Host, Host];
    const page = await browser!.newPage({ viewport: { width: 1400, height: 900 } });
    const problems: string[] = [];
    page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
    page.on('console', (m) => m.type() === 'error' && problems.push(`console: ${m.text()}`));
    await page.goto(`${alpha.hub.url}/?token=${encodeURIComponent(alpha.hub.token)}`);
    await page.waitForSelector('#conn.live', { timeout: 10_000 });
    const line = page.locator('#hosts-line');
    expect(await line.isVisible()).toBe(true);
    expect(await line.innerText()).toMatch(/alpha \(this one\) live 0\/2/);
    expect(await line.innerText()).toMatch(/beta live 0\/2/);

    const r = await sup!.call('assign', { agent_profile: 'developer', provider: 'mock', message: 'Fix the parser', host: 'beta' });
    expect(r.isError).toBeFalsy();
    const id = (r.structuredContent as { terminal_id: string }).terminal_id;
    // its row, with its host, comes to say it waits (read again from the database: beta's events stay on beta)
    const row = page.locator(`#agents-body tr[data-id="${id}"][data-status="waiting_user_answer"]`);
    await row.waitFor({ timeout: 20_000 });
    expect(await row.innerText()).toContain('mock @ beta');
    const card = page.locator(`#question-list .question[data-id="${id}"]`);
    await card.waitFor({ timeout: 5000 });
    expect(await card.locator('pre').innerText()).toMatch(/Allow write to src\/parser\.ts\?/);
    expect(await card.locator('.who').innerText()).toContain('@ beta');
    expect(await card.locator('button.opt').allInnerTexts()).toEqual(['1. Yes', '2. No']);
    // its screen is rendered on beta: selecting it here says where
    await row.click();
    expect(await page.locator('#screen-note').innerText()).toBe('This agent runs on host beta: its screen is on that host’s dashboard.');
    // beta's heartbeat counts its worker
    await page.waitForFunction(() => /beta live 1\/2/.test(document.getElementById('hosts-line')!.textContent ?? ''), undefined, { timeout: 10_000 });

    await card.locator('button.opt[data-answer="1"]').click();
    const choices = await waitFor(
      () => readRecord(beta.record).filter((x) => x.event === 'choice' && x.terminal === id),
      (c) => c.length > 0,
      15_000,
    );
    expect(choices).toHaveLength(1);
    expect(choices[0]).toMatchObject({ choice: 1 });
    expect(readRecord(alpha.record).filter((x) => x.terminal === id)).toEqual([]);
    // once beta's row says it is done, the question goes from alpha's page
    await page.locator(`#agents-body tr[data-id="${id}"][data-status="completed"]`).waitFor({ timeout: 15_000 });
    await card.waitFor({ state: 'detached', timeout: 5000 });
    expect(await page.locator('#questions').isHidden()).toBe(true);
    expect(problems).toEqual([]);
    await sup!.call('stop_agent', { terminal_id: id });
  }, 120_000);
});
