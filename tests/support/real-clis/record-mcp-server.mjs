#!/usr/bin/env node
// A tiny stdio MCP server for real-CLI tests: one tool, `send_message`, that appends its `message`
// argument (one line) to the file named by $RECORD_FILE. $RECORD_DELAY_MS delays the answer (tool-timeout
// checks). Logs go to stderr (stdout speaks MCP).
import { appendFileSync } from 'node:fs';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { z } from 'zod';

const file = process.env.RECORD_FILE;
if (!file) {
  console.error('record-mcp-server: RECORD_FILE is not set');
  process.exit(2);
}
const server = new McpServer({ name: 'record', version: '1.0.0' });
server.registerTool(
  'send_message',
  {
    description: 'Send a message to another agent.',
    inputSchema: { message: z.string().describe('The message text') },
  },
  async ({ message }) => {
    const delay = Number(process.env.RECORD_DELAY_MS || 0);
    if (delay > 0) await new Promise((r) => setTimeout(r, delay));
    appendFileSync(file, message + '\n');
    return { content: [{ type: 'text', text: `RECORDED: ${message}` }] };
  },
);
await server.connect(new StdioServerTransport());
console.error('record-mcp-server: ready');
