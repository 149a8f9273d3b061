import type { IncomingMessage } from 'node:http';
import { timingSafeEqual } from 'node:crypto';
import { isAbsolute } from 'node:path';
import { isExternalName, type Caller } from '../../flows/index.js';

const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]', '::1']);

/** True when the request came over loopback and names a loopback host (no DNS-rebinding via a foreign Host/Origin). */
export function isLoopbackRequest(req: IncomingMessage): { ok: true } | { ok: false; why: string } {
  const addr = req.socket.remoteAddress ?? '';
  if (!(addr === '127.0.0.1' || addr === '::1' || addr === '::ffff:127.0.0.1' || addr.startsWith('127.')))
    return { ok: false, why: `connections are accepted from loopback only (not ${addr})` };
  const host = hostnameOf(req.headers.host ?? '');
  if (!LOOPBACK_HOSTS.has(host)) return { ok: false, why: `Host "${req.headers.host ?? ''}" is not a loopback host` };
  const origin = req.headers.origin;
  if (origin && origin !== 'null') {
    let oh: string;
    try {
      oh = new URL(origin).hostname;
    } catch {
      return { ok: false, why: `Origin "${origin}" is not a URL` };
    }
    if (!LOOPBACK_HOSTS.has(oh) && !LOOPBACK_HOSTS.has(`[${oh}]`)) return { ok: false, why: `Origin "${origin}" is not loopback` };
  }
  return { ok: true };
}

function hostnameOf(hostHeader: string): string {
  if (hostHeader.startsWith('[')) return hostHeader.slice(0, hostHeader.indexOf(']') + 1);
  return hostHeader.replace(/:\d+$/, '');
}

/** The token a request carries: `Authorization: Bearer <t>`, or `?token=<t>` (for URLs pasted into a browser or a client config). */
export function requestToken(req: IncomingMessage, url: URL): string | null {
  const auth = req.headers.authorization;
  if (auth?.startsWith('Bearer ')) return auth.slice(7).trim();
  return url.searchParams.get('token');
}

/**
 * Maps tokens to callers. Worker tokens are per terminal (handed to the worker in its environment);
 * the client token admits external supervisors (the user's own agents), who name themselves.
 */
export class TokenRegistry {
  private readonly workers = new Map<string, string>();

  constructor(private readonly clientToken: string) {}

  authorizeWorker(token: string, terminalId: string): void {
    this.workers.set(token, terminalId);
  }

  /** Forgets a worker token; returns the terminal it stood for. */
  revoke(token: string): string | undefined {
    const id = this.workers.get(token);
    this.workers.delete(token);
    return id;
  }

  /** The caller a token stands for, or null. External callers are named by `X-Cao-Supervisor` / `?as=` (default "supervisor"). */
  callerFor(token: string | null, req: IncomingMessage, url: URL): Caller | { error: string } | null {
    if (!token) return null;
    const worker = this.workers.get(token);
    if (worker) return { id: worker, kind: 'worker' };
    if (safeEqual(token, this.clientToken)) {
      const name = String(req.headers['x-cao-supervisor'] ?? url.searchParams.get('as') ?? 'supervisor');
      if (!isExternalName(name)) return { error: `supervisor name "${name}" is not valid: 1–64 of [A-Za-z0-9._:@-], not 8 hex characters` };
      const cwd = supervisorCwd(req.headers['x-cao-cwd']);
      if (cwd && typeof cwd === 'object') return cwd;
      return { id: name, kind: 'external', ...(cwd ? { cwd } : {}) };
    }
    return null;
  }
}

/** `X-Cao-Cwd`: the supervisor's working directory, URI-encoded by its front; absolute, no control characters. */
function supervisorCwd(header: string | string[] | undefined): string | { error: string } | undefined {
  if (header === undefined) return undefined;
  let dir: string;
  try {
    dir = decodeURIComponent(String(header));
  } catch {
    return { error: 'X-Cao-Cwd is not URI-encoded' };
  }
  if (!isAbsolute(dir) || /[\x00-\x1f\x7f]/.test(dir)) return { error: `X-Cao-Cwd "${dir}" is not an absolute path` };
  return dir;
}

function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
