import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { LoggingMessageNotificationSchema, type CallToolResult } from '@modelcontextprotocol/sdk/types.js';

export const REPO = resolve(fileURLToPath(new URL('.', import.meta.url)), '..', '..');
export const CLI = join(REPO, 'dist', 'cli', 'main.js');

export interface CaoSession {
  client: Client;
  home: string;
  stderr: () => string;
  notifications: unknown[];
  call: (
    name: string,
    args: Record<string, unknown>,
    opts?: { timeout?: number; onprogress?: (p: { progress: number; message?: string }) => void },
  ) => Promise<CallToolResult>;
  close: () => Promise<void>;
}

/** Starts `cao-mcp` (built, from dist/) as a child process with the SDK's stdio client, like Claude Code would. */
export async function startCao(
  opts: {
    env?: Record<string, string>;
    home?: string;
    cwd?: string;
    /** leave the daemon hub running on close */ keepHub?: boolean;
    /** runs the front through this (e.g. `ip netns exec <ns>`: the front, its hub and pty host live in that namespace) */
    wrap?: (cmd: string, args: string[]) => [string, string[]];
    /** the client's name (the supervisor's, by default) */
    name?: string;
  } = {},
): Promise<CaoSession> {
  const home = opts.home ?? mkdtempSync(join(tmpdir(), 'cao-test-'));
  const [command, args] = opts.wrap ? opts.wrap(process.execPath, [CLI]) : [process.execPath, [CLI]];
  const transport = new StdioClientTransport({
    command,
    args,
    cwd: opts.cwd ?? REPO,
    env: { ...(process.env as Record<string, string>), CAO_HOME: home, ...opts.env },
    stderr: 'pipe',
  });
  let err = '';
  transport.stderr?.on('data', (d: Buffer) => (err += d.toString()));
  const client = new Client({ name: opts.name ?? 'test-supervisor', version: '1.0.0' });
  const notifications: unknown[] = [];
  client.setNotificationHandler(LoggingMessageNotificationSchema, (n) => void notifications.push(n.params));
  await client.connect(transport);
  return {
    client,
    home,
    stderr: () => err,
    notifications,
    call: async (name, args, o = {}) =>
      (await client.callTool({ name, arguments: args }, undefined, { timeout: o.timeout ?? 120_000, onprogress: o.onprogress })) as CallToolResult,
    close: async () => {
      await client.close().catch(() => undefined);
      // `cao-mcp` is a front over a daemon hub (and a pty host) of this CAO_HOME: end them with the session
      if (!opts.keepHub) stopEverything(home);
      if (!opts.home) rmSync(home, { recursive: true, force: true });
    },
  };
}

/**
 * `cao-mcp stop --all` for a CAO_HOME: its hubs, their workers and its pty host. `where` is the CAO_HOME, or the
 * whole environment a session ran with (its CAO_HOME, or a HOME whose default one it used).
 */
export function stopEverything(where: string | Record<string, string>, opts: { cwd?: string; timeoutMs?: number } = {}): void {
  const env = typeof where === 'string' ? { ...(process.env as Record<string, string>), CAO_HOME: where } : where;
  try {
    execFileSync(process.execPath, [CLI, 'stop', '--all'], { env, cwd: opts.cwd, stdio: 'ignore', timeout: opts.timeoutMs ?? 40_000 });
  } catch {
    /* nothing ran, or it is already gone */
  }
}

export function textOf(r: CallToolResult): string {
  return r.content.map((c) => (c.type === 'text' ? c.text : '')).join('\n');
}
