/**
 * MCP servers the mock agent calls for scripted tool calls. Config in Claude Code's format
 * (`{"mcpServers": {"cao": {"command", "args", "env"}}}`), from a file or inline JSON. A server is started
 * over stdio on its first call and kept for the next ones; its stderr never reaches the screen.
 */
import { openSync, readFileSync } from 'node:fs';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { z } from 'zod';

const serverSchema = z.object({
  command: z.string().min(1),
  args: z.array(z.string()).default([]),
  env: z.record(z.string(), z.string()).default({}),
  cwd: z.string().optional(),
});
const configSchema = z.object({ mcpServers: z.record(z.string(), serverSchema) });
export type McpServerConfig = z.infer<typeof serverSchema>;

/** Parses every `--mcp-config` value (a path or inline JSON) and merges their servers. */
export function loadMcpConfigs(values: string[]): Record<string, McpServerConfig> {
  const servers: Record<string, McpServerConfig> = {};
  for (const v of values) {
    const text = v.trim().startsWith('{') ? v : readFileSync(v, 'utf8');
    const r = configSchema.safeParse(JSON.parse(text));
    if (!r.success) {
      const first = r.error.issues[0];
      throw new Error(`invalid --mcp-config ${v.trim().startsWith('{') ? '(inline)' : v}: ${first.path.join('.')}: ${first.message}`);
    }
    Object.assign(servers, r.data.mcpServers);
  }
  return servers;
}

export interface ToolResult {
  text: string;
  isError: boolean;
}

export class McpClients {
  private readonly clients = new Map<string, Promise<Client>>();

  constructor(
    private readonly servers: Record<string, McpServerConfig>,
    private readonly opts: { timeoutMs: number; stderrLog?: string },
  ) {}

  async call(server: string, tool: string, args: Record<string, unknown>): Promise<ToolResult> {
    try {
      const client = await this.client(server);
      const res = await client.callTool({ name: tool, arguments: args }, undefined, {
        timeout: this.opts.timeoutMs,
        resetTimeoutOnProgress: true,
      });
      const content = Array.isArray(res.content) ? (res.content as Array<{ type: string; text?: string }>) : [];
      const text = content.map((c) => (c.type === 'text' ? (c.text ?? '') : `[${c.type}]`)).join('\n');
      return { text, isError: res.isError === true };
    } catch (e) {
      return { text: (e as Error).message || String(e), isError: true };
    }
  }

  private client(name: string): Promise<Client> {
    let p = this.clients.get(name);
    if (!p) {
      p = this.connect(name);
      this.clients.set(name, p);
      p.catch(() => this.clients.delete(name)); // a failed start may be retried by the next call
    }
    return p;
  }

  private async connect(name: string): Promise<Client> {
    const spec = this.servers[name];
    if (!spec) throw new Error(`no MCP server named "${name}" (give one with --mcp-config)`);
    const env: Record<string, string> = {};
    for (const [k, v] of Object.entries(process.env)) if (v !== undefined) env[k] = v;
    const transport = new StdioClientTransport({
      command: spec.command,
      args: spec.args,
      env: { ...env, ...spec.env },
      cwd: spec.cwd,
      stderr: this.opts.stderrLog ? openSync(this.opts.stderrLog, 'a') : 'ignore',
    });
    const client = new Client({ name: 'cao-mock-agent', version: '1.0.0' });
    await client.connect(transport, { timeout: this.opts.timeoutMs });
    return client;
  }

  /** Closes every started server (each gets EOF on stdin, then SIGTERM). */
  async closeAll(): Promise<void> {
    const all = [...this.clients.values()];
    this.clients.clear();
    await Promise.allSettled(all.map(async (p) => (await p).close()));
  }
}
