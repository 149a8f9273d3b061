// A sender process for the inbox benchmark: sends `count` messages to the receivers over MCP/HTTP as the external
// supervisor `name`, one in-order chain per receiver, the chains running concurrently.
// argv: <hub url> <token> <name> <count> <receiver ids, comma-separated> [sdk|raw]
// prints one JSON line: { name, sent, failed, firstAt, lastAt, latencies: summary }
import { now, summarize } from './stats.mjs';

const [url, token, name, countArg, receiversArg, client = 'sdk'] = process.argv.slice(2);
const count = Number(countArg);
const receivers = receiversArg.split(',');
// the SDK is only loaded when it is used (its start-up alone costs a few hundred ms of CPU)
const c =
  client === 'raw' ? await (await import('./raw-mcp.mjs')).rawConnect(url, token, name) : await (await import('./hub.mjs')).connect(url, token, name);
const perReceiver = new Map(receivers.map((r) => [r, []]));
for (let i = 0; i < count; i++) perReceiver.get(receivers[i % receivers.length]).push(i);
let sent = 0;
let failed = 0;
const lat = [];
const errors = [];
const cpu0 = process.cpuUsage(); // the calls' CPU, not the client's start-up
const firstAt = now();
await Promise.all(
  [...perReceiver.entries()].map(async ([r, ns]) => {
    for (const n of ns) {
      const t0 = now();
      try {
        await c.call('send_message', { receiver_id: r, message: `inbox s=${name} n=${n} r=${r}` });
        sent++;
      } catch (e) {
        failed++;
        if (errors.length < 5) errors.push(String(e.message ?? e));
      }
      lat.push(now() - t0);
    }
  }),
);
const lastAt = now();
const cpu = process.cpuUsage(cpu0);
process.stdout.write(
  JSON.stringify({ name, sent, failed, firstAt, lastAt, cpuMs: Math.round((cpu.user + cpu.system) / 1000), latencies: summarize(lat), errors }) +
    '\n',
);
await c.close();
