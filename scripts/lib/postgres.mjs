// A real PostgreSQL server for the tests and benchmarks that need one (plain ESM, so that both can load it; types in
// postgres.d.mts), started from the server binaries this machine
// has (Debian's postgresql package puts them in /usr/lib/postgresql/<major>/bin; CAO_PG_BIN names another folder):
// initdb in a temporary folder, postgres on a free loopback port with its socket in that folder, stopped by its pid.
// PostgreSQL refuses to run as root, so as root both run as `nobody`. Never mocked: if it cannot start, the caller
// gets the reason (and the server's log).
import { spawn, spawnSync } from 'node:child_process';
import { appendFileSync, chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';

/** The folder holding initdb and postgres: CAO_PG_BIN, else the newest /usr/lib/postgresql/<major>/bin, else PATH. */
export function postgresBinDir() {
  const fromEnv = process.env.CAO_PG_BIN;
  if (fromEnv) {
    if (!existsSync(join(fromEnv, 'postgres'))) throw new Error(`CAO_PG_BIN=${fromEnv} has no postgres binary`);
    return fromEnv;
  }
  const base = '/usr/lib/postgresql';
  if (existsSync(base)) {
    const majors = readdirSync(base)
      .filter((v) => /^\d+$/.test(v) && existsSync(join(base, v, 'bin', 'postgres')))
      .sort((a, b) => Number(b) - Number(a));
    if (majors[0]) return join(base, majors[0], 'bin');
  }
  const which = spawnSync('sh', ['-c', 'command -v postgres'], { encoding: 'utf8' });
  const found = which.stdout.trim();
  if (which.status === 0 && found) return found.replace(/\/postgres$/, '');
  throw new Error(
    'no PostgreSQL server binaries found (looked in CAO_PG_BIN, /usr/lib/postgresql/*/bin and PATH); install Debian’s postgresql package',
  );
}

function freePort(host) {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, host, () => {
      const port = s.address().port;
      s.close(() => resolve(port));
    });
  });
}

/** Runs as `nobody` when we are root (PostgreSQL will not run as root). */
function asServerUser(cmd, args) {
  if (process.getuid?.() !== 0) return [cmd, args];
  return ['setpriv', ['--reuid=nobody', '--regid=nogroup', '--clear-groups', '--', cmd, ...args]];
}

/**
 * Starts a server (see the top of the file); `opts.listen` an address (default 127.0.0.1), `opts.fast` fsync off (default
 * true), `opts.passwordAuth` every role but `cao` must give its password over TCP (scram-sha-256; default false: trust).
 */
export async function startPostgres(opts = {}) {
  const bin = postgresBinDir();
  const listen = opts.listen ?? '127.0.0.1';
  const dir = mkdtempSync(join(tmpdir(), 'cao-pg-'));
  const data = join(dir, 'data');
  if (process.getuid?.() === 0) chownSync(dir, 65534, 65534);
  const [initCmd, initArgs] = asServerUser(join(bin, 'initdb'), ['-D', data, '-U', 'cao', '--auth=trust', '-E', 'UTF8', '--no-locale']);
  const init = spawnSync(initCmd, initArgs, { encoding: 'utf8' });
  if (init.status !== 0) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`initdb failed (exit ${init.status}): ${init.stderr || init.stdout || init.error?.message}`);
  }
  if (opts.passwordAuth) {
    // rewriting the file in place keeps its owner (the server user)
    writeFileSync(join(data, 'pg_hba.conf'), ['local all all trust', 'host all cao all trust', 'host all all all scram-sha-256', ''].join('\n'));
  }
  // clients from these networks (CIDRs) are let in without a password, like loopback (the hosts of the netns tests)
  if (opts.allow?.length) appendFileSync(join(data, 'pg_hba.conf'), opts.allow.map((cidr) => `host all all ${cidr} trust\n`).join(''));
  const port = await freePort(listen.split(',')[0]);
  const settings = ['-c', `listen_addresses=${listen}`, '-c', 'max_connections=200', '-c', 'log_min_messages=warning'];
  if (opts.fast ?? true) settings.push('-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off');
  const [cmd, args] = asServerUser(join(bin, 'postgres'), ['-D', data, '-p', String(port), '-k', dir, ...settings]);
  const logFile = join(dir, 'server.log');
  let log = '';
  const proc = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  proc.stdout.on('data', (d) => (log += d.toString()));
  proc.stderr.on('data', (d) => (log += d.toString()));
  const exited = new Promise((resolve) => proc.once('exit', () => resolve()));
  const url = `postgres://cao@${listen.split(',')[0]}:${port}/postgres`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    const c = new pg.Client({ connectionString: url });
    try {
      await c.connect();
      await c.end();
      break;
    } catch (e) {
      await c.end().catch(() => undefined);
      if (proc.exitCode !== null || Date.now() > deadline) {
        proc.kill('SIGKILL');
        rmSync(dir, { recursive: true, force: true });
        throw new Error(
          `PostgreSQL did not start on ${listen}:${port}: ${e.message}\n${log || (existsSync(logFile) ? readFileSync(logFile, 'utf8') : '')}`,
          { cause: e },
        );
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  let n = 0;
  return {
    url,
    port,
    pid: proc.pid,
    async createDatabase(name = `t${process.pid}_${++n}_${Date.now().toString(36)}`) {
      const c = new pg.Client({ connectionString: url });
      await c.connect();
      try {
        await c.query(`CREATE DATABASE "${name}"`);
      } finally {
        await c.end();
      }
      return url.replace(/\/postgres$/, `/${name}`);
    },
    async stop() {
      if (proc.exitCode === null) {
        proc.kill('SIGINT'); // fast shutdown: ends the sessions, writes a checkpoint
        const t = setTimeout(() => proc.kill('SIGKILL'), 10_000);
        await exited;
        clearTimeout(t);
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
