import { request, type IncomingMessage } from 'node:http';
import { listHubRecords, type HubRecord } from '../hub/hub-record.js';
import type { HostView } from '../flows/index.js';
import type { AgentView, MessageView } from '../dashboard/views.js';
import type { HubInfo } from '../dashboard/routes.js';

/** A request to a hub that did not work: `status` is the HTTP status (0 = could not connect). */
export class HubError extends Error {
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
  }
}

export interface SseHandle {
  /** Resolves when the stream ends (server closed it), rejects when it could not be opened or broke. */
  done: Promise<void>;
  close(): void;
}

/** Talks to one running hub's dashboard API with its client token (never printed). */
export class HubClient {
  constructor(readonly record: HubRecord) {}

  get url(): string {
    return this.record.url;
  }

  get<T>(path: string): Promise<T> {
    return this.call<T>('GET', path);
  }

  post<T>(path: string, body: unknown): Promise<T> {
    return this.call<T>('POST', path, body);
  }

  agents(opts: { all?: boolean } = {}): Promise<{ hub: HubInfo; agents: AgentView[]; hosts?: HostView[] | null }> {
    return this.get(`/api/agents${opts.all ? '?all=1' : ''}`);
  }

  agent(id: string): Promise<{ hub: HubInfo; agent: AgentView }> {
    return this.get(`/api/agents/${encodeURIComponent(id)}`);
  }

  messages(q: Record<string, string | number | undefined> = {}): Promise<{ messages: MessageView[] }> {
    const qs = new URLSearchParams();
    for (const [k, v] of Object.entries(q)) if (v !== undefined && v !== '') qs.set(k, String(v));
    const s = qs.toString();
    return this.get(`/api/messages${s ? `?${s}` : ''}`);
  }

  private call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const data = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    return new Promise<T>((resolve, reject) => {
      const req = request(
        new URL(path, this.url),
        {
          method,
          headers: {
            authorization: `Bearer ${this.record.token}`,
            accept: 'application/json',
            ...(data ? { 'content-type': 'application/json', 'content-length': String(data.length) } : {}),
          },
        },
        (res) => {
          readAll(res).then((text) => {
            let json: unknown = null;
            try {
              json = text ? JSON.parse(text) : null;
            } catch {
              /* not JSON: reported below with the status */
            }
            if ((res.statusCode ?? 0) >= 400) {
              const msg = (json as { error?: string } | null)?.error ?? (text.slice(0, 200) || `HTTP ${res.statusCode}`);
              reject(new HubError(msg, res.statusCode ?? 0));
            } else resolve(json as T);
          }, reject);
        },
      );
      req.on('error', (e) => reject(new HubError(`cannot reach the hub at ${this.url}: ${e.message}`, 0)));
      req.setTimeout(15_000, () => req.destroy(new Error('no answer within 15 s')));
      req.end(data);
    });
  }

  /** Opens a Server-Sent Events stream; `onEvent` gets each event's name and parsed JSON data. */
  stream(path: string, onEvent: (event: string, data: unknown) => void): SseHandle {
    let req: ReturnType<typeof request> | null = null;
    let closed = false;
    const done = new Promise<void>((resolve, reject) => {
      req = request(new URL(path, this.url), {
        headers: { authorization: `Bearer ${this.record.token}`, accept: 'text/event-stream' },
      });
      req.on('response', (res) => {
        if (res.statusCode !== 200) {
          void readAll(res).then((text) => {
            let msg = text.slice(0, 200);
            try {
              msg = (JSON.parse(text) as { error?: string }).error ?? msg;
            } catch {
              /* keep the text */
            }
            reject(new HubError(msg || `HTTP ${res.statusCode}`, res.statusCode ?? 0));
          });
          return;
        }
        res.setEncoding('utf8');
        let buf = '';
        res.on('data', (chunk: string) => {
          buf += chunk;
          let cut: number;
          while ((cut = buf.indexOf('\n\n')) >= 0) {
            const block = buf.slice(0, cut);
            buf = buf.slice(cut + 2);
            const ev = parseSseBlock(block);
            if (ev) onEvent(ev.event, ev.data);
          }
        });
        res.on('end', () => resolve());
        res.on('error', (e) => (closed ? resolve() : reject(e)));
        res.on('close', () => resolve());
      });
      req.on('error', (e) => (closed ? resolve() : reject(new HubError(`cannot reach the hub at ${this.url}: ${e.message}`, 0))));
      req.end();
    });
    return {
      done,
      close: () => {
        closed = true;
        req?.destroy();
      },
    };
  }
}

