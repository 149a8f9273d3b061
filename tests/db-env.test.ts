// The database's credentials are the hub's alone: a worker CLI's environment and the pty host's never hold them.
import { describe, expect, it } from 'vitest';
import { workerEnv } from '../src/flows/worker-env.js';
import { isDatabaseSecret, withoutDatabaseSecrets } from '../src/util/db-env.js';

const URL = 'postgres://cao:s3cret-pw@db.example:5432/cao';

describe('database credentials never reach a worker', () => {
  it('CAO_DATABASE_URL and, with it, libpq PG* variables are stripped from a worker environment', () => {
    const base = {
      PATH: '/usr/bin',
      HOME: '/home/u',
      CAO_DATABASE_URL: URL,
      PGPASSWORD: 's3cret-pw',
      PGUSER: 'cao',
      PGPASSFILE: '/x',
      PAGER: 'less',
    };
    const env = workerEnv(base, 'http://127.0.0.1:1/mcp', 'abcdef01', 'tok');
    expect(env.CAO_DATABASE_URL).toBeUndefined();
    expect(env.PGPASSWORD).toBeUndefined();
    expect(env.PGUSER).toBeUndefined();
    expect(env.PGPASSFILE).toBeUndefined();
    expect(JSON.stringify(env)).not.toContain('s3cret-pw');
    // what is not the database's stays
    expect(env).toMatchObject({ PATH: '/usr/bin', HOME: '/home/u', PAGER: 'less', CAO_TERMINAL_ID: 'abcdef01' });
  });

  it('without CAO_DATABASE_URL, a PG* variable is the user’s own (for their project) and is kept', () => {
    const env = workerEnv({ PGDATABASE: 'app_dev', PGHOST: 'localhost' }, 'http://127.0.0.1:1/mcp', 'abcdef01', 'tok');
    expect(env).toMatchObject({ PGDATABASE: 'app_dev', PGHOST: 'localhost' });
    expect(isDatabaseSecret('PGHOST', {})).toBe(false);
    expect(isDatabaseSecret('CAO_DATABASE_URL', {})).toBe(true);
  });

  it('withoutDatabaseSecrets keeps everything else', () => {
    expect(withoutDatabaseSecrets({ CAO_DATABASE_URL: URL, PGPASSWORD: 'x', CAO_HOME: '/h' })).toEqual({ CAO_HOME: '/h' });
  });
});
