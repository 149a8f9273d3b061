import type { IncomingMessage, ServerResponse } from 'node:http';
import { readBody } from '../hub/http-body.js';

/** Headers every dashboard response carries: nothing cached, no framing, no referrer (the URL holds the token). */
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

export class BodyError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** Reads a JSON object body (Content-Type must say JSON: a plain HTML form cannot post here). */
export async function readJsonBody(req: IncomingMessage, maxBytes = 256 * 1024): Promise<Record<string, unknown>> {
  const type = String(req.headers['content-type'] ?? '');
  if (!/^application\/json\s*(?:;|$)/i.test(type)) {
    req.resume();
    throw new BodyError(415, 'send the body as application/json');
  }
  const body = await readBody(req, maxBytes);
  if (!body.ok) throw new BodyError(body.status, body.error);
  try {
    const v: unknown = JSON.parse(body.text || '{}');
    if (!v || typeof v !== 'object' || Array.isArray(v)) throw new Error('expected a JSON object');
    return v as Record<string, unknown>;
  } catch (e) {
    throw new BodyError(400, `body is not a JSON object: ${(e as Error).message}`);
  }
}
