import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawn, type ChildProcess } from 'node:child_process';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { CLI } from './cao-client.js';
import { waitFor } from './procs.js';

export interface HubInfo {
  url: string;
  token: string;
  pid: number;
}

/** Reads the hub record(s) a hub wrote under CAO_HOME. */
export function hubRecords(home: string): HubInfo[] {
  try {
    const dir = join(home, 'hubs');
    return readdirSync(dir)
      .filter((f) => f.endsWith('.json'))
      .map((f) => JSON.parse(readFileSync(join(dir, f), 'utf8')) as HubInfo);
  } catch {
    return [];
  }
}

/** Starts `cao-mcp serve` on a free port and waits for its hub record. */
export function startServe(home: string, env: Record<string, string> = {}): Promise<{ proc: ChildProcess; hub: HubInfo; stderr: () => string }> {
  return startHubProcess(home, ['serve', '--port', '0'], env);
}

/** Starts a hub command of cao-mcp (`serve`, `hub`) with this CAO_HOME and waits for the hub record it writes. */
export async function startHubProcess(
  home: string,
  args: string[],
  env: Record<string, string> = {},
): Promise<{ proc: ChildProcess; hub: HubInfo; stderr: () => string }> {
  const proc = spawn(process.execPath, [CLI, ...args], {
    env: { ...(process.env as Record<string, string>), CAO_HOME: home, ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let err = '';
  proc.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const recs = await waitFor(
    () => hubRecords(home).filter((r) => r.pid === proc.pid),
    (r) => r.length > 0,
    20_000,
  );
  if (!recs.length) throw new Error(`cao-mcp ${args.join(' ')} did not start:\n${err}`);
  return { proc, hub: recs[0]!, stderr: () => err };
}

export interface HttpCaller {
  client: Client;
  call: (name: string, args: Record<string, unknown>, timeout?: number) => Promise<CallToolResult>;
  close: () => Promise<void>;
}

/** An MCP client over Streamable HTTP, as the external supervisor `name`. */
export async function connectHttp(hub: HubInfo, name: string): Promise<HttpCaller> {
  const client = new Client({ name, version: '1' });
  const transport = new StreamableHTTPClientTransport(new URL('/mcp', hub.url), {
    requestInit: { headers: { Authorization: `Bearer ${hub.token}`, 'X-Cao-Supervisor': name } },
  });
  await client.connect(transport);
  return {
    client,
    call: async (n, a, timeout = 120_000) => (await client.callTool({ name: n, arguments: a }, undefined, { timeout })) as CallToolResult,
    close: () => client.close().catch(() => undefined),
  };
}

/** Ends a child process and waits until it has exited. */
export function stopProc(proc: ChildProcess, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    proc.once('exit', () => resolve());
    proc.kill(signal);
  });
}
