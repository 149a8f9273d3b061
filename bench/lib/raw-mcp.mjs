// A lean MCP client for Streamable HTTP (JSON-RPC POSTs on a keep-alive connection pool), for load generation:
// the SDK's client costs ~2 ms of CPU per call, which on a 2-core machine would measure the senders, not the hub.
import http from 'node:http';

export async function rawConnect(url, token, name, { sockets = 16 } = {}) {
  const u = new URL('/mcp', url);
  const agent = new http.Agent({ keepAlive: true, maxSockets: sockets });
  const headers = {
    Authorization: `Bearer ${token}`,
    'X-Cao-Supervisor': name,
    'Content-Type': 'application/json',
    Accept: 'application/json, text/event-stream',
  };
  let id = 0;
  const post = (body) =>
    new Promise((resolve, reject) => {
      const data = JSON.stringify(body);
      const req = http.request(
        {
          host: u.hostname,
          port: u.port,
          path: u.pathname,
          method: 'POST',
          agent,
          headers: { ...headers, 'Content-Length': Buffer.byteLength(data) },
        },
        (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (d) => (text += d));
          res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, text }));
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      req.end(data);
    });
  const parse = (r) => {
    if (r.status === 202 || !r.text) return null;
    if (r.headers['content-type']?.includes('text/event-stream')) {
      const dataLine = r.text.split('\n').find((l) => l.startsWith('data: '));
      return dataLine ? JSON.parse(dataLine.slice(6)) : null;
    }
    return JSON.parse(r.text);
  };
  const init = await post({
    jsonrpc: '2.0',
    id: ++id,
    method: 'initialize',
    params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name, version: '1' } },
  });
  const sid = init.headers['mcp-session-id'];
  if (!sid) throw new Error(`initialize failed: ${init.status} ${init.text}`);
  const version = parse(init)?.result?.protocolVersion ?? '2025-06-18';
  headers['mcp-session-id'] = sid;
  headers['mcp-protocol-version'] = version;
  await post({ jsonrpc: '2.0', method: 'notifications/initialized' });
  return {
    async call(tool, args) {
      const r = await post({ jsonrpc: '2.0', id: ++id, method: 'tools/call', params: { name: tool, arguments: args } });
      const msg = parse(r);
      if (!msg || msg.error) throw new Error(`${tool}: ${r.status} ${msg?.error?.message ?? r.text.slice(0, 200)}`);
      if (msg.result?.isError) throw new Error(`${tool} failed: ${msg.result.content?.map((c) => c.text).join('\n')}`);
      return msg.result?.structuredContent ?? msg.result;
    },
    async close() {
      await new Promise((resolve) => {
        const req = http.request({ host: u.hostname, port: u.port, path: u.pathname, method: 'DELETE', agent, headers }, (res) => {
          res.resume();
          res.on('end', resolve);
        });
        req.on('error', resolve);
        req.end();
      });
      agent.destroy();
    },
  };
}
