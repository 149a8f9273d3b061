import { request } from 'node:http';

/** Minimal MCP-over-HTTP requests, to probe the hub's front with what an SDK client would never send. */
export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
}

export const ACCEPT = 'application/json, text/event-stream';

export function initializeBody(id: number | string = 0) {
  return {
    jsonrpc: '2.0',
    id,
    method: 'initialize',
    params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'probe', version: '1' } },
  };
}

export async function post(url: string, token: string, body: unknown, headers: Record<string, string> = {}): Promise<RawResponse> {
  const r = await fetch(new URL('/mcp', url), {
    method: 'POST',
    headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json', Accept: ACCEPT, ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const out: Record<string, string> = {};
  r.headers.forEach((v, k) => (out[k] = v));
  return { status: r.status, headers: out, text: await r.text() };
}

/** Opens a session (initialize + initialized); returns its id. */
export async function openSession(url: string, token: string, headers: Record<string, string> = {}): Promise<string> {
  const r = await fetch(new URL('/mcp', url), {
    method: 'POST',
    headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json', Accept: ACCEPT, ...headers },
    body: JSON.stringify(initializeBody()),
  });
  await r.text();
  const sid = r.headers.get('mcp-session-id');
  if (!sid) throw new Error(`initialize was refused: ${r.status}`);
  await post(
    url,
    token,
    { jsonrpc: '2.0', method: 'notifications/initialized' },
    { 'mcp-session-id': sid, 'mcp-protocol-version': '2025-06-18', ...headers },
  );
  return sid;
}

/** A POST through node:http, where fetch cannot go: a chunked body of `bytes` without Content-Length. */
export function postChunked(url: string, token: string, bytes: number): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const u = new URL('/mcp', url);
    const req = request(
      {
        host: u.hostname,
        port: u.port,
        path: u.pathname,
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', accept: ACCEPT },
      },
      (res) => {
        let text = '';
        res.on('data', (d: Buffer) => (text += d.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text }));
      },
    );
    // the hub may answer 413 and close while we are still writing: the answer is what counts
    req.on('error', (e) => setTimeout(() => reject(e), 200));
    const chunk = Buffer.alloc(64 * 1024, 'a');
    let sent = 0;
    const write = () => {
      while (sent < bytes) {
        sent += chunk.length;
        if (!req.write(chunk)) return void req.once('drain', write);
      }
      req.end();
    };
    write();
  });
}
