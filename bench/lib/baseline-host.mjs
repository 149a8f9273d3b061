// Baseline server for the inbox and delivery benchmarks, in a process of its own like the hub: a bare node:http
// server that answers MCP-shaped JSON-RPC POSTs (so lib/raw-mcp.mjs and lib/sender.mjs talk to it unchanged) and
// stores each tools/call with one prepared SQLite insert (autocommit, WAL). None of our code runs here, so nothing
// we change in src/ can make it cheaper or dearer: it is what one message costs at the least on this machine now.
// IPC: { cmd: 'mark' } starts a CPU window; 'stats' → { cpuMs, inserts }; 'stop'.
import http from 'node:http';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';

const dir = mkdtempSync(join(tmpdir(), 'cao-bench-baseline-'));
const db = new Database(join(dir, 'baseline.db'));
db.pragma('journal_mode = WAL');
db.pragma('synchronous = NORMAL');
db.exec(
  `create table messages (id text primary key, sender text not null, receiver text not null, body text not null, status text not null, created_at integer not null)`,
);
const insert = db.prepare(`insert into messages (id, sender, receiver, body, status, created_at) values (?, ?, ?, ?, 'pending', ?)`);
let inserts = 0;

const json = (res, status, body, headers = {}) => {
  const data = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(data), ...headers });
  res.end(data);
};

const server = http.createServer((req, res) => {
  if (req.method !== 'POST') {
    res.writeHead(200).end();
    return;
  }
  let text = '';
  req.setEncoding('utf8');
  req.on('data', (d) => (text += d));
  req.on('end', () => {
    const msg = JSON.parse(text);
    if (msg.method === 'initialize')
      return json(
        res,
        200,
        { jsonrpc: '2.0', id: msg.id, result: { protocolVersion: msg.params.protocolVersion } },
        { 'mcp-session-id': randomUUID() },
      );
    if (msg.id === undefined) return res.writeHead(202).end();
    const a = msg.params?.arguments ?? {};
    const id = randomUUID();
    insert.run(id, String(req.headers['x-cao-supervisor'] ?? ''), String(a.receiver_id ?? ''), String(a.message ?? ''), Date.now());
    inserts++;
    json(res, 200, { jsonrpc: '2.0', id: msg.id, result: { content: [{ type: 'text', text: id }], structuredContent: { message_id: id } } });
  });
});
server.keepAliveTimeout = 60_000;

let cpuMark = process.cpuUsage();
let insertsMark = 0;
process.on('message', (m) => {
  const reply = (body) => process.send({ re: m.id, ...body });
  if (m.cmd === 'mark') {
    cpuMark = process.cpuUsage();
    insertsMark = inserts;
    reply({ ok: true });
  } else if (m.cmd === 'stats') {
    const c = process.cpuUsage(cpuMark);
    reply({ stats: { cpuMs: (c.user + c.system) / 1000, inserts: inserts - insertsMark } });
  } else if (m.cmd === 'stop') {
    server.close();
    db.close();
    rmSync(dir, { recursive: true, force: true });
    reply({ ok: true });
    setTimeout(() => process.exit(0), 20);
  }
});
process.on('disconnect', () => {
  db.close();
  rmSync(dir, { recursive: true, force: true });
  process.exit(0);
});
server.listen(0, '127.0.0.1', () => process.send({ ready: true, url: `http://127.0.0.1:${server.address().port}` }));
