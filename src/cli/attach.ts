import { parseArgs } from 'node:util';
import type { AgentView } from '../dashboard/views.js';
import { AttachView, type Size } from './attach-view.js';
import { hubOwning, type HubClient } from './hub-client.js';

export const ATTACH_HELP = `Usage: cao-mcp attach <agent-id> [--write] [--hub <url|port|pid>]

Shows an agent's live screen in this terminal. Read-only unless --write is given: then your keys go to
the agent and it is resized to this terminal (back to its own size when you detach).
Detach with Ctrl-] (the status line at the bottom says so).`;

/** Ctrl-] : the detach key (as in telnet; nothing an agent CLI needs). */
const DETACH = '\x1d';

export async function runAttach(argv: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args: argv,
    options: { write: { type: 'boolean', short: 'w' }, hub: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
    allowPositionals: true,
    strict: true,
  });
  if (values.help) return void process.stdout.write(`${ATTACH_HELP}\n`);
  const id = positionals[0];
  if (!id || positionals.length > 1) throw new Error(`give exactly one agent id (see \`cao-mcp ls\`)\n\n${ATTACH_HELP}`);
  const { stdin, stdout, stderr } = process;
  if (!stdin.isTTY || !stdout.isTTY)
    throw new Error('attach shows a live screen: run it in an interactive terminal (stdin and stdout must be a TTY)');
  const write = !!values.write;

  stderr.write(`cao-mcp: looking for agent ${id}…\n`);
  const { client, agent } = await hubOwning(id, { hub: values.hub });
  stderr.write(
    `cao-mcp: attaching to ${describe(agent)} on ${client.url} — ${write ? 'your keys go to the agent' : 'read-only'}; detach with Ctrl-]\n`,
  );
  const code = await attachLoop(client, agent, write);
  process.exitCode = code;
}

function describe(a: AgentView): string {
  return `${a.id} (${a.profile ?? '?'}, ${a.provider ?? '?'}, ${a.status})`;
}

function attachLoop(client: HubClient, agent: AgentView, write: boolean): Promise<number> {
  const { stdin, stdout, stderr } = process;
  const userSize = (): Size => ({ cols: stdout.columns || 80, rows: stdout.rows || 24 });
  const view = new AttachView(stdout, userSize, write);
  let status = agent.status;
  const left = () =>
    `◆ ${agent.id} · ${agent.profile ?? '?'} · ${agent.provider ?? '?'} · ${status === 'waiting_user_answer' ? '⚠ WAITING FOR ANSWER' : status}`;
  const right = `${write ? 'WRITE: keys go to the agent' : 'read-only'} │ Ctrl-] detach`;
  const label = () => view.setStatus(left(), right);
  label();

  return new Promise<number>((resolve) => {
    let ended = false;
    let entered = false;
    let original: Size | null = null;
    let sentSize = '';
    let inputChain: Promise<unknown> = Promise.resolve();
    const agentPath = `/api/agents/${encodeURIComponent(agent.id)}`;

    const waitNote = setTimeout(() => stderr.write(`cao-mcp: waiting for ${agent.id}'s screen…\n`), 1000);

    const resizeAgent = () => {
      if (!write || ended) return;
      const u = userSize();
      const want = { cols: Math.max(20, u.cols), rows: Math.max(5, u.rows - 1) };
      const key = `${want.cols}x${want.rows}`;
      if (key === sentSize) return;
      sentSize = key;
      inputChain = inputChain.then(() => client.post(`${agentPath}/resize`, want).catch((e: Error) => view.notice(`resize failed: ${e.message}`)));
    };
    const onResize = () => {
      view.invalidate();
      resizeAgent();
    };
    const onKeys = (data: string) => {
      const cut = data.indexOf(DETACH);
      const keys = cut >= 0 ? data.slice(0, cut) : data;
      if (keys) {
        if (write) {
          // One request after the other: keys arrive in the order they were typed.
          inputChain = inputChain.then(() =>
            client.post(`${agentPath}/input`, { data: keys }).catch((e: Error) => view.notice(`not sent: ${e.message}`)),
          );
        } else view.notice('read-only: keys are not sent (attach with --write to type) · Ctrl-] detach');
      }
      if (cut >= 0) finish(0, `detached from ${agent.id}`);
    };

    const finish = (code: number, message: string) => {
      if (ended) return;
      ended = true;
      clearTimeout(waitNote);
      stream.close();
      view.dispose();
      stdout.off('resize', onResize);
      stdin.off('data', onKeys);
      if (stdin.isTTY) stdin.setRawMode(false);
      stdin.pause();
      for (const s of SIGNALS) process.off(s, onSignal);
      // Give the agent its own size back (best effort; it may be gone).
      const restore = write && original && sentSize ? client.post(`${agentPath}/resize`, original).catch(() => undefined) : Promise.resolve();
      void inputChain
        .then(() => restore)
        .finally(() => {
          stderr.write(`cao-mcp: ${message}\n`);
          resolve(code);
        });
    };
    const onSignal = (sig: NodeJS.Signals) => finish(sig === 'SIGINT' ? 130 : 0, `detached (${sig})`);
    const SIGNALS: NodeJS.Signals[] = ['SIGTERM', 'SIGHUP', 'SIGINT'];
    for (const s of SIGNALS) process.on(s, onSignal);

    const stream = client.stream(`${agentPath}/screen?scrollback=0`, (event, data) => {
      if (ended) return;
      if (event === 'screen') {
        const d = data as { cols: number; rows: number; data: string; status: AgentView['status'] };
        status = d.status;
        original ??= { cols: d.cols, rows: d.rows };
        view.reset({ cols: d.cols, rows: d.rows }, d.data);
        label();
        if (!entered) {
          entered = true;
          clearTimeout(waitNote);
          view.enter();
          stdin.setRawMode(true);
          stdin.setEncoding('utf8');
          stdin.on('data', onKeys);
          stdin.resume();
          stdout.on('resize', onResize);
          resizeAgent();
        }
      } else if (event === 'output') {
        view.write((data as { data: string }).data);
      } else if (event === 'status') {
        status = (data as { status: AgentView['status'] }).status;
        label();
      } else if (event === 'end') {
        original = null; // nothing to give back
        finish(0, `${agent.id} ended: ${(data as { reason: string }).reason}`);
      }
    });
    stream.done.then(
      () => finish(1, `the hub closed the stream of ${agent.id} (hub stopped?)`),
      (e: Error) => finish(1, `lost the hub: ${e.message}`),
    );
  });
}
