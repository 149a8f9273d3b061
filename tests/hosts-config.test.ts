// Many hosts, refused before anything starts: settings a hub cannot work with say what is wrong (and never the
// database's password), from `serve` and from the default stdio front (whose daemon hub gives up: the client hears why
// at once instead of waiting for the start-up timeout); and `host` on one machine.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { hostConfig } from '../src/hosts/config.js';
import { CLI, startCao, textOf } from './support/cao-client.js';
import { pidsWithEnv } from './support/procs.js';

const homes: string[] = [];
const home = () => {
  const h = mkdtempSync(join(tmpdir(), 'cao-hostcfg-'));
  homes.push(h);
  return h;
};
afterAll(() => {
  for (const h of homes) rmSync(h, { recursive: true, force: true });
});
const serve = (args: string[], env: Record<string, string> = {}) =>
  spawnSync(process.execPath, [CLI, 'serve', '--port', '0', ...args], {
    env: { ...process.env, CAO_HOME: home(), ...env },
    encoding: 'utf8',
    timeout: 30_000,
  });

describe('many hosts: bad settings are refused before anything starts', () => {
  it('serve: host flags without CAO_DATABASE_URL, a bad host name, a bad capacity, a URL that is not postgres, a server that is not there', () => {
    const noDb = serve(['--host-name', 'a1']);
    expect(noDb.status).not.toBe(0);
    expect(noDb.stderr).toMatch(/--host-name, --capacity and --labels need CAO_DATABASE_URL=postgres:\/\//);
    const url = { CAO_DATABASE_URL: 'postgres://cao:Pa55-w0rd@127.0.0.1:1/cao' };
    expect(serve(['--host-name', 'Bad Name'], url).stderr).toMatch(/--host-name "Bad Name" must be 1-40 lowercase letters/);
    expect(serve(['--host-name', 'a1', '--capacity', 'lots'], url).stderr).toMatch(/--capacity must be a whole number ≥ 0 \(got "lots"\)/);
    const mysql = serve([], { CAO_DATABASE_URL: 'mysql://cao:Pa55-w0rd@db/cao' });
    expect(mysql.stderr).toMatch(/must start with postgres:\/\/ or postgresql:\/\//);
    const down = serve(['--host-name', 'a1'], url);
    expect(down.status).not.toBe(0);
    expect(down.stderr).toMatch(/cannot connect to PostgreSQL at 127\.0\.0\.1:1\/cao/);
    for (const r of [mysql, down]) expect(r.stderr).not.toContain('Pa55-w0rd');
  });

  it('the stdio front: its daemon hub cannot reach the database, and the client is told why (not the password)', async () => {
    const h = home();
    const s = await startCao({ home: h, env: { CAO_DATABASE_URL: 'postgres://cao:Pa55-w0rd@127.0.0.1:1/cao' } }).catch((e: Error) => e);
    // the front the failed session left (its client never got to close it)
    for (const pid of pidsWithEnv('CAO_HOME', h)) process.kill(pid, 'SIGTERM');
    // the SDK client fails its initialize with the hub's reason
    expect(s).toBeInstanceOf(Error);
    expect((s as Error).message).toMatch(/the cao-mcp hub could not start: cannot connect to PostgreSQL at 127\.0\.0\.1:1\/cao/);
    expect((s as Error).message).not.toContain('Pa55-w0rd');
  }, 60_000);

  it('host on one machine is a clear refusal; CAO_HOST_* are checked', async () => {
    const s = await startCao({ home: home(), env: { CAO_MOCK_SCRIPT: JSON.stringify({ default: { answer: 'ok' } }) } });
    try {
      const r = await s.call('assign', { agent_profile: 'developer', provider: 'mock', message: 'x', host: 'h1' });
      expect(r.isError).toBe(true);
      expect(textOf(r)).toMatch(/host is for many machines: this hub runs on one/);
      const hosts = await s.call('list_hosts', {});
      expect(hosts.structuredContent).toMatchObject({ hosts: [], note: expect.stringMatching(/one machine/) });
    } finally {
      await s.close();
    }
    expect(() => hostConfig(8, {}, { CAO_HOST_NAME: '-x' })).toThrow(/CAO_HOST_NAME "-x"/);
    expect(() => hostConfig(8, {}, { CAO_HOST_LABELS: 'gpu,big disk' })).toThrow(/host label "big disk"/);
    expect(() => hostConfig(8, {}, { CAO_HOST_LEASE_MS: '10' })).toThrow(/CAO_HOST_LEASE_MS must be a whole number ≥ 500/);
    expect(hostConfig(8, { name: 'b2', labels: 'gpu, arm' }, {})).toEqual({
      name: 'b2',
      capacity: 8,
      labels: ['gpu', 'arm'],
      ttlMs: 5000,
      graceMs: 30000,
    });
  }, 60_000);
});
