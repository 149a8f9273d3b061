import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { caoHome, ensureDir } from '../util/paths.js';
import { pidAlive } from '../util/process.js';

/** How other commands (ls, attach, inbox, the dashboard link) find a running hub. */
export interface HubRecord {
  hubId: string;
  pid: number;
  url: string;
  /** Client token: admits the user's own tools (external supervisors, dashboard). */
  token: string;
  mode: 'stdio' | 'serve' | 'launch' | 'daemon';
  startedAt: number;
  cwd: string;
}

function hubsDir(): string {
  return ensureDir(join(caoHome(), 'hubs'));
}

export function writeHubRecord(r: HubRecord): string {
  const file = join(hubsDir(), `${r.pid}.json`);
  writeFileSync(file, JSON.stringify(r, null, 2), { mode: 0o600 });
  return file;
}

export function removeHubRecord(pid: number): void {
  rmSync(join(hubsDir(), `${pid}.json`), { force: true });
}

/** Running hubs, newest first; records of dead processes are ignored (and removed). */
export function listHubRecords(): HubRecord[] {
  const dir = hubsDir();
  if (!existsSync(dir)) return [];
  const out: HubRecord[] = [];
  for (const f of readdirSync(dir)) {
    if (!f.endsWith('.json')) continue;
    try {
      const r = JSON.parse(readFileSync(join(dir, f), 'utf8')) as HubRecord;
      if (pidAlive(r.pid)) out.push(r);
      else rmSync(join(dir, f), { force: true });
    } catch {
      /* half-written or foreign file: not a hub */
    }
  }
  return out.sort((a, b) => b.startedAt - a.startedAt);
}
