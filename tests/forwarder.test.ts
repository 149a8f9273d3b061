import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { CLI } from './support/cao-client.js';
import { startServe, stopProc } from './support/http-client.js';

const run = promisify(execFile);
const home = mkdtempSync(join(tmpdir(), 'cao-fwd-'));
const cleanup: Array<() => unknown> = [];
afterAll(async () => {
  for (const f of cleanup.reverse()) await f();
  rmSync(home, { recursive: true, force: true });
});

/** Runs `cao-mcp` in worker (forwarding) mode with the given variables; returns its exit code and stderr. */
async function forwarder(env: Record<string, string>): Promise<{ code: number; stderr: string }> {
  try {
    await run(process.execPath, [CLI], { env: { ...(process.env as Record<string, string>), CAO_HOME: home, ...env }, timeout: 15_000 });
    return { code: 0, stderr: '' };
  } catch (e) {
    const err = e as { code: number; stderr: string };
    return { code: err.code, stderr: err.stderr };
  }
}

describe("worker mode: a worker's own cao-mcp forwards to its hub, and only with valid credentials", () => {
  it('names the missing variables when only some are set', async () => {
    const r = await forwarder({ CAO_TERMINAL_ID: 'abcdef12' });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/CAO_HUB_URL, CAO_TERMINAL_ID and CAO_TOKEN/);
  });

  it('refuses a malformed terminal id', async () => {
    const r = await forwarder({ CAO_HUB_URL: 'http://127.0.0.1:9', CAO_TERMINAL_ID: '../../etc', CAO_TOKEN: 'x' });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/CAO_TERMINAL_ID "\.\.\/\.\.\/etc" is not a cao-mcp terminal id/);
  });

  it('says so when the hub rejects the token', async () => {
    const serve = await startServe(home);
    cleanup.push(() => stopProc(serve.proc));
    const r = await forwarder({ CAO_HUB_URL: serve.hub.url, CAO_TERMINAL_ID: 'abcdef12', CAO_TOKEN: 'forged-token' });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/rejected the token of terminal abcdef12/);
  });

  it('says so when no hub listens at the address', async () => {
    const r = await forwarder({ CAO_HUB_URL: 'http://127.0.0.1:9', CAO_TERMINAL_ID: 'abcdef12', CAO_TOKEN: 'x' });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/cannot reach the cao-mcp hub at http:\/\/127\.0\.0\.1:9/);
  });
});
