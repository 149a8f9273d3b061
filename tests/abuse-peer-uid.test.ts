// Abuse suite, part 6: a token that leaked to another local user is of no use to them (src/mcp/http/peer-uid.ts).
// The probe needs a second user: it runs as root and makes its client `nobody` (uid 65534).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { startServe, stopProc } from './support/http-client.js';

const root = process.getuid?.() === 0;

describe('peer user check', () => {
  it.runIf(root)('another local user with a valid token is refused (403, saying why); the hub user is not', async () => {
    const home = mkdtempSync(path.join(tmpdir(), 'cao-abuse-uid-'));
    const s = await startServe(home);
    try {
      const probe = `fetch(process.argv[1] + '/api/hub?token=' + process.argv[2]).then(async (r) => { console.log(r.status + ' ' + (await r.text())); })`;
      const as = (uid: number) => spawnSync(process.execPath, ['-e', probe, s.hub.url, s.hub.token], { uid, gid: uid, encoding: 'utf8', cwd: '/' });
      const other = as(65534);
      expect(other.stdout).toMatch(/^403 .*accepted only from processes of the user running the hub \(uid 0\), not uid 65534/);
      expect(as(0).stdout).toMatch(/^200 /);
    } finally {
      await stopProc(s.proc);
      rmSync(home, { recursive: true, force: true });
    }
  });
});
