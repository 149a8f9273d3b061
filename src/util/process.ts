import { readFileSync } from 'node:fs';

/** Probing and signalling processes by id: the one copy of these checks (hub records, crash recovery, ptys). */

/** True while a process with this pid runs (EPERM: it exists, just not ours). A zombie (exited, not yet reaped by its parent) does not. */
export function pidAlive(pid: number): boolean {
  return probe(pid) && !zombie(pid);
}

/** Linux: the state field of /proc/<pid>/stat is Z; elsewhere (no /proc) never. */
function zombie(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) === 'Z';
  } catch {
    return false;
  }
}

/** True while any process of the group `pgid` exists (signal 0 probes without killing). */
export function groupAlive(pgid: number): boolean {
  return probe(-pgid);
}

export function killGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch {
    /* group already gone */
  }
}

function probe(target: number): boolean {
  try {
    process.kill(target, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}
