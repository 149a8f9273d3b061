/** Probing and signalling processes by id: the one copy of these checks (hub records, crash recovery, ptys). */

/** True while a process with this pid exists (EPERM: it exists, just not ours). */
export function pidAlive(pid: number): boolean {
  return probe(pid);
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
