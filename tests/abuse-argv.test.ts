// Abuse suite, part 4: no secret on any process's command line (argv is world-readable: `ps`, /proc/<pid>/cmdline).
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getProvider } from '../src/providers/registry.js';
import { PROVIDER_IDS, type LaunchContext } from '../src/providers/types.js';
import { checkArgv } from '../src/flows/worker-args.js';
import { connectHttp, startServe, stopProc } from './support/http-client.js';
import { pidsWithEnv, waitFor } from './support/procs.js';
import { readRecord } from './support/record.js';
import { processesWithArgvContaining, tokenOfTerminal } from './support/argv-scan.js';
import { testLaunchContext } from './support/launch-context.js';

const SECRET = 'SeCrEt-token-9f8e7d6c5b4a39281706';

describe('every provider keeps the worker token off the command line', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'cao-abuse-argv-'));
    mkdirSync(path.join(dir, 'bin'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const ctx = (): LaunchContext => {
    const bin = path.join(dir, 'bin', 'cli');
    const env: Record<string, string> = { HOME: dir };
    for (const v of ['CAO_CLAUDE_BIN', 'CAO_CODEX_BIN', 'CAO_GEMINI_BIN', 'CAO_OPENCODE_BIN', 'CAO_KIRO_BIN', 'CAO_KIMI_BIN']) env[v] = bin;
    return testLaunchContext({ dir, workingDirectory: dir, token: SECRET, env });
  };

  for (const p of PROVIDER_IDS.map((id) => getProvider(id))) {
    it(`${p.id}: no argument holds the token, and the token still reaches the worker's environment`, async () => {
      const spec = await p.launch(ctx());
      expect([spec.command, ...spec.args].filter((a) => a.includes(SECRET))).toEqual([]);
      expect(() => checkArgv(spec.command, spec.args, [SECRET])).not.toThrow();
      expect(spec.env.CAO_TOKEN).toBe(SECRET);
    });
  }

  it('the last gate before spawn refuses a secret or a control byte in argv', () => {
    expect(() => checkArgv('/bin/cli', ['-c', `x.env={"CAO_TOKEN"="${SECRET}"}`], [SECRET])).toThrow(/secret on its command line/);
    expect(() => checkArgv('/bin/cli', ['--model', 'a\u001b[2J'], [SECRET])).toThrow(/control character/);
    expect(() => checkArgv('/bin/cli', ['--append-system-prompt=line 1\r\nline 2\tend'], [SECRET])).not.toThrow();
  });
});

describe('a live mock worker and its MCP server (the forwarder)', () => {
  it("no process has the worker's token on its command line; the forwarder has it in its environment", async () => {
    const home = mkdtempSync(path.join(tmpdir(), 'cao-abuse-argv-live-'));
    const record = path.join(home, 'record.jsonl');
    const script = { rules: [{ match: 'report', toolCalls: [{ server: 'cao', tool: 'list_agents', arguments: {} }], answer: 'listed' }] };
    const s = await startServe(home, { CAO_MOCK_SCRIPT: JSON.stringify(script), CAO_MOCK_RECORD: record });
    const sup = await connectHttp(s.hub, 'sup');
    try {
      const id = ((await sup.call('assign', { agent_profile: 'developer', provider: 'mock', message: 'report' })) as CallToolResult)
        .structuredContent as { terminal_id: string };
      await waitFor(
        () => readRecord(record).filter((r) => r.event === 'tool_result' || r.event === 'answer'),
        (x) => x.length > 0,
        15_000,
      );
      const token = tokenOfTerminal(id.terminal_id);
      expect(token).toBeTruthy();
      // the mock CLI and the cao-mcp forwarder it keeps running as its MCP server
      expect(pidsWithEnv('CAO_TERMINAL_ID', id.terminal_id).length).toBeGreaterThanOrEqual(2);
      expect(processesWithArgvContaining(token!)).toEqual([]);
      expect(processesWithArgvContaining(s.hub.token)).toEqual([]);
    } finally {
      await sup.close();
      await stopProc(s.proc);
      rmSync(home, { recursive: true, force: true });
    }
  });
});