function parseSseBlock(block: string): { event: string; data: unknown } | null {
  let event = 'message';
  const data: string[] = [];
  for (const line of block.split('\n')) {
    if (line.startsWith(':')) continue;
    if (line.startsWith('event:')) event = line.slice(6).trim();
    else if (line.startsWith('data:')) data.push(line.slice(5).replace(/^ /, ''));
  }
  if (!data.length) return null;
  try {
    return { event, data: JSON.parse(data.join('\n')) };
  } catch {
    return { event, data: data.join('\n') };
  }
}

function readAll(res: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    res.on('data', (c: Buffer) => chunks.push(c));
    res.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    res.on('error', reject);
  });
}

// ------------------------------------------------------------------ finding hubs

export const NO_HUB =
  'no running cao-mcp hub found (start one with `cao-mcp launch <profile>` or `cao-mcp serve`; hubs are looked up under $CAO_HOME/hubs)';

/** True when `--hub` names this hub: its URL (with or without http://), its port, or its pid. */
function matches(r: HubRecord, want: string): boolean {
  const w = want.trim().replace(/\/+$/, '');
  if (!w) return false;
  if (/^\d+$/.test(w)) return String(r.pid) === w || new URL(r.url).port === w;
  const withScheme = /^https?:\/\//.test(w) ? w : `http://${w}`;
  try {
    const a = new URL(withScheme);
    const b = new URL(r.url);
    const sameHost = a.hostname === b.hostname || (isLoopbackName(a.hostname) && isLoopbackName(b.hostname));
    return sameHost && a.port === b.port;
  } catch {
    return false;
  }
}

function isLoopbackName(h: string): boolean {
  return h === 'localhost' || h === '127.0.0.1' || h === '[::1]' || h === '::1';
}

/** Running hubs (stale records are skipped), or just the one `--hub` names. */
export function findHubs(opts: { hub?: string } = {}): HubRecord[] {
  const all = listHubRecords();
  if (!opts.hub) return all;
  const hit = all.filter((r) => matches(r, opts.hub!));
  if (!hit.length)
    throw new HubError(
      `no running hub matches --hub ${opts.hub}${all.length ? `; running: ${all.map((r) => r.url).join(', ')}` : ` (${NO_HUB})`}`,
      0,
    );
  return hit;
}

/** The hub that runs agent `id` live (hubs under one CAO_HOME share a database, but each owns its own ptys). */
export async function hubOwning(id: string, opts: { hub?: string } = {}): Promise<{ client: HubClient; agent: AgentView }> {
  const hubs = findHubs(opts);
  if (!hubs.length) throw new HubError(NO_HUB, 0);
  let seen: AgentView | null = null;
  for (const r of hubs) {
    const client = new HubClient(r);
    try {
      const { agent } = await client.agent(id);
      if (agent.live) return { client, agent };
      seen ??= agent;
    } catch (e) {
      if (e instanceof HubError && e.status === 404) continue;
      if (hubs.length === 1) throw e;
    }
  }
  if (seen?.endedAt) throw new HubError(`agent ${id} has ended (${seen.status}${seen.lastError ? `: ${seen.lastError}` : ''})`, 410);
  if (seen) throw new HubError(`agent ${id} is not running in ${opts.hub ? 'that hub' : 'any running hub'}`, 409);
  throw new HubError(`no agent with id "${id}" (see \`cao-mcp ls\`)`, 404);
}
