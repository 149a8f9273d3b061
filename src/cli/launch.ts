import { parseArgs } from 'node:util';
import type { BusEvents } from '../bus/bus.js';
import { waitForReadyScreen } from '../agents/startup.js';
import type { Terminal } from '../agents/terminal.js';
import { Hub } from '../hub/hub.js';
import type { Caller } from '../flows/types.js';
import { loadProfile, resolveProviderId } from '../profiles/profile.js';
import { getProvider } from '../providers/registry.js';
import { sleep } from '../pty/pty-process.js';
import { ReplyFilter } from './term-replies.js';

export const LAUNCH_HELP = `Usage: cao-mcp launch <profile> [--provider <id>] [--model <name>]

Starts a hub and a supervisor agent (the profile's CLI) right here in this terminal, wired to cao-mcp:
its handoff/assign tools start workers, and their replies are typed into it. Everything you type goes
to the supervisor. When the supervisor exits, the hub and all its workers end.
Watch the workers with \`cao-mcp ls\`, \`cao-mcp attach <id>\`, or the dashboard link printed at start.
  --provider   mock, claude_code, codex, gemini_cli, opencode, kiro_cli, kimi_cli (default: the profile's, or $CAO_PROVIDER)
  --model      model name passed to the CLI`;

/** The person at the keyboard: the supervisor's creator, so `ls` shows who started it. */
const USER: Caller = { id: 'user', kind: 'external' };

/** Waiting for the CLI's first screen: a progress line this often. */
const TICK_MS = 1000;

export async function runLaunch(argv: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args: argv,
    options: { provider: { type: 'string' }, model: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
    allowPositionals: true,
    strict: true,
  });
  if (values.help) return void process.stdout.write(`${LAUNCH_HELP}\n`);
  const profile = positionals[0];
  if (!profile || positionals.length > 1) throw new Error(`give exactly one profile name (e.g. code_supervisor)\n\n${LAUNCH_HELP}`);
  const { stdin, stdout, stderr } = process;
  if (!stdin.isTTY || !stdout.isTTY) throw new Error('launch runs an interactive agent: start it in a terminal (stdin and stdout must be a TTY)');
  const say = (s: string) => stderr.write(`cao-mcp: ${s}\n`);

  say('starting hub…');
  const hub = await Hub.open({ mode: 'launch' });
  await hub.start(); // prints the dashboard link
  let t: Terminal;
  try {
    await hub.flows.registerSupervisor(USER.id);
    say(`starting ${agentLabel(profile, values.provider)} (profile ${profile}) in ${process.cwd()}…`);
    ({ terminal: t } = await hub.pool.start(
      USER,
      {
        agentProfile: profile,
        provider: values.provider,
        model: values.model,
        workingDirectory: process.cwd(),
      },
      // the person's own session: never a spare, and none kept for it
      { spare: false },
    ));
  } catch (e) {
    await hub.stop();
    throw e;
  }
  const code = await runSupervisor(hub, t, say);
  process.exit(code);
}

