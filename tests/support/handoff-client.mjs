// A supervisor in its own process that starts one handoff over MCP/HTTP, so that a test can kill it mid-turn.
// argv: <hub url> <token> <supervisor name> <blocking|task> <message>
// stdout, one JSON object a line: {"progress": {...}} per progress notification, {"task": {...}} for a task,
// {"result": {...}} when a blocking call returns. A task's client then stays connected until it is killed.
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { CreateTaskResultSchema } from '@modelcontextprotocol/sdk/types.js';

const [url, token, name, mode, message] = process.argv.slice(2);
const say = (o) => process.stdout.write(JSON.stringify(o) + '\n');
const client = new Client({ name, version: '1' });
await client.connect(
  new StreamableHTTPClientTransport(new URL('/mcp', url), {
    requestInit: { headers: { Authorization: `Bearer ${token}`, 'X-Cao-Supervisor': name } },
  }),
);
const args = { agent_profile: 'developer', provider: 'mock', message };
if (mode === 'task') {
  const r = await client.request(
    { method: 'tools/call', params: { name: 'handoff', arguments: args, task: { ttl: 120_000 } } },
    CreateTaskResultSchema,
  );
  say({ task: r.task });
  setInterval(() => undefined, 60_000);
} else {
  const r = await client.callTool({ name: 'handoff', arguments: args }, undefined, {
    timeout: 120_000,
    onprogress: (p) => say({ progress: p }),
  });
  say({ result: r.structuredContent });
  await client.close();
}
