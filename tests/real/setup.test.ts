import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, stopEverything } from '../support/cao-client.js';
import { waitFor } from '../support/procs.js';
import { RESULTS_DIR } from './support/hub.js';
import { startFakeModel, type FakeModel } from '../support/fake-model/index.js';
import {
  RECORD_MCP_SERVER,
  REAL_CLI_VERSIONS,
  assertLoopbackOnlyNetwork,
  binPath,
  pidsWithEnv,
  seedRealCli,
  startRealTui,
  waitNoProcessesWithEnv,
  type LaunchSpec,
  type RealCli,
} from '../support/real-clis/index.js';

// `cao-mcp setup <client> --local` on the real CLIs: each one, in a throwaway HOME seeded as the harness does, must
// then list cao and connect to it (Codex's list does not connect: a short TUI session whose scripted turn calls a cao tool).
// Run: bash scripts/test-real.sh tests/real/setup.test.ts

let runs = 0;

interface Run {
  code: number | null;
  out: string;
}

/** Runs a command in its own process group with the seeded env; the group is killed after `ms`. */
function run(spec: LaunchSpec, command: string, args: string[], ms: number): Promise<Run> {
  return new Promise((resolve) => {
    const p = spawn(command, args, { cwd: spec.cwd, env: spec.env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let out = '';
    p.stdout.on('data', (d: Buffer) => (out += d.toString()));
    p.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const timer = setTimeout(() => {
      out += `\n[killed after ${ms} ms]`;
      try {
        process.kill(-p.pid!, 'SIGKILL');
      } catch {
        /* gone */
      }
    }, ms);
    p.on('close', (code) => {
      clearTimeout(timer);
      const clean = out.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '');
      mkdirSync(RESULTS_DIR, { recursive: true });
      const tag = [path.basename(command), ...args.filter((a) => !a.includes('/')).slice(0, 3)].join('-').replace(/[^\w.-]+/g, '_');
      writeFileSync(path.join(RESULTS_DIR, `setup-${spec.cli}-${++runs}-${tag}.txt`), clean);
      resolve({ code, out: clean });
    });
  });
}

const cmdline = (pid: number) => {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'latin1').split('\0').join(' ');
  } catch {
    return '';
  }
};

let tmpRoot: string;
beforeAll(() => {
  tmpRoot = mkdtempSync(path.join(os.tmpdir(), 'cao-real-setup-'));
});
afterAll(() => {
  if (tmpRoot) rmSync(tmpRoot, { recursive: true, force: true });
});

async function withSeeded(
  cli: RealCli,
  script: Parameters<typeof startFakeModel>[0],
  body: (spec: LaunchSpec, fm: FakeModel) => Promise<void>,
): Promise<void> {
  assertLoopbackOnlyNetwork();
  binPath(cli);
  const fm = await startFakeModel(script);
  const cwd = path.join(tmpRoot, `${cli}-work`);
  mkdirSync(cwd, { recursive: true });
  const spec = seedRealCli(cli, { modelUrl: fm.url, cwd, tmpRoot });
  try {
    const setup = await run(spec, process.execPath, [CLI, 'setup', cli, '--local'], 30_000);
    expect(setup.code, setup.out).toBe(0);
    expect(setup.out).toContain('registered "cao"');
    await body(spec, fm);
  } catch (err) {
    mkdirSync(RESULTS_DIR, { recursive: true });
    writeFileSync(path.join(RESULTS_DIR, `setup-${cli}-requests.json`), JSON.stringify(fm.requests, null, 1));
    throw err;
  } finally {
    // the CLIs started cao-mcp fronts, which started a hub daemon (and a pty host) in this HOME: end them
    stopEverything(spec.env, { cwd, timeoutMs: 60_000 });
    const left = await waitNoProcessesWithEnv('HOME', spec.home, 10_000);
    for (const pid of left) {
      try {
        process.kill(pid, 'SIGKILL'); // ours (its env carries our throwaway HOME); the assertion below still fails
      } catch {
        /* gone */
      }
    }
    await fm.close();
    expect(left, `${cli}: processes left behind`).toEqual([]);
  }
}

const noScript = { script: { turns: [] } };

