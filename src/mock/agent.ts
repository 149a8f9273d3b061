#!/usr/bin/env node
/**
 * Mock agent CLI: an interactive terminal program drawn like Claude Code, driven by a JSON script
 * (see script.ts), so cao-mcp's tests, demo and benchmarks run without a real agent CLI or API key.
 *
 *   node dist/mock/agent.js [--script f] [--mcp-config f|json] [--system-prompt-file f] [--model m] [--name n]
 */
import { readFileSync } from 'node:fs';
import { ArgsError, USAGE, parseArgs, type AgentArgs } from './args.js';
import { MockApp } from './app.js';
import { KeyDecoder } from './keys.js';
import { McpClients, loadMcpConfigs } from './mcp.js';
import { Recorder } from './record.js';
import { Renderer } from './renderer.js';
import { ScriptError, loadScript, type MockScript } from './script.js';

function fail(message: string): never {
  process.stderr.write(`mock-agent: ${message}\n`);
  process.exit(2);
}

function setup(): { args: AgentArgs; script: MockScript; mcp: McpClients; systemPrompt?: string } {
  if (process.argv.includes('--help') || process.argv.includes('-h')) {
    process.stdout.write(USAGE + '\n');
    process.exit(0);
  }
  try {
    const args = parseArgs(process.argv.slice(2));
    const script = loadScript(args.script);
    const mcp = new McpClients(loadMcpConfigs(args.mcpConfigs), {
      timeoutMs: args.toolTimeoutSec * 1000,
      stderrLog: process.env.CAO_MOCK_MCP_LOG || undefined,
    });
    const systemPrompt = args.systemPromptFile ? readFileSync(args.systemPromptFile, 'utf8') : args.systemPrompt;
    return { args, script, mcp, systemPrompt };
  } catch (e) {
    if (e instanceof ArgsError) fail(`${e.message}\n${USAGE}`);
    if (e instanceof ScriptError) fail(e.message);
    fail((e as Error).message);
  }
}

function main(): void {
  const { args, script, mcp, systemPrompt } = setup();
  const out = process.stdout;
  // a closed terminal (EIO/EPIPE) means nobody is watching any more
  out.on('error', () => process.exit(129));
  const renderer = new Renderer(out, out.columns || 80);
  const app = new MockApp({
    script,
    renderer,
    recorder: new Recorder(process.env.CAO_MOCK_RECORD || undefined),
    mcp,
    banner: { model: args.model, cwd: process.cwd(), name: args.name, systemPrompt },
    rows: () => out.rows || 24,
    writeRaw: (d) => out.write(d),
    exitProcess: (code) => process.exit(code),
  });

  const decoder = new KeyDecoder((e) => app.onKey(e));
  if (process.stdin.isTTY) process.stdin.setRawMode(true);
  process.stdin.setEncoding('utf8');
  process.stdin.on('data', (chunk: string) => decoder.feed(chunk));
  process.stdin.on('end', () => void app.exit(0, 'stdin closed'));
  process.stdin.on('error', () => void app.exit(129, 'stdin error'));

  let resizeTimer: NodeJS.Timeout | undefined;
  out.on('resize', () => {
    clearTimeout(resizeTimer);
    resizeTimer = setTimeout(() => void app.resized(out.columns || 80), 30);
  });
  process.on('SIGHUP', () => void app.exit(129, 'SIGHUP'));
  process.on('SIGTERM', () => void app.exit(143, 'SIGTERM'));
  // raw mode delivers Ctrl-C as a key; this only fires when SIGINT comes from outside
  process.on('SIGINT', () => void app.exit(130, 'SIGINT'));

  app.start().catch((e: unknown) => {
    process.stderr.write(`mock-agent: ${(e as Error).stack ?? String(e)}\n`);
    process.exit(70);
  });
}

main();
