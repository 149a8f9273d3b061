/**
 * The variables that carry the credentials of cao-mcp's own database: `CAO_DATABASE_URL`, and, when it names a
 * PostgreSQL server, libpq's `PG*` variables, which node-postgres reads as defaults for that same connection
 * (PGPASSWORD, PGPASSFILE, PGUSER, PGHOST…). Only the hub needs them: worker CLIs and the pty host never get them.
 */
export function isDatabaseSecret(name: string, env: NodeJS.ProcessEnv = process.env): boolean {
  if (name === 'CAO_DATABASE_URL') return true;
  return name.startsWith('PG') && /^PG[A-Z_]+$/.test(name) && !!env.CAO_DATABASE_URL;
}

/** A copy of `env` without the database's credentials (see isDatabaseSecret). */
export function withoutDatabaseSecrets(env: NodeJS.ProcessEnv): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) if (v !== undefined && !isDatabaseSecret(k, env)) out[k] = v;
  return out;
}
