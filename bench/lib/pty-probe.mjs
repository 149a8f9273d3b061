// Raw pty round trip, the transport floor under completion and delivery: a byte written to a pty's master goes to
// `cat` (raw mode, no echo) and back, read by this Node process with node-pty, as the hub reads its workers' ptys.
// A process of its own, without our code, so the hub's load does not enter it. IPC: { cmd: 'probe', n } → { ms: [...] }.
import pty from '@lydell/node-pty';
import { performance } from 'node:perf_hooks';

const p = pty.spawn('/bin/sh', ['-c', 'stty raw -echo; echo ready; exec cat'], { cols: 80, rows: 24, env: { PATH: process.env.PATH } });
let waiter = null;
let seen = '';
p.onData((d) => {
  seen += d;
  if (waiter && seen.includes(waiter.token)) {
    const w = waiter;
    waiter = null;
    seen = '';
    w.resolve(performance.now() - w.t0);
  }
});

const once = (token) =>
  new Promise((resolve) => {
    waiter = { token, t0: performance.now(), resolve };
    p.write(token);
  });

await new Promise((resolve) => {
  const t = setInterval(() => {
    if (seen.includes('ready')) {
      clearInterval(t);
      seen = '';
      resolve();
    }
  }, 5);
});
let k = 0;
// one round trip at a time (requests from concurrent lanes queue here)
let queue = Promise.resolve();
process.on('message', (m) => {
  const reply = (body) => process.send({ re: m.id, ...body });
  if (m.cmd === 'probe') {
    queue = queue.then(async () => {
      const ms = [];
      for (let i = 0; i < (m.n ?? 1); i++) ms.push(await once(`<${++k}>`));
      reply({ ms });
    });
  } else if (m.cmd === 'stop') {
    p.kill();
    reply({ ok: true });
    setTimeout(() => process.exit(0), 20);
  }
});
process.on('disconnect', () => {
  p.kill();
  process.exit(0);
});
process.send({ ready: true });
