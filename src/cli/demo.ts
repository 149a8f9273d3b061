import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { LoggingMessageNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { distFile } from '../util/paths.js';

/** The mock worker's script for the demo: what it answers to which task. */
const DEMO_SCRIPT = {
  // First match wins: the review task quotes the FizzBuzz answer, so its rule comes first.
  rules: [
    {
      match: '/review/i',
      delayMs: 600,
      toolCalls: [{ server: 'cao', tool: 'send_message', arguments: { message: 'APPROVED: the FizzBuzz loop is correct and covers 1..15.' } }],
      answer: 'Review sent to my supervisor.',
    },
    {
      match: '/fizzbuzz/i',
      delayMs: 800,
      stream: { chunks: 4, intervalMs: 250 },
      answer:
        'Here is FizzBuzz in Python:\n\nfor i in range(1, 16):\n    print("FizzBuzz" if i % 15 == 0 else "Fizz" if i % 3 == 0 else "Buzz" if i % 5 == 0 else i)\n\nIt prints 1, 2, Fizz, 4, Buzz, … FizzBuzz.',
    },
  ],
  default: { answer: 'Done: {{input}}' },
};

const c = { dim: '\x1b[2m', bold: '\x1b[1m', cyan: '\x1b[36m', green: '\x1b[32m', yellow: '\x1b[33m', reset: '\x1b[0m' };
const say = (s: string) => process.stdout.write(`${s}\n`);
const step = (s: string) => say(`\n${c.bold}${c.cyan}▶ ${s}${c.reset}`);

/**
 * A supervisor (this process) talks MCP to a real `cao-mcp` over stdio, exactly as Claude Code would,
 * and delegates to mock workers in ptys. No API key, no real agent CLI needed.
 */
export async function runDemo(_argv: string[]): Promise<void> {
  const home = mkdtempSync(join(tmpdir(), 'cao-demo-'));
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [distFile('cli/main.js')],
    env: {
      ...(process.env as Record<string, string>),
      CAO_HOME: home,
      CAO_MOCK_SCRIPT: JSON.stringify(DEMO_SCRIPT),
      CAO_SUPERVISOR_ID: 'demo-supervisor',
    },
    stderr: 'pipe',
  });
  const client = new Client({ name: 'cao-demo-supervisor', version: '1.0.0' });
  client.setNotificationHandler(LoggingMessageNotificationSchema, (n) => {
    say(`${c.yellow}  ✉ notification: ${JSON.stringify(n.params.data)}${c.reset}`);
  });
  try {
    step('Supervisor connects to cao-mcp over stdio');
    await client.connect(transport);
    const { tools } = await client.listTools();
    say(`  tools: ${tools.map((t) => t.name).join(', ')}`);

    step('handoff → a mock "developer" worker (blocking; progress notifications below)');
    const task = 'Write FizzBuzz for 1..15 in Python.';
    say(`  task: ${task}`);
    const r = await client.callTool(
      { name: 'handoff', arguments: { agent_profile: 'developer', provider: 'mock', message: task, timeout: 60 } },
      undefined,
      { onprogress: (p) => say(`${c.dim}  … ${p.progress}s ${p.message ?? ''}${c.reset}`), timeout: 120_000 },
    );
    const h = r.structuredContent as { success: boolean; output: string; terminal_id: string; duration_ms: number; message: string };
    say(`  ${h.success ? c.green + '✔' : '✘'} ${h.message}${c.reset}`);
    say(`${c.bold}  worker's answer:${c.reset}\n${h.output.replace(/^/gm, '    │ ')}`);

    step('assign → a mock "reviewer" (returns at once); it reports back with send_message');
    const a = await client.callTool({
      name: 'assign',
      arguments: { agent_profile: 'reviewer', provider: 'mock', message: `Please review this answer:\n${h.output}` },
    });
    const as = a.structuredContent as { terminal_id: string };
    say(`  assigned to terminal ${as.terminal_id}`);

    step('Supervisor waits for its inbox (read_inbox, wait_seconds: 30)');
    const inbox = await client.callTool({ name: 'read_inbox', arguments: { wait_seconds: 30 } }, undefined, { timeout: 60_000 });
    const msgs = (inbox.structuredContent as { messages: Array<{ sender_id: string; body: string }> }).messages;
    for (const m of msgs) say(`  ${c.green}✉ from ${m.sender_id}:${c.reset} ${m.body}`);
    if (!msgs.length) throw new Error('no message arrived from the reviewer');

    const list = await client.callTool({ name: 'list_agents', arguments: {} });
    const agents = (list.structuredContent as { agents: Array<{ id: string; profile: string; status: string }> }).agents;
    say(`  agents now: ${agents.map((x) => `${x.id} ${x.profile} ${x.status}`).join('; ') || 'none'}`);
    for (const x of agents) await client.callTool({ name: 'stop_agent', arguments: { terminal_id: x.id } });
    step("Done: every worker was stopped; `cao-mcp stop --all` ends the demo's hub and pty host");
  } finally {
    await client.close().catch(() => undefined);
    // cao-mcp was a front: the hub daemon and the pty host of the demo's CAO_HOME are ended with it
    try {
      execFileSync(process.execPath, [distFile('cli/main.js'), 'stop', '--all'], { env: { ...process.env, CAO_HOME: home }, stdio: 'ignore' });
    } catch {
      /* nothing ran */
    }
    rmSync(home, { recursive: true, force: true });
  }
}
