// The process groups a host runs, on disk: after a kill -9 of the host, the next host (or anyone) can end the
// groups that outlived it (a CLI that ignores SIGHUP). Their ptys are gone with the old host: nobody can adopt them.
import { readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { groupAlive, killGroup, pidAlive } from '../util/process.js';

export const groupsFileIn = (home: string) => join(home, 'ptyhost.groups.json');

export interface GroupRecord {
  pid: number;
  /** The leader's start time (field 22 of /proc/<pid>/stat, Linux): a recycled pid is not ours. */
  start: string | null;
}

export function startTimeOf(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? null;
  } catch {
    return null;
  }
}

/** What a host has on disk: itself (so a live host's groups are never taken for leftovers) and its live groups. */
interface GroupsFile {
  host: number;
  hostStart: string | null;
  groups: GroupRecord[];
}

const sameProcess = (r: GroupRecord) => r.start === null || startTimeOf(r.pid) === r.start;

/** Writes this host's live groups (atomically: a host killed mid-write leaves the previous list). */
export function writeGroups(home: string, groups: GroupRecord[]): void {
  const file = groupsFileIn(home);
  const tmp = `${file}.${process.pid}.tmp`;
  const content: GroupsFile = { host: process.pid, hostStart: startTimeOf(process.pid), groups };
  writeFileSync(tmp, JSON.stringify(content), { mode: 0o600 });
  renameSync(tmp, file);
}

export function removeGroups(home: string): void {
  try {
    unlinkSync(groupsFileIn(home));
  } catch {
    /* none */
  }
}

function readGroups(home: string): GroupsFile | null {
  try {
    const v = JSON.parse(readFileSync(groupsFileIn(home), 'utf8')) as GroupsFile;
    if (!Number.isInteger(v?.host) || !Array.isArray(v.groups)) return null;
    return { ...v, groups: v.groups.filter((g) => Number.isInteger(g?.pid) && g.pid > 1) };
  } catch {
    return null;
  }
}

/**
 * Ends the groups a dead host left running (SIGKILL: they have no pty any more); returns their pids. A host
 * that is still alive (its socket file removed by hand, say) keeps its groups.
 */
export async function reapLeftovers(home: string): Promise<number[]> {
  const f = readGroups(home);
  if (!f || f.host === process.pid) return [];
  if (pidAlive(f.host) && sameProcess({ pid: f.host, start: f.hostStart })) return [];
  const left = f.groups.filter((g) => groupAlive(g.pid) && sameProcess(g));
  for (const g of left) killGroup(g.pid, 'SIGKILL');
  const deadline = Date.now() + 2000;
  while (left.some((g) => groupAlive(g.pid)) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 25));
  removeGroups(home);
  return left.map((g) => g.pid);
}
