import { parseArgs } from 'node:util';
import { dashboardUrl } from '../dashboard/banner.js';
import { findHubs, HubError, NO_HUB } from './hub-client.js';

export const DASHBOARD_HELP = `Usage: cao-mcp dashboard [--hub <url|port|pid>]

Prints the link to the running hub's web dashboard (it holds the hub's token: open it in your browser,
do not share it). With several hubs running, prints one line per hub.`;

export async function runDashboard(argv: string[]): Promise<void> {
  const { values } = parseArgs({ args: argv, options: { hub: { type: 'string' }, help: { type: 'boolean', short: 'h' } }, strict: true });
  if (values.help) return void process.stdout.write(`${DASHBOARD_HELP}\n`);
  const hubs = findHubs({ hub: values.hub });
  if (!hubs.length) throw new HubError(NO_HUB, 0);
  if (hubs.length === 1) return void process.stdout.write(`${dashboardUrl(hubs[0].url, hubs[0].token)}\n`);
  for (const h of hubs) process.stdout.write(`${dashboardUrl(h.url, h.token)}   (${h.mode}, pid ${h.pid}, ${h.cwd})\n`);
}
