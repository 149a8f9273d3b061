import { randomBytes } from 'node:crypto';
import { pidAlive } from '../util/process.js';

const WORKER_ID = /^[0-9a-f]{8}$/;
// Letters, digits and a few separators; must not look like a worker id (they share one id space).
const EXTERNAL_NAME = /^[A-Za-z0-9][A-Za-z0-9._:@-]{0,63}$/;

/** A fresh worker terminal id: 8 lowercase hex chars. */
export function newWorkerId(): string {
  return randomBytes(4).toString('hex');
}

export function isWorkerId(id: string): boolean {
  return WORKER_ID.test(id);
}

/** A valid external supervisor name: 1–64 chars of [A-Za-z0-9._:@-], not shaped like a worker id. */
export function isExternalName(name: string): boolean {
  return EXTERNAL_NAME.test(name) && !WORKER_ID.test(name);
}

/** A fresh run id (journal): `run-` and 8 lowercase hex chars. */
export function newRunId(): string {
  return `run-${randomBytes(4).toString('hex')}`;
}

/** Hub ids are `<pid>.<random>`: a hub whose process still runs keeps its workers (two hubs may share a database). */
export function hubStillRunning(hubId: string): boolean {
  const pid = Number(hubId.split('.')[0]);
  return Number.isInteger(pid) && pid > 1 && pid !== process.pid && pidAlive(pid);
}
