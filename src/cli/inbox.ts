import { parseArgs } from 'node:util';
import type { MessageView } from '../dashboard/views.js';
import { HubClient, HubError, NO_HUB, findHubs } from './hub-client.js';
import { clock, oneLine, paint, table, useColour, type Paint } from './table.js';

export const INBOX_HELP = `Usage: cao-mcp inbox [--to <id>] [--from <id>] [--state pending|delivering|delivered|failed]
                    [--limit N] [--full] [--follow] [--json] [--hub <url|port|pid>]

Shows the messages between agents and their states (pending → delivering → delivered | failed), oldest
first. Only looks: nothing is marked read (an agent's own read_inbox does that).
  --follow, -f   keep watching: new messages and state changes as they happen (Ctrl-C to stop)
  --full         whole message bodies instead of one line each
  --json         {"messages": [...]} for scripts`;

const STATES = ['pending', 'delivering', 'delivered', 'failed'];

export async function runInbox(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      to: { type: 'string' },
      from: { type: 'string' },
      state: { type: 'string' },
      limit: { type: 'string', default: '50' },
      full: { type: 'boolean' },
      follow: { type: 'boolean', short: 'f' },
      json: { type: 'boolean' },
      hub: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help) return void process.stdout.write(`${INBOX_HELP}\n`);
  if (values.state && !STATES.includes(values.state)) throw new Error(`--state must be one of ${STATES.join(', ')}`);
  const limit = Number(values.limit);
  if (!Number.isInteger(limit) || limit < 1 || limit > 1000) throw new Error(`--limit must be 1–1000 (got "${values.limit}")`);
  // Hubs under one CAO_HOME share the database: any of them shows every message.
  const hubs = findHubs({ hub: values.hub });
  if (!hubs.length) throw new HubError(NO_HUB, 0);
  const client = new HubClient(hubs[0]);
  const { messages } = await client.messages({ receiver: values.to, sender: values.from, state: values.state, limit });
  if (values.json && !values.follow) return void process.stdout.write(`${JSON.stringify({ messages }, null, 2)}\n`);
  const p = paint(useColour());
  if (values.json) for (const m of messages) process.stdout.write(`${JSON.stringify(m)}\n`);
  else process.stdout.write(formatMessages(messages, p, !!values.full));
  if (!values.follow) return;
  await follow(client, messages, values, p);
}

export function formatMessages(messages: MessageView[], p: Paint, full: boolean): string {
  if (!messages.length) return 'no messages\n';
  const cols = process.stdout.columns || 120;
  const rows = messages.map((m) => [
    String(m.id),
    clock(m.createdAt),
    m.sender,
    m.receiver,
    stateCell(m.state, p),
    full ? '' : oneLine(m.body, Math.max(20, cols - 60)) + (m.error ? p.red(`  (${oneLine(m.error, 60)})`) : ''),
  ]);
  let out = table(['ID', 'TIME', 'FROM', 'TO', 'STATE', full ? '' : 'MESSAGE'], rows, p);
  if (full) {
    out = '';
    for (const m of messages) {
      out += `${p.bold(`#${m.id}`)} ${clock(m.createdAt)}  ${m.sender} → ${m.receiver}  ${stateCell(m.state, p)}${m.error ? p.red(`  ${m.error}`) : ''}\n`;
      out += m.body.replace(/[\x00-\x08\x0b-\x1f\x7f]/g, ' ').replace(/^/gm, '    ') + '\n\n';
    }
  }
  const pending = new Map<string, number>();
  for (const m of messages) if (m.state === 'pending') pending.set(m.receiver, (pending.get(m.receiver) ?? 0) + 1);
  if (pending.size) out += p.yellow(`pending: ${[...pending].map(([r, n]) => `${r} ${n}`).join(', ')}\n`);
  return out;
}

function stateCell(s: string, p: Paint): string {
  if (s === 'pending') return p.yellow(s);
  if (s === 'delivering') return p.blue(s);
  if (s === 'delivered') return p.green(s);
  if (s === 'failed') return p.red(s);
  return s;
}

/** Prints new messages and state changes from the hub's event stream until interrupted. */
async function follow(
  client: HubClient,
  shown: MessageView[],
  f: { to?: string; from?: string; state?: string; json?: boolean },
  p: Paint,
): Promise<void> {
  const known = new Map(shown.map((m) => [m.id, m.state]));
  const wanted = (m: MessageView) => (!f.to || m.receiver === f.to) && (!f.from || m.sender === f.from) && (!f.state || m.state === f.state);
  const print = (m: MessageView) => {
    const before = known.get(m.id);
    if (before === m.state || !wanted(m)) return;
    known.set(m.id, m.state);
    if (f.json) return void process.stdout.write(`${JSON.stringify(m)}\n`);
    const head = `${p.bold(`#${m.id}`)} ${clock(Date.now())}  ${m.sender} → ${m.receiver}  `;
    if (before === undefined) process.stdout.write(`${head}${stateCell(m.state, p)}  ${oneLine(m.body, 100)}\n`);
    else process.stdout.write(`${head}${stateCell(before, p)} → ${stateCell(m.state, p)}${m.error ? p.red(`  ${oneLine(m.error, 80)}`) : ''}\n`);
  };
  if (!f.json) process.stderr.write(p.dim(`following ${client.url} (Ctrl-C to stop)…\n`));
  const s = client.stream('/api/events', (event, data) => {
    if (event === 'message') print(data as MessageView);
    if (event === 'hello') for (const m of (data as { messages: MessageView[] }).messages) if (known.has(m.id)) print(m);
  });
  process.once('SIGINT', () => s.close());
  await s.done;
}