describe('cao-mcp setup on the real CLIs', () => {
  it(`claude ${REAL_CLI_VERSIONS.claude.version}: claude mcp list shows cao connected, claude mcp get shows its timeout`, async () => {
    await withSeeded('claude', noScript, async (spec) => {
      const list = await run(spec, binPath('claude'), ['mcp', 'list'], 90_000);
      expect(list.code, list.out).toBe(0);
      expect(list.out).toMatch(/^cao: .*main\.js - [✓✔] Connected$/m);
      const get = await run(spec, binPath('claude'), ['mcp', 'get', 'cao'], 90_000);
      expect(get.out).toMatch(/Scope: User config/);
      expect(get.out).toMatch(/Timeout: 3660000ms/);
    });
  }, 240_000);

  it(`claude ${REAL_CLI_VERSIONS.claude.version}: the per-server timeout setup writes is the one Claude Code applies to a tool call`, async () => {
    const record = path.join(tmpRoot, 'claude-timeout-record.txt');
    // Claude Code connects MCP servers in the background: the scripted model waits for them first (as in scenarios.ts)
    const call = {
      match: 'delegate',
      toolCall: { name: 'WaitForMcpServers', arguments: {} },
      afterTool: { toolCall: { name: 'mcp__slow__send_message', arguments: { message: 'slow' } }, afterTool: 'AFTER-TIMEOUT' },
    };
    await withSeeded('claude', { script: { turns: [call] } }, async (spec, fm) => {
      // a slow server registered in the user config with a 2 s timeout; it inherits RECORD_* from Claude's environment
      const slow = await run(
        spec,
        process.execPath,
        [CLI, 'setup', 'claude', '--command', `${process.execPath} ${RECORD_MCP_SERVER}`, '--name', 'slow', '--timeout', '2'],
        30_000,
      );
      expect(slow.code, slow.out).toBe(0);
      const env = { ...spec.env, RECORD_FILE: record, RECORD_DELAY_MS: '10000' };
      const started = Date.now();
      const p = await run({ ...spec, env }, binPath('claude'), ['-p', 'please delegate this', '--dangerously-skip-permissions'], 120_000);
      const after = fm.log.find((e) => e.kind === 'after-tool' && 'text' in e.answer && e.answer.text === 'AFTER-TIMEOUT');
      expect(after?.toolResult?.text, p.out).toMatch(/timed out after 2s/);
      expect(Date.now() - started).toBeLessThan(60_000);
    });
  }, 240_000);

  it(`gemini ${REAL_CLI_VERSIONS.gemini.version}: gemini mcp list shows cao connected`, async () => {
    await withSeeded('gemini', noScript, async (spec) => {
      const list = await run(spec, binPath('gemini'), ['mcp', 'list'], 90_000);
      expect(list.code, list.out).toBe(0);
      expect(list.out).toMatch(/✓ cao: .*main\.js.*\(stdio\) - Connected/);
    });
  }, 240_000);

  it(`opencode ${REAL_CLI_VERSIONS.opencode.version}: opencode mcp list shows cao connected`, async () => {
    await withSeeded('opencode', noScript, async (spec) => {
      const list = await run(spec, binPath('opencode'), ['mcp', 'list'], 120_000);
      expect(list.code, list.out).toBe(0);
      expect(list.out).toMatch(/✓ cao connected\n.*main\.js/);
    });
  }, 240_000);

  it(`codex ${REAL_CLI_VERSIONS.codex.version}: codex mcp get shows cao with a float timeout, and a turn of the TUI calls its list_profiles`, async () => {
    const script = { script: { turns: [{ match: 'profiles', toolCall: { name: 'list_profiles', arguments: {} }, afterTool: 'LISTED-PROFILES' }] } };
    await withSeeded('codex', script, async (spec, fm) => {
      const config = readFileSync(path.join(spec.env.CODEX_HOME, 'config.toml'), 'utf8');
      expect(config).toContain('[model_providers.fake]'); // the seeded config was merged into, not replaced
      const get = await run(spec, binPath('codex'), ['mcp', 'get', 'cao', '--json'], 60_000);
      expect(get.code, get.out).toBe(0);
      const entry = JSON.parse(get.out.slice(get.out.indexOf('{'))) as Record<string, any>;
      expect(entry).toMatchObject({ name: 'cao', enabled: true });
      expect(JSON.stringify(entry)).toContain('main.js');
      expect(get.out).toMatch(/"tool_timeout_sec":\s*3660(\.0)?\b/);

      // `codex exec` sends its first request before MCP servers are up (cao's tools are then not offered): use the
      // TUI, and type once cao-mcp runs and the screen has settled.
      const tui = startRealTui(spec, 120, 40);
      try {
        await tui.waitFor(/Ask Codex to do anything/, 60_000, 'the idle prompt');
        const up = await waitFor(
          () => pidsWithEnv('HOME', spec.home).filter((pid) => cmdline(pid).includes(CLI)),
          (p) => p.length > 0,
          30_000,
        );
        expect(up.length, 'cao-mcp started by Codex').toBeGreaterThan(0);
        while (Date.now() - tui.screen.lastWrite < 1500) await new Promise((r) => setTimeout(r, 100));
        const n = fm.requests.length;
        await tui.submit('please list the profiles', { accepted: () => fm.requests.length > n, retries: 3, retryMs: 3000 });
        const after = await fm.waitFor((e) => e.kind === 'after-tool', 90_000);
        expect(after.toolResult?.text, tui.text()).toContain('developer');
        await tui.waitFor(/LISTED-PROFILES/, 30_000, 'the answer after the tool call');
      } finally {
        tui.kill();
        await Promise.race([tui.exited, new Promise((r) => setTimeout(r, 5000))]);
      }
    });
  }, 300_000);
});
