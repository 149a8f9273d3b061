/**
 * A pi extension that gives pi an MCP client for one server: cao-mcp's (pi has no MCP support of its own, by
 * design; extensions are how it is meant to grow tools). The pi provider starts pi with `-e <this file>` and
 * `CAO_PI_MCP_CONFIG=<json file>` holding `{ name, command, args, env, timeoutMs }`.
 *
 * On load (pi awaits an async factory before its session starts) it starts the server over stdio, lists its tools
 * and registers each as a pi tool named `<name>_<tool>` with the tool's own JSON schema (pi validates plain JSON
 * schemas as well as TypeBox ones). A call goes to the server with the configured timeout; text content comes back
 * as the tool result. The server is closed when pi's session shuts down (and dies with pi's process group anyway).
 */
import { readFileSync } from 'node:fs';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';

interface BridgeConfig {
  name: string;
  command: string;
  args: string[];
  env: Record<string, string>;
  timeoutMs: number;
}

interface PiToolResult {
  content: Array<{ type: 'text'; text: string }>;
  details: Record<string, unknown>;
  isError?: boolean;
}

/** The part of pi's ExtensionAPI this extension uses (pi's own types are not a dependency of cao-mcp). */
interface PiApi {
  registerTool(tool: {
    name: string;
    label: string;
    description: string;
    parameters: unknown;
    execute(toolCallId: string, params: Record<string, unknown>, signal?: AbortSignal): Promise<PiToolResult>;
  }): void;
  on(event: string, handler: () => unknown): void;
}

export default async function caoMcpBridge(pi: PiApi): Promise<void> {
  const file = process.env.CAO_PI_MCP_CONFIG;
  if (!file) return;
  const cfg = JSON.parse(readFileSync(file, 'utf8')) as BridgeConfig;
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined) env[k] = v;
  const transport = new StdioClientTransport({ command: cfg.command, args: cfg.args, env: { ...env, ...cfg.env }, stderr: 'ignore' });
  const client = new Client({ name: 'cao-pi-bridge', version: '1.0.0' });
  await client.connect(transport);
  const { tools } = await client.listTools();
  for (const t of tools) {
    pi.registerTool({
      name: `${cfg.name}_${t.name}`,
      label: `${t.name} (${cfg.name})`,
      description: t.description ?? t.name,
      parameters: t.inputSchema,
      async execute(_id, params, signal) {
        const r = await client.callTool({ name: t.name, arguments: params }, undefined, {
          timeout: cfg.timeoutMs,
          resetTimeoutOnProgress: true,
          signal,
        });
        const parts = Array.isArray(r.content) ? (r.content as Array<{ type: string; text?: string }>) : [];
        const text = parts.map((c) => (c.type === 'text' ? (c.text ?? '') : `[${c.type}]`)).join('\n');
        const structured = r.structuredContent === undefined ? '' : JSON.stringify(r.structuredContent);
        return { content: [{ type: 'text', text: text || structured }], details: {}, isError: r.isError === true };
      },
    });
  }
  pi.on('session_shutdown', () => client.close());
}
