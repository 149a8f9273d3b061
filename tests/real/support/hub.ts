import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { LoggingMessageNotificationSchema, type CallToolResult, type Progress } from '@modelcontextprotocol/sdk/types.js';
import { CLI, REPO, stopEverything } from '../../support/cao-client.js';
import { startFakeModel, type FakeModel, type FakeScript } from '../../support/fake-model/index.js';
import {
  REAL_CLI_VERSIONS,
  assertLoopbackOnlyNetwork,
  binPath,
  pidsWithEnv,
  seedRealClis,
  waitNoProcessesWithEnv,
  type AnyCli,
} from '../../support/real-clis/index.js';
import { Screen } from '../../../src/screen/screen.js';

/** cao-mcp's provider id for each real CLI, and the variable that points the provider at its binary. */
export const PROVIDER_OF: Record<AnyCli, string> = {
  claude: 'claude_code',
  codex: 'codex',
  gemini: 'gemini_cli',
  opencode: 'opencode',
  qwen: 'qwen_code',
  kilo: 'kilo_code',
  copilot: 'copilot_cli',
  pi: 'pi',
  droid: 'droid',
};
export const BIN_ENV: Record<AnyCli, string> = {
  claude: 'CAO_CLAUDE_BIN',
  codex: 'CAO_CODEX_BIN',
  gemini: 'CAO_GEMINI_BIN',
  opencode: 'CAO_OPENCODE_BIN',
  qwen: 'CAO_QWEN_BIN',
  kilo: 'CAO_KILO_BIN',
  copilot: 'CAO_COPILOT_BIN',
  pi: 'CAO_PI_BIN',
  droid: 'CAO_DROID_BIN',
};
/** Terminal sizes the providers run at (to render a worker's raw log back into a screen). */
const SIZES: Record<string, [number, number]> = {
  claude_code: [200, 50],
  codex: [200, 50],
  gemini_cli: [200, 50],
  opencode: [200, 60],
  qwen_code: [200, 50],
  copilot_cli: [200, 50],
  kilo_code: [200, 60],
  droid: [200, 50],
  pi: [200, 50],
};

export const RESULTS_DIR = path.join(REPO, 'test-results', 'real');

export interface Agent {
  id: string;
  profile: string;
  provider: string;
  status: string;
  creator: string;
  pending_messages: number;
  ended: boolean;
  question?: string | null;
  last_error?: string;
}

export interface RealHub {
  fm: FakeModel;
  /** The trusted project directory workers run in (cao-mcp's cwd). */
  project: string;
  /** The throwaway HOME every CLI was seeded into. */
  home: string;
  caoHome: string;
  outDir: string;
  notifications: unknown[];
  /** `onprogress`: the call's progress notifications (a progress token is sent with the request when it is given). */
  call(name: string, args: Record<string, unknown>, timeoutMs?: number, onprogress?: (p: Progress) => void): Promise<CallToolResult>;
  /** Calls a tool and returns its structured content; throws with the text when the tool reported an error. */
  ok<T = Record<string, unknown>>(name: string, args: Record<string, unknown>, timeoutMs?: number): Promise<T>;
  agents(includeEnded?: boolean): Promise<Agent[]>;
  /** Polls list_agents until the agent's status satisfies `pred`; throws with the last status (and its screen) after `ms`. */
  waitStatus(id: string, pred: (s: string) => boolean, ms: number, what?: string): Promise<Agent>;
  /** Every worker's screen so far (rendered from its raw log), by terminal id. */
  screens(): Promise<Record<string, string>>;
  stderr(): string;
}

export const textOf = (r: CallToolResult) => r.content.map((c) => (c.type === 'text' ? c.text : '')).join('\n');

/**
 * Renders a worker's raw pty log into the rows our emulator shows (scrollback + visible). A full-screen TUI
 * (OpenCode) clears its alternate screen when it quits: then the last frame that still showed something is kept.
 */
