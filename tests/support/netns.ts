// Machines for the many-hosts tests: each "host" is a network namespace joined to this one by a veth pair, so its
// hub reaches the database only over that link, and a test can cut the link (ip link down) and heal it. Needs root
// and iproute2; where a namespace cannot be made, `makeHosts` says why and the caller falls back to separate hubs on
// loopback with separate CAO_HOMEs.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';

export interface NetHost {
  /** 1-based. */
  readonly index: number;
  /** The namespace's name (`ip netns exec <ns> …`). */
  readonly ns: string;
  /** This side of the link: the address the host reaches the database on. */
  readonly gateway: string;
  /** The host's own address (its hub listens there). */
  readonly address: string;
  /** The link's end on this side (what `cut` takes down). */
  readonly link: string;
  /** Takes the link down: the host can reach nothing outside its namespace. */
  cut(): void;
  heal(): void;
  /** argv prefix that runs a command inside the namespace. */
  exec(cmd: string, args: string[]): [string, string[]];
}

export interface NetHosts {
  readonly hosts: NetHost[];
  /** The database's listen_addresses: every gateway. */
  readonly gateways: string[];
  /** The subnet the hosts are in (for pg_hba). */
  readonly subnet: string;
  destroy(): void;
}

const ip = (...args: string[]) => execFileSync('ip', args, { stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' });

/** Why namespaces cannot be made here, or null when they can. */
export function netnsUnavailable(): string | null {
  // CAO_TEST_NO_NETNS=1: the fallback, on purpose (to see that it works where namespaces cannot be made)
  if (process.env.CAO_TEST_NO_NETNS) return 'CAO_TEST_NO_NETNS is set';
  if (process.getuid?.() !== 0) return 'not root';
  try {
    ip('netns', 'list');
    return null;
  } catch (e) {
    return `ip netns does not work here: ${(e as Error).message.split('\n')[0]}`;
  }
}

/** `n` hosts, each a namespace with a veth link to this one in 10.<b>.<i>.0/24 (b picked at random per call). */
export function makeHosts(n: number): NetHosts {
  const tag = randomBytes(2).toString('hex');
  const b = 100 + (parseInt(tag, 16) % 100);
  const made: { ns: string; link: string }[] = [];
  const destroy = () => {
    for (const m of made.splice(0)) {
      try {
        ip('link', 'del', m.link);
      } catch {
        /* gone with its namespace */
      }
      try {
        ip('netns', 'del', m.ns);
      } catch {
        /* already gone */
      }
    }
  };
  try {
    const hosts: NetHost[] = [];
    for (let i = 1; i <= n; i++) {
      const ns = `cao-${tag}-h${i}`;
      const link = `cao${tag}a${i}`; // at most 15 characters
      const peer = `cao${tag}b${i}`;
      const gateway = `10.${b}.${i}.1`;
      const address = `10.${b}.${i}.2`;
      ip('netns', 'add', ns);
      made.push({ ns, link });
      ip('link', 'add', link, 'type', 'veth', 'peer', 'name', peer);
      ip('link', 'set', peer, 'netns', ns);
      ip('addr', 'add', `${gateway}/24`, 'dev', link);
      ip('link', 'set', link, 'up');
      ip('-n', ns, 'addr', 'add', `${address}/24`, 'dev', peer);
      ip('-n', ns, 'link', 'set', peer, 'up');
      ip('-n', ns, 'link', 'set', 'lo', 'up');
      hosts.push({
        index: i,
        ns,
        gateway,
        address,
        link,
        cut: () => void ip('link', 'set', link, 'down'),
        heal: () => void ip('link', 'set', link, 'up'),
        exec: (cmd, args) => ['ip', ['netns', 'exec', ns, cmd, ...args]],
      });
    }
    return { hosts, gateways: hosts.map((h) => h.gateway), subnet: `10.${b}.0.0/16`, destroy };
  } catch (e) {
    destroy();
    throw e;
  }
}
