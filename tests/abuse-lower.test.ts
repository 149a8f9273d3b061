// Abuse suite, part 3: the lower items of issue 11 (paths, files, logs, tokens). Each failed on the code before it.
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { afterEach, describe, expect, it } from 'vitest';
import { connectHttp, startServe, stopProc } from './support/http-client.js';
import { textOf } from './support/cao-client.js';
import { waitFor } from './support/procs.js';
import { tokenOfTerminal } from './support/argv-scan.js';

const cleanup: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  while (cleanup.length) await cleanup.pop()!();
});
function tmpHome(prefix: string): string {
  const home = mkdtempSync(path.join(tmpdir(), prefix));
  cleanup.push(() => rmSync(home, { recursive: true, force: true }));
  return home;
}
async function serve(home: string, env: Record<string, string> = {}) {
  const s = await startServe(home, { CAO_MOCK_SCRIPT: JSON.stringify({ default: { answer: 'ok', stream: { chunks: 1, intervalMs: 0 } } }), ...env });
  cleanup.push(() => stopProc(s.proc));
  const sup = await connectHttp(s.hub, 'sup');
  cleanup.push(() => sup.close());
  return { ...s, sup };
}
const idOf = (r: CallToolResult) => (r.structuredContent as { terminal_id: string }).terminal_id;

describe('serve-token', () => {
  for (const [why, mode, value] of [
    ['world-readable', 0o644, 'Q'.repeat(40)],
    ['weak', 0o600, 'hunter2'],
  ] as const) {
    it(`a ${why} serve-token is replaced by a strong one, mode 0600, and the hub says so`, async () => {
      const home = tmpHome('cao-abuse-token-');
      const file = path.join(home, 'serve-token');
      writeFileSync(file, `${value}\n`);
      chmodSync(file, mode);
      const s = await serve(home);
      expect(s.hub.token).not.toBe(value);
      expect(s.hub.token).toMatch(/^[A-Za-z0-9_-]{32,}$/);
      expect(readFileSync(file, 'utf8').trim()).toBe(s.hub.token);
      expect(statSync(file).mode & 0o777).toBe(0o600);
      expect(s.stderr()).toMatch(
        new RegExp(`replaced .*serve-token: ${why === 'weak' ? 'it was too weak' : 'it was readable by others \\(mode 0644\\)'}`),
      );
    });
  }

  it('a strong private serve-token is kept', async () => {
    const home = tmpHome('cao-abuse-token-');
    const value = 'A'.repeat(10) + 'b_-'.repeat(10);
    writeFileSync(path.join(home, 'serve-token'), `${value}\n`, { mode: 0o600 });
    expect((await serve(home)).hub.token).toBe(value);
  });
});

describe('worker files', () => {
  it('run/<id>/ is removed when the worker ends', async () => {
    const home = tmpHome('cao-abuse-run-');
    const { sup } = await serve(home);
    const id = idOf(await sup.call('assign', { agent_profile: 'developer', provider: 'mock', message: 'hi' }));
    expect(existsSync(path.join(home, 'run', id))).toBe(true);
    await sup.call('stop_agent', { terminal_id: id });
    expect(existsSync(path.join(home, 'run', id))).toBe(false);
    const h = (await sup.call('handoff', { agent_profile: 'developer', provider: 'mock', message: 'hi' })).structuredContent as {
      terminal_id: string;
      success: boolean;
    };
    expect(h.success).toBe(true);
    // a finished handoff's worker is stopped right after its answer went out (not before)
    expect(
      await waitFor(
        () => existsSync(path.join(home, 'run', h.terminal_id)),
        (e) => !e,
        10_000,
      ),
    ).toBe(false);
  });

  it('a terminal log is capped and rotated (one previous file kept)', async () => {
    const home = tmpHome('cao-abuse-log-');
    const { sup } = await serve(home, { CAO_LOG_MAX_BYTES: '20000' });
    const id = idOf(await sup.call('assign', { agent_profile: 'developer', provider: 'mock', message: 'hi' }));
    for (let i = 0; i < 6; i++) {
      await waitFor(
        async () => ((await sup.call('read_output', { terminal_id: id })).structuredContent as { status: string }).status,
        (st) => st === 'completed',
        10_000,
      );
      await sup.call('send_message', { receiver_id: id, message: `turn ${i} ${'p'.repeat(6000)}` });
      await new Promise((r) => setTimeout(r, 1500));
    }
    const log = path.join(home, 'logs', `${id}.log`);
    await waitFor(() => existsSync(`${log}.1`), Boolean, 10_000);
    expect(existsSync(`${log}.1`)).toBe(true);
    // one flush (up to 64 KiB) may go over before the next rotation
    expect(statSync(log).size).toBeLessThanOrEqual(20000 + 64 * 1024);
    expect(statSync(`${log}.1`).mode & 0o777).toBe(0o600);
  });

  it("a worker's relative working_directory resolves against its own directory, not the hub's", async () => {
    const home = tmpHome('cao-abuse-wd-');
    const project = path.join(home, 'project');
    mkdirSync(path.join(project, 'sub'), { recursive: true });
    const { hub, sup } = await serve(home);
    const parent = idOf(await sup.call('assign', { agent_profile: 'developer', provider: 'mock', message: 'hi', working_directory: project }));
    await waitFor(() => tokenOfTerminal(parent), Boolean, 10_000);
    const client = new Client({ name: 'w', version: '1' });
    await client.connect(
      new StreamableHTTPClientTransport(new URL('/mcp', hub.url), {
        requestInit: { headers: { Authorization: `Bearer ${tokenOfTerminal(parent)}` } },
      }),
    );
    cleanup.push(() => client.close());
    const r = (await client.callTool({
      name: 'assign',
      arguments: { agent_profile: 'developer', provider: 'mock', message: 'hi', working_directory: 'sub' },
    })) as CallToolResult;
    expect(r.isError, textOf(r)).toBeFalsy();
    const agents = ((await sup.call('list_agents', {})).structuredContent as { agents: Array<{ id: string; working_directory: string }> }).agents;
    expect(agents.find((a) => a.id === idOf(r))?.working_directory).toBe(path.join(project, 'sub'));
  });
});
