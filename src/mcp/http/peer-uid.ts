import { readFileSync } from 'node:fs';
import type { Socket } from 'node:net';

/**
 * Which local user a loopback TCP connection comes from (Linux): the uid of the client's end of the socket, as
 * /proc/net/tcp{,6} lists it. A worker token that leaked to another local user is then of no use to them: the
 * hub takes connections from processes of its own user only. Elsewhere (no /proc/net) the check is skipped.
 */
export type PeerCheck = { ok: true } | { ok: false; why: string };

const TABLES = ['/proc/net/tcp', '/proc/net/tcp6'];
const checked = new WeakMap<Socket, PeerCheck>();

export function samePeerUser(socket: Socket, uid = process.getuid?.()): PeerCheck {
  const cached = checked.get(socket);
  if (cached) return cached;
  const result = check(socket, uid);
  checked.set(socket, result);
  return result;
}

function check(socket: Socket, uid: number | undefined): PeerCheck {
  if (uid === undefined) return { ok: true };
  const client = socket.remotePort;
  const server = socket.localPort;
  if (!client || !server) return { ok: false, why: 'the connection has no ports' };
  const want = `:${hex4(client)} `;
  const back = `:${hex4(server)} `;
  let tables = 0;
  for (const file of TABLES) {
    let text: string;
    try {
      text = readFileSync(file, 'latin1');
    } catch {
      continue;
    }
    tables++;
    for (const line of text.split('\n')) {
      // sl local_address rem_address st tx:rx tr:when retrnsmt uid …: the client's end has our port as its remote
      const f = line.trim().split(/\s+/);
      if (f.length < 8 || !`${f[1]} `.endsWith(want) || !`${f[2]} `.endsWith(back)) continue;
      const peer = Number(f[7]);
      if (peer === uid) return { ok: true };
      return { ok: false, why: `connections are accepted only from processes of the user running the hub (uid ${uid}), not uid ${peer}` };
    }
  }
  if (!tables) return { ok: true }; // not Linux: nothing to read
  return { ok: false, why: 'could not tell which local user this connection comes from' };
}

function hex4(port: number): string {
  return port.toString(16).toUpperCase().padStart(4, '0');
}
