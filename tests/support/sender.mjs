// A separate process that sends many messages through a hub over MCP/HTTP (stress and crash tests).
// argv: <hub url> <token> <sender name> <count> <receiver ids comma-separated>
// One in-order chain of calls per receiver; the chains run concurrently.
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';

const [url, token, name, countArg, receiversArg] = process.argv.slice(2);
const count = Number(countArg);
const receivers = receiversArg.split(',');
const client = new Client({ name, version: '1' });
await client.connect(
  new StreamableHTTPClientTransport(new URL('/mcp', url), {
    requestInit: { headers: { Authorization: `Bearer ${token}`, 'X-Cao-Supervisor': name } },
  }),
);
// Per receiver, messages are sent in order (n increasing): one chain per receiver, chains run concurrently.
const perReceiver = new Map(receivers.map((r) => [r, []]));
for (let i = 0; i < count; i++) perReceiver.get(receivers[i % receivers.length]).push(i);
let sent = 0;
let failed = 0;
const chains = [...perReceiver.entries()].map(async ([r, ns]) => {
  for (const n of ns) {
    const res = await client.callTool({ name: 'send_message', arguments: { receiver_id: r, message: `stress s=${name} n=${n} r=${r}` } });
    if (res.isError) failed++;
    else sent++;
  }
});
await Promise.all(chains);
process.stdout.write(JSON.stringify({ name, sent, failed }) + '\n');
await client.close();
