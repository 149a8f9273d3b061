import { CaoError, messageOf } from '../../util/errors.js';

/** A database URL taken apart: what may be shown of it, and the secret that never may. */
export interface PgTarget {
  /** The URL as given (for the driver). */
  url: string;
  /** The URL without its password (Store.where). */
  where: string;
  /** host:port/database, for error messages. */
  target: string;
  user: string;
  /** The password (URL, ?password= or PGPASSWORD), to scrub from any text shown; empty when none. */
  secrets: string[];
}

/** Checks a `postgres://` or `postgresql://` URL; anything else is CaoError bad_database_url, never echoing a password. */
export function parsePgUrl(url: string): PgTarget {
  if (typeof url !== 'string' || url.trim() === '') throw new CaoError('bad_database_url', 'the database URL is empty');
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):/.exec(url)?.[1];
  if (!scheme) throw new CaoError('bad_database_url', 'the database URL has no scheme: it must start with postgres:// or postgresql://');
  if (!['postgres', 'postgresql'].includes(scheme.toLowerCase()) || !url.slice(scheme.length).startsWith('://'))
    throw new CaoError('bad_database_url', `the database URL must start with postgres:// or postgresql:// (its scheme is "${scheme}:")`);
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new CaoError(
      'bad_database_url',
      `the database URL is not a valid ${scheme}:// URL (a password with '@', '/', ':' or '#' must be percent-encoded)`,
    );
  }
  // PGPASSWORD too: the driver falls back on it when the URL has none
  const secrets = [u.password, safeDecode(u.password), u.searchParams.get('password') ?? '', process.env.PGPASSWORD ?? ''].filter((s) => s !== '');
  const shown = new URL(url);
  shown.password = '';
  shown.searchParams.delete('password');
  const user = safeDecode(u.username) || u.searchParams.get('user') || process.env.PGUSER || 'the default user';
  const database = safeDecode(u.pathname.replace(/^\//, '')) || u.searchParams.get('dbname') || '(default database)';
  const host = u.hostname || u.searchParams.get('host') || 'localhost';
  return { url, where: shown.toString(), target: `${host}:${u.port || '5432'}/${database}`, user, secrets };
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/** `text` with every secret replaced (a driver's message might quote the connection string). */
export function scrub(text: string, secrets: string[]): string {
  let out = text;
  for (const s of secrets) out = out.split(s).join('***');
  return out;
}

/** A connection that failed, said as CaoError database_unreachable: where, who, the server's (or network's) reason. */
export function unreachable(t: PgTarget, err: unknown): CaoError {
  const e = err as { code?: string; errors?: unknown[] };
  let reason = messageOf(err);
  // Node gives an AggregateError with an empty message when every address of a name refused
  if (!reason.trim() || reason === 'AggregateError') reason = (e.errors ?? []).map(messageOf).join('; ') || String(e.code ?? 'unknown error');
  let said: string;
  if (e.code === '28P01' || (e.code === undefined && /SASL|password/i.test(reason)))
    said = `authentication failed for user "${t.user}" (wrong password, or a password is needed and none was given): ${reason}`;
  else if (e.code === '28000') said = `the server refused user "${t.user}": ${reason}`;
  else if (e.code === '3D000') said = `the database does not exist: ${reason}`;
  else if (e.code === 'ECONNREFUSED') said = `nothing accepts connections there (is the server running, on that port?): ${reason}`;
  else if (e.code === 'ENOTFOUND' || e.code === 'EAI_AGAIN') said = `the host name does not resolve: ${reason}`;
  else said = reason;
  return new CaoError('database_unreachable', scrub(`cannot connect to PostgreSQL at ${t.target}: ${said}`, t.secrets));
}