async function renderLog(file: string, provider: string): Promise<string> {
  const [cols, rows] = SIZES[provider] ?? [200, 50];
  const screen = new Screen({ cols, rows });
  const buf = readFileSync(file);
  let kept = '';
  for (let i = 0; i < buf.length; i += 4096) {
    await screen.write(buf.subarray(i, i + 4096));
    const snap = screen.snapshot();
    const text = snap.lines.join('\n').replace(/\n+$/, '\n');
    if (snap.lines.filter((l) => l.trim()).length >= 3) kept = text;
  }
  screen.term.dispose();
  return kept;
}

/**
 * One end-to-end run: fake model, one throwaway HOME seeded for `clis`, and cao-mcp over stdio (the hub) with that
 * HOME's environment, so every worker it spawns is a real CLI talking to the fake model. `body` gets the hub; on the
 * way out the screens, the model log and the hub's stderr are kept under test-results/real/<tag>/, cao-mcp is closed,
 * and the run fails if any process of it is left.
 */
export async function withRealHub(
  clis: AnyCli[],
  tag: string,
  script: FakeScript,
  body: (h: RealHub) => Promise<void>,
  opts: { env?: Record<string, string> } = {},
): Promise<void> {
  // Without the namespace the CLIs would reach vendor hosts: fail, never skip.
  assertLoopbackOnlyNetwork();
  if (!existsSync(CLI)) throw new Error(`cao-mcp is not built (${CLI} missing): run npm run build`);
  const bins = Object.fromEntries(clis.map((c) => [BIN_ENV[c], binPath(c)]));
  const outDir = path.join(RESULTS_DIR, tag);
  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(outDir, { recursive: true });
  const tmp = mkdtempSync(path.join(os.tmpdir(), `cao-real-${tag}-`));
  const project = path.join(tmp, 'project');
  const caoHome = path.join(tmp, 'cao-home');
  mkdirSync(project, { recursive: true });
  mkdirSync(caoHome, { recursive: true });
  const fm = await startFakeModel({ script });
  const seeded = seedRealClis(clis, { modelUrl: fm.url, cwd: project, home: path.join(tmp, 'home') });
  // Complete environment, nothing inherited from the test process but what the seed keeps (PATH).
  // Warm spares (a second CLI started after each use) only where a test is about them: on 2 cores they would
  // start beside the very turns the other scenarios time.
  const env = { ...seeded.env, ...bins, CAO_HOME: caoHome, CAO_WARM_POOL: '0', ...opts.env };
  const transport = new StdioClientTransport({ command: process.execPath, args: [CLI], cwd: project, env, stderr: 'pipe' });
  let err = '';
  transport.stderr?.on('data', (d: Buffer) => (err += d.toString()));
  const client = new Client({ name: `real-e2e-${tag}`, version: '1.0.0' });
  const notifications: unknown[] = [];
  client.setNotificationHandler(LoggingMessageNotificationSchema, (n) => void notifications.push(n.params));
  const call = async (name: string, args: Record<string, unknown>, timeoutMs = 300_000, onprogress?: (p: Progress) => void) =>
    (await client.callTool({ name, arguments: args }, undefined, {
      timeout: timeoutMs,
      resetTimeoutOnProgress: false,
      onprogress,
    })) as CallToolResult;
  const ok = async <T>(name: string, args: Record<string, unknown>, timeoutMs?: number): Promise<T> => {
    const r = await call(name, args, timeoutMs);
    if (r.isError) throw new Error(`${name}(${JSON.stringify(args)}) failed: ${textOf(r)}`);
    return r.structuredContent as T;
  };
  const agents = async (includeEnded = false) => (await ok<{ agents: Agent[] }>('list_agents', { include_ended: includeEnded })).agents;
  const logsDir = path.join(caoHome, 'logs');
  const providers = new Map<string, string>();
  const screens = async () => {
    try {
      for (const a of await agents(true)) providers.set(a.id, a.provider);
    } catch {
      /* the hub may be gone */
    }
    const out: Record<string, string> = {};
    if (!existsSync(logsDir)) return out;
    // terminals' raw logs only (the hub daemon and the pty host log there too)
    for (const f of readdirSync(logsDir).filter((x) => /^[0-9a-f]{8}\.log$/.test(x))) {
      const id = f.slice(0, -4);
      try {
        out[id] = await renderLog(path.join(logsDir, f), providers.get(id) ?? '');
      } catch (e) {
        out[id] = `(could not render: ${(e as Error).message})`;
      }
    }
    return out;
  };
  const hub: RealHub = {
    fm,
    project,
    home: seeded.home,
    caoHome,
    outDir,
    notifications,
    call,
    ok,
    agents,
    async waitStatus(id, pred, ms, what = 'status') {
      const until = Date.now() + ms;
      let last: Agent | undefined;
      for (;;) {
        last = (await agents(true)).find((a) => a.id === id);
        if (last && pred(last.status)) return last;
        if (Date.now() > until) {
          const screen = last && !last.ended ? textOf(await call('read_output', { terminal_id: id, mode: 'screen' })) : '(ended)';
          throw new Error(`agent ${id}: no ${what} within ${ms} ms; last: ${JSON.stringify(last)}\n${screen}`);
        }
        await new Promise((r) => setTimeout(r, 300));
      }
    },
    screens,
    stderr: () => err,
  };

  const saveScreens = async () => {
    const saved: Record<string, string> = {};
    for (const [id, text] of Object.entries(await screens())) {
      const name = `${providers.get(id) || 'worker'}-${id}`;
      saved[name] = text;
      writeFileSync(path.join(outDir, `${name}.screen.txt`), text);
      // the raw bytes too: a detector bug is found by replaying them
      copyFileSync(path.join(logsDir, `${id}.log`), path.join(outDir, `${name}.raw.log`));
    }
    return saved;
  };

  let failure: unknown;
  try {
    await client.connect(transport);
    await body(hub);
  } catch (e) {
    failure = e;
  }
  const saved = await saveScreens();
  writeFileSync(path.join(outDir, 'model-log.json'), JSON.stringify(fm.log, null, 1));
  // CI keeps only the console: a failure carries what the workers showed and the hub's last log lines with it
  if (failure instanceof Error) failure.message += `\n${failureContext(saved, path.join(logsDir, 'hub.log'))}`;
  // the raw requests only for a failure: they are large (system prompts, tool schemas)
  if (failure !== undefined) writeFileSync(path.join(outDir, 'model-requests.json'), JSON.stringify(fm.requests, null, 1));
  await client.close().catch(() => undefined);
  // cao-mcp is a front: the hub daemon and the pty host of this CAO_HOME run on (durable workers); end them.
  stopEverything(env, { timeoutMs: 60_000 });
  writeFileSync(path.join(outDir, 'cao-stderr.txt'), err);
  // Everything cao-mcp and its workers started carries the throwaway HOME: none of it may outlive `stop --all`.
  const left = await waitNoProcessesWithEnv('HOME', seeded.home, 10_000);
  for (const pid of left) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      /* gone */
    }
  }
  await fm.close();
  if (failure === undefined) rmSync(tmp, { recursive: true, force: true });
  else writeFileSync(path.join(outDir, 'failure.txt'), `${(failure as Error)?.stack ?? String(failure)}\n\ntmp dir kept: ${tmp}\n`);
  if (failure !== undefined) throw failure;
  if (left.length) throw new Error(`${tag}: processes left after cao-mcp closed: ${left.join(', ')}`);
}

/** The last rows of each worker's screen and of the hub's log, for a failure's message. */
function failureContext(screens: Record<string, string>, hubLog: string): string {
  const tail = (text: string, n: number) =>
    text
      .split('\n')
      .filter((l) => l.trim() !== '')
      .slice(-n)
      .join('\n');
  const parts = Object.entries(screens).map(([name, text]) => `--- ${name}: last rows of its screen\n${tail(text, 30)}`);
  if (existsSync(hubLog)) parts.push(`--- hub.log: last lines\n${tail(readFileSync(hubLog, 'utf8'), 25)}`);
  return parts.join('\n');
}

export function versionOf(cli: AnyCli): string {
  return REAL_CLI_VERSIONS[cli].version;
}

export { pidsWithEnv };
