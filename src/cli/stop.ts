import { parseArgs } from 'node:util';
import { listHubRecords, type HubRecord } from '../hub/hub-record.js';
import { PtyHostClient } from '../ptyhost/client.js';
import { pidAlive } from '../util/process.js';

export const STOP_HELP = `Usage: cao-mcp stop [--all | --keep-workers]

Stops the daemon hub of this CAO_HOME (the one durable fronts use, CAO_DURABLE=1): every worker it runs
is ended, their undelivered mail is failed with the reason.
  --all            every hub of this CAO_HOME: also those of \`serve\` and \`launch\`, and stdio hubs
  --keep-workers   the daemon hub only, leaving its workers running in the pty host: the next hub (the next
                   front starts one, of the version now installed) adopts them. The way to upgrade.`;

/** How long a hub gets to end its workers before `stop` says it did not. */
const GRACE_MS = 15_000;

export async function runStop(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: { all: { type: 'boolean' }, 'keep-workers': { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
    strict: true,
  });
  if (values.help) return void process.stdout.write(`${STOP_HELP}\n`);
  if (values.all && values['keep-workers']) throw new Error('--all and --keep-workers do not go together: --keep-workers is for the daemon hub only');
  const signal: NodeJS.Signals = values['keep-workers'] ? 'SIGUSR2' : 'SIGTERM';
  const hubs = listHubRecords().filter((r) => values.all || r.mode === 'daemon');
  if (!hubs.length) {
    process.stdout.write(values.all ? 'no hub is running\n' : 'no daemon hub is running (--all: every hub)\n');
    if (values.all) process.stdout.write(await stopPtyHostAfter([]));
    return;
  }
  const left = await Promise.all(hubs.map((r) => stopHub(r, signal)));
  for (const [i, r] of hubs.entries())
    process.stdout.write(
      `${left[i] ? 'did not stop' : 'stopped'}: ${r.mode} hub, pid ${r.pid}, ${r.url}${signal === 'SIGUSR2' ? ' (its workers run on)' : ''}\n`,
    );
  if (values.all) process.stdout.write(await stopPtyHostAfter(hubs));
  if (left.some(Boolean)) throw new Error('some hubs did not stop within 15 s (see above); kill them by pid if they must go');
}

/** SIGTERM (a hub ends its workers on it) or SIGUSR2 (a daemon leaves them), then waits; true when it is still there. */
async function stopHub(r: HubRecord, signal: NodeJS.Signals): Promise<boolean> {
  try {
    process.kill(r.pid, signal);
  } catch {
    return false;
  }
  const deadline = Date.now() + GRACE_MS;
  while (pidAlive(r.pid) && Date.now() < deadline) await new Promise((res) => setTimeout(res, 100));
  return pidAlive(r.pid);
}

/**
 * With --all, the pty host goes too, once the hubs have ended their workers (it ends what it still runs). Returns
 * the line to print ('' when none runs).
 */
async function stopPtyHostAfter(hubs: HubRecord[]): Promise<string> {
  const deadline = Date.now() + GRACE_MS;
  while (hubs.some((r) => pidAlive(r.pid)) && Date.now() < deadline) await new Promise((res) => setTimeout(res, 100));
  let client: PtyHostClient;
  try {
    client = await PtyHostClient.connect();
  } catch {
    return '';
  }
  const pid = client.hostPid;
  await client.shutdown().catch(() => undefined);
  client.close();
  return `stopped: pty host, pid ${pid}\n`;
}
