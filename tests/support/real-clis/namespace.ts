import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

/**
 * Network interfaces of this process's network namespace. Read from /proc/self/net/dev, not /sys/class/net:
 * sysfs shows the namespace it was mounted in, so after `unshare -n` it still lists the host's interfaces.
 */
export function networkInterfaces(): string[] {
  return readFileSync('/proc/self/net/dev', 'utf8')
    .split('\n')
    .slice(2)
    .map((l) => l.split(':')[0].trim())
    .filter(Boolean)
    .sort();
}

/** Whether `lo` is up (`ip -o link show lo`); undefined when `ip` is not available. */
function loopbackUp(): boolean | undefined {
  try {
    const out = execFileSync('ip', ['-o', 'link', 'show', 'lo'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    return /<[^>]*\bUP\b[^>]*>/.test(out);
  } catch {
    return undefined;
  }
}

/**
 * Throws unless this process runs in a network namespace whose only interface is `lo` (and lo is up): real agent
 * CLIs try to reach vendor hosts even when pointed at the fake model, and a test must never reach anything but
 * 127.0.0.1.
 */
export function assertLoopbackOnlyNetwork(): void {
  const ifaces = networkInterfaces();
  const how = `Run real-CLI tests as root with: ${loopbackShellLine('npx vitest run <test file>')}`;
  if (ifaces.length !== 1 || ifaces[0] !== 'lo') {
    throw new Error(`real-CLI tests must run in a loopback-only network namespace, but this process sees interfaces: ${ifaces.join(', ')}.\n${how}`);
  }
  if (loopbackUp() === false) throw new Error(`the loopback interface is down in this network namespace.\n${how}`);
}

/** argv that runs `cmd` inside a fresh network namespace with only `lo` up (needs root). */
export function inLoopbackNamespace(cmd: string[]): string[] {
  return ['unshare', '-n', 'sh', '-c', 'ip link set lo up && exec "$@"', '--', ...cmd];
}

/** The same as a shell line, for messages and READMEs. */
export function loopbackShellLine(cmd: string): string {
  return `unshare -n sh -c 'ip link set lo up && exec ${cmd}'`;
}
