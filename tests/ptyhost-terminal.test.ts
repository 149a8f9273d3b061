/**
 * A worker Terminal over the pty host: the mock agent spawned through a RemotePty factory reaches its ready
 * screen and answers; its "hub" goes away; a new Terminal adopts the same process and drives it on.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { Terminal } from '../src/agents/terminal.js';
import { createBus } from '../src/bus/bus.js';
import { mockProvider } from '../src/providers/mock.js';
import { RemotePty } from '../src/ptyhost/remote-pty.js';
import { pidAlive } from '../src/util/process.js';
import { agentJs, baseEnv, Cleanup, sleep, startHost, until } from './support/ptyhost.js';

const cleanup = new Cleanup();
afterEach(() => cleanup.run());

async function say(t: Terminal, text: string): Promise<void> {
  t.write(`\x1b[200~${text}\x1b[201~`, 'paste');
  await sleep(40);
  t.write('\r', 'keys');
}

describe('Terminal over the pty host', () => {
  it('starts, answers, survives its client, and is adopted by a new Terminal with the same pid', async () => {
    const home = cleanup.home();
    cleanup.hosts.push(await startHost(home));
    const c1 = await cleanup.client(home);
    const launch = { command: process.execPath, args: [agentJs, '--name', 'remote'], env: baseEnv(), cwd: home };
    const base = { provider: mockProvider, profileName: 'developer', creatorId: null, workingDirectory: home, launch };
    const t1 = new Terminal({
      ...base,
      id: 'w1',
      bus: createBus(),
      ptyFactory: (opts, onData) => RemotePty.start(c1, 'w1', opts, onData, { token: 'tok' }),
    });
    await (t1.pty as RemotePty).ready;
    await t1.startup();
    expect(t1.status).toBe('idle');
    await say(t1, 'hello from the first hub');
    await until('the first answer', () => t1.screenText().includes('hello from the first hub') && t1.screenText().includes('? for shortcuts'));
    const pid = t1.pid;
    t1.dispose();
    c1.close();
    expect(await t1.pty.exit).toEqual({ exitCode: -1 });
    expect(pidAlive(pid)).toBe(true);

    const c2 = await cleanup.client(home);
    const [info] = await c2.list();
    expect(info).toMatchObject({ tid: 'w1', pid, alive: true, meta: { token: 'tok' } });
    const t2 = new Terminal({
      ...base,
      id: 'w1',
      bus: createBus(),
      // the image goes through the same path as the output: the new screen draws it, then the live stream
      ptyFactory: (_opts, onData) => RemotePty.attach(c2, 'w1', onData, { onImage: (img) => onData(img.data) }),
    });
    await (t2.pty as RemotePty).ready;
    expect(t2.pid).toBe(pid);
    await until('the adopted screen', () => t2.screenText().includes('hello from the first hub'));
    await say(t2, 'and hello from the second');
    await until('the second answer', () => t2.screenText().includes('and hello from the second'));
    await t2.stop();
    expect(t2.alive).toBe(false);
    expect(pidAlive(pid)).toBe(false);
    t2.dispose();
  });
});
