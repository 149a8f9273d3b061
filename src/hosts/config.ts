import { hostname } from 'node:os';
import { CaoError } from '../util/errors.js';
import { checkHostName } from './db.js';

/** How this hub takes part in many hosts (only with CAO_DATABASE_URL: one SQLite file is one host). */
export interface HostConfig {
  /** Its host's name: `--host-name`, CAO_HOST_NAME, else this machine's hostname made into one. */
  name: string;
  /** Workers placement may give it: `--capacity`, CAO_HOST_CAPACITY, else the hub's CAO_MAX_WORKERS. */
  capacity: number;
  /** Placement prefers hosts with a label a profile asks for (`host_labels`): `--labels`, CAO_HOST_LABELS (comma-separated). */
  labels: string[];
  /** The lease, ms (CAO_HOST_LEASE_MS, default 5,000): a host silent for longer is dead to the others. */
  ttlMs: number;
  /** How long a dead host's workers and their mail are held for its hub to come back (CAO_HOST_GRACE_MS, default 30,000). */
  graceMs: number;
}

/** This machine's hostname as a host name (lowercase letters, digits and '-', at most 40). */
export function defaultHostName(): string {
  const n = hostname()
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/^-+/, '')
    .slice(0, 40);
  return n || 'host';
}

function whole(value: string, what: string, min: number): number {
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n < min)
    throw new CaoError('bad_request', `${what} must be a whole number ≥ ${min} (got "${value}")`);
  return n;
}

/** The host settings from the flags given (`over`) and the environment, checked before anything starts. */
export function hostConfig(
  maxWorkers: number,
  over: { name?: string; capacity?: string; labels?: string } = {},
  env: NodeJS.ProcessEnv = process.env,
): HostConfig {
  const name = checkHostName(over.name ?? (env.CAO_HOST_NAME || defaultHostName()), over.name !== undefined ? '--host-name' : 'CAO_HOST_NAME');
  const cap = over.capacity ?? env.CAO_HOST_CAPACITY;
  const labelText = over.labels ?? env.CAO_HOST_LABELS ?? '';
  const labels = labelText
    .split(',')
    .map((l) => l.trim())
    .filter(Boolean);
  for (const l of labels)
    if (!/^[A-Za-z0-9._-]{1,40}$/.test(l)) throw new CaoError('bad_request', `host label "${l}" must be 1-40 of letters, digits, '.', '_' or '-'`);
  const ttlMs = env.CAO_HOST_LEASE_MS ? whole(env.CAO_HOST_LEASE_MS, 'CAO_HOST_LEASE_MS', 500) : 5_000;
  const graceMs = env.CAO_HOST_GRACE_MS ? whole(env.CAO_HOST_GRACE_MS, 'CAO_HOST_GRACE_MS', 0) : 30_000;
  return {
    name,
    capacity: cap !== undefined ? whole(cap, over.capacity !== undefined ? '--capacity' : 'CAO_HOST_CAPACITY', 0) : maxWorkers,
    labels,
    ttlMs,
    graceMs,
  };
}
