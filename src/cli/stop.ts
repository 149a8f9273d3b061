import { parseArgs } from 'node:util';
import { listHubRecords, type HubRecord } from '../hub/hub-record.js';
import { pidAlive } from '../util/process.js';

export const STOP_HELP = `Usage: cao-mcp stop [--all]

Stops the daemon hub of this CAO_HOME (the one durable fronts use, CAO_DURABLE=1): every worker it runs
is ended, their undelivered mail is failed with the reason.
  --all     every hub of this CAO_HOME: also those of \`serve\` and \`launch\`, and stdio hubs`;

/** How long a hub gets to end its workers before `stop` says it did not. */
const GRACE_MS = 15_000;

export async function runStop(argv: string[]): Promise<void> {
  const { values } = parseArgs({ args: argv, options: { all: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } }, strict: true });
  if (values.help) return void process.stdout.write(`${STOP_HELP}\n`);
  const hubs = listHubRecords().filter((r) => values.all || r.mode === 'daemon');
  if (!hubs.length) return void process.stdout.write(values.all ? 'no hub is running\n' : 'no daemon hub is running (--all: every hub)\n');
  const left = await Promise.all(hubs.map(stopHub));
  for (const [i, r] of hubs.entries()) process.stdout.write(`${left[i] ? 'did not stop' : 'stopped'}: ${r.mode} hub, pid ${r.pid}, ${r.url}\n`);
  if (left.some(Boolean)) throw new Error('some hubs did not stop within 15 s (see above); kill them by pid if they must go');
}

/** SIGTERM (a hub ends its workers on it), then waits; true when it is still there after the grace. */
async function stopHub(r: HubRecord): Promise<boolean> {
  try {
    process.kill(r.pid, 'SIGTERM');
  } catch {
    return false;
  }
  const deadline = Date.now() + GRACE_MS;
  while (pidAlive(r.pid) && Date.now() < deadline) await new Promise((res) => setTimeout(res, 100));
  return pidAlive(r.pid);
}
