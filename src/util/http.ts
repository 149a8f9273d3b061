import type { IncomingMessage, ServerResponse } from 'node:http';
import { CaoError } from './errors.js';

export type BodyResult = { ok: true; text: string } | { ok: false; status: 413 | 400; error: string };

/**
 * Reads a request body of at most `maxBytes`. A larger one (by Content-Length, or once it has grown past the
 * limit) is refused at once and not kept: the rest is read and dropped, so the client gets its 413 instead of a
 * reset connection.
 */
export function readBody(req: IncomingMessage, maxBytes: number): Promise<BodyResult> {
  return new Promise((resolve) => {
    const tooLarge = (): BodyResult => ({ ok: false, status: 413, error: `request body larger than ${maxBytes} bytes (CAO_MAX_BODY_BYTES)` });
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > maxBytes) {
      req.resume();
      resolve(tooLarge());
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let over = false;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (over) return;
      if (size > maxBytes) {
        over = true;
        chunks.length = 0;
        resolve(tooLarge());
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => {
      if (!over) resolve({ ok: true, text: Buffer.concat(chunks).toString('utf8') });
    });
    req.on('error', (e) => resolve({ ok: false, status: 400, error: e.message }));
  });
}

/** Headers every JSON or page response carries: nothing cached, no framing, no referrer (a dashboard URL holds the token). */
export const SAFE_HEADERS = {
  'cache-control': 'no-store',
  'referrer-policy': 'no-referrer',
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
} as const;

export function sendJson(res: ServerResponse, status: number, data: unknown): void {
  res.writeHead(status, { ...SAFE_HEADERS, 'content-type': 'application/json; charset=utf-8' });
  res.end(JSON.stringify(data));
}

export function sendText(res: ServerResponse, status: number, type: string, body: string | Buffer, extra: Record<string, string> = {}): void {
  res.writeHead(status, { ...SAFE_HEADERS, 'content-type': type, ...extra });
  res.end(body);
}

/** Reads a JSON object body (Content-Type must say JSON: a plain HTML form cannot post here). Refusals are CaoErrors. */
export async function readJsonBody(req: IncomingMessage, maxBytes = 256 * 1024): Promise<Record<string, unknown>> {
  const type = String(req.headers['content-type'] ?? '');
  if (!/^application\/json\s*(?:;|$)/i.test(type)) {
    req.resume();
    throw new CaoError('unsupported_media_type', 'send the body as application/json');
  }
  const body = await readBody(req, maxBytes);
  if (!body.ok) throw new CaoError(body.status === 413 ? 'body_too_large' : 'bad_request', body.error);
  try {
    const v: unknown = JSON.parse(body.text || '{}');
    if (!v || typeof v !== 'object' || Array.isArray(v)) throw new Error('expected a JSON object');
    return v as Record<string, unknown>;
  } catch (e) {
    throw new CaoError('bad_request', `body is not a JSON object: ${(e as Error).message}`);
  }
}