async function runSupervisor(hub: Hub, t: Terminal, say: (s: string) => void): Promise<number> {
  const { stdin, stdout, stderr } = process;
  const replies = new ReplyFilter();
  // Subscribed right after the spawn: no pty data can have been read yet, so not one byte is missed.
  const early: string[] = [];
  let live = false;
  const onOutput = (e: BusEvents['output']) => {
    if (e.terminalId !== t.id) return;
    replies.noteOutput(e.data);
    if (live) stdout.write(e.data);
    else early.push(e.data);
  };
  hub.bus.on('output', onOutput);
  const size = () => ({ cols: Math.max(20, stdout.columns || 80), rows: Math.max(5, stdout.rows || 24) });
  t.resize(size().cols, size().rows);
  say(`${t.provider.label} started (terminal ${t.id}, pid ${t.pid}); its screen follows. Exit it to end the hub and its workers.`);

  // Progress until the CLI draws its first screen (a slow CLI can take seconds).
  const started = Date.now();
  while (!early.length && t.alive && Date.now() - started < 60_000) {
    await Promise.race([sleep(TICK_MS), t.pty.exit]);
    if (!early.length && t.alive) stderr.write(`\rcao-mcp: waiting for ${t.provider.label} to draw… ${Math.round((Date.now() - started) / 1000)}s `);
  }
  if (Date.now() - started > TICK_MS) stderr.write('\r\x1b[K');

  // The raw view: a blank screen with the cursor at the top left, like the hub's own emulator of this
  // agent, so the two agree on every cursor position (the user's terminal keeps the lines above in its
  // scrollback, the dashboard link among them).
  const { rows } = size();
  stdout.write(`\x1b[${rows};1H${'\n'.repeat(rows)}\x1b[H`);
  for (const d of early.splice(0)) stdout.write(d);
  live = true;

  const onKeys = (data: string) => {
    const keys = replies.filterInput(data);
    if (keys) t.write(keys, 'user');
  };
  const onResize = () => {
    const s = size();
    t.resize(s.cols, s.rows);
  };
  stdin.setRawMode(true);
  stdin.setEncoding('utf8');
  stdin.on('data', onKeys);
  stdin.resume();
  stdout.on('resize', onResize);

  // Startup dialogs (trust this folder?…) are the user's to answer: they see them. The status turns from
  // `starting` to ready once the CLI shows its ready screen, so inbox deliveries wait until then.
  void becomeReady(t);

  let why = '';
  const hangup = (sig: string) => {
    why ||= sig;
    void t.kill();
  };
  const onSig = (sig: NodeJS.Signals) => hangup(sig);
  const onEnd = () => hangup('terminal closed');
  for (const s of ['SIGTERM', 'SIGHUP', 'SIGINT'] as const) process.on(s, onSig);
  stdin.on('end', onEnd);

  const exit = await t.pty.exit;
  await sleep(100); // the last frame
  live = false;
  hub.bus.off('output', onOutput);
  stdin.off('data', onKeys);
  stdin.off('end', onEnd);
  stdout.off('resize', onResize);
  if (stdin.isTTY) stdin.setRawMode(false);
  stdin.pause();
  stdout.write(restoreSequence(t));
  const workers = hub.pool.busy().filter((x) => x.id !== t.id).length;
  const how = why ? `ended (${why})` : `exited with code ${exit.exitCode}${exit.signal ? ` (signal ${exit.signal})` : ''}`;
  say(`${t.provider.label} ${how}; stopping the hub${workers ? ` and ${workers} worker${workers > 1 ? 's' : ''}` : ''}…`);
  await hub.stop();
  say('hub stopped.');
  for (const s of ['SIGTERM', 'SIGHUP', 'SIGINT'] as const) process.off(s, onSig);
  return why ? 129 : exit.exitCode;
}

/** The CLI's name for the progress line; a bad profile or provider is reported by startWorker itself. */
function agentLabel(profile: string, provider: string | undefined): string {
  try {
    return getProvider(resolveProviderId(provider, loadProfile(profile, process.cwd()))).label;
  } catch {
    return provider ?? 'the agent CLI';
  }
}

/** Marks the supervisor started once its ready screen has stayed put a moment (no keys are sent for it). */
async function becomeReady(t: Terminal): Promise<void> {
  // The startup readiness rule of every worker (agents/startup.ts), without its dialog handling: dialogs are the user's.
  if ((await waitForReadyScreen(t, { stop: () => t.status !== 'starting' })) === 'ready') t.monitor.markStarted();
}

/** Leaves the user's terminal as it was, whatever modes the agent left on. */
function restoreSequence(t: Terminal): string {
  let s = '\x1b[0m\x1b[?2004l\x1b[?1l\x1b>\x1b[?1000l\x1b[?1002l\x1b[?1003l\x1b[?1006l\x1b[?1004l\x1b[<u\x1b[?7h\x1b[?25h';
  // Only when the agent left the alternate screen on: elsewhere 1049l would move the cursor.
  try {
    if (t.feed.screen.term.buffer.active.type === 'alternate') s += '\x1b[?1049l';
  } catch {
    /* screen already disposed: nothing known, leave the buffer alone */
  }
  return `${s}\r\n`;
}
