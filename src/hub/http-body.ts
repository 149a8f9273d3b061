import type { IncomingMessage } from 'node:http';

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
