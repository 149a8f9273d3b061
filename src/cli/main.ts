#!/usr/bin/env node
import { ENV_HUB_URL, ENV_TERMINAL_ID, ENV_TOKEN } from '../flows/worker-env.js';
import { VERSION } from '../util/version.js';

const HELP = `cao-mcp ${VERSION} — delegate work to interactive coding-agent CLIs over MCP

Usage:
  cao-mcp                      stdio MCP server (register it with your agent: see README)
  cao-mcp serve [--port N]     long-lived hub, MCP over Streamable HTTP on 127.0.0.1
  cao-mcp demo                 a supervisor hands a task to a mock worker, step by step
  cao-mcp launch <profile>     a hub + a supervisor agent in this terminal (--provider, --model)
  cao-mcp ls                   the running hub's agents, their status and pending messages (--json, --all)
  cao-mcp attach <id>          an agent's live screen here; read-only unless --write; Ctrl-] detaches
  cao-mcp inbox                messages between agents and their states (--follow, --json)
  cao-mcp dashboard            the link to the hub's web dashboard (it holds the token)
  cao-mcp stop [--all]         stop the daemon hub and its workers (--all: every hub of this CAO_HOME)
  cao-mcp worktrees            workers' git worktrees: in use, and kept with their changes (rm <id> removes one)
  cao-mcp runs                 recent runs from the journal: root task, agents, outcome, duration (--json, --limit N)
  cao-mcp trace <id>           one run's tree with each agent's timeline (a run, terminal or supervisor id; --json)
  cao-mcp setup <client>       register cao-mcp in claude, codex, gemini, opencode or kiro (--print, --local)
  cao-mcp --version | --help

Environment: CAO_HOME (data dir, default ~/.cao-mcp), CAO_PROVIDER (default worker CLI),
CAO_SUPERVISOR_ID (your name in the inbox, default "supervisor"), CAO_LOG_LEVEL (the JSON logs
in $CAO_HOME/logs/: debug, info, warn, error or silent; default info).`;

async function main(argv: string[]): Promise<void> {
  const [cmd, ...rest] = argv;
  if (cmd === '--version' || cmd === '-v') return void process.stdout.write(`${VERSION}\n`);
  if (cmd === '--help' || cmd === '-h' || cmd === 'help') return void process.stdout.write(`${HELP}\n`);
  if (cmd === undefined) {
    const hub = process.env[ENV_HUB_URL];
    const id = process.env[ENV_TERMINAL_ID];
    const token = process.env[ENV_TOKEN];
    if (hub || id || token) {
      if (!hub || !id || !token) throw new Error(`worker mode needs all of ${ENV_HUB_URL}, ${ENV_TERMINAL_ID} and ${ENV_TOKEN} (some are missing)`);
      const { runForwarder } = await import('../mcp/forwarder.js');
      return runForwarder(hub, id, token);
    }
    const { runStdioHub } = await import('./stdio.js');
    return runStdioHub();
  }
  if (cmd === 'hub') {
    const { runHubDaemon } = await import('./hub-daemon.js');
    return runHubDaemon();
  }
  if (cmd === 'serve') {
    const { runServe } = await import('./serve.js');
    return runServe(rest);
  }
  // People's commands: see and steer the agents of a running hub.
  const people: Record<string, () => Promise<(argv: string[]) => Promise<void>>> = {
    launch: async () => (await import('./launch.js')).runLaunch,
    ls: async () => (await import('./ls.js')).runLs,
    attach: async () => (await import('./attach.js')).runAttach,
    inbox: async () => (await import('./inbox.js')).runInbox,
    dashboard: async () => (await import('./dashboard.js')).runDashboard,
    stop: async () => (await import('./stop.js')).runStop,
    worktrees: async () => (await import('./worktrees.js')).runWorktrees,
    runs: async () => (await import('./runs.js')).runRuns,
    trace: async () => (await import('./trace.js')).runTrace,
  };
  if (Object.hasOwn(people, cmd)) return (await people[cmd]())(rest);
  if (cmd === 'setup') {
    const { runSetup } = await import('./setup/index.js');
    return runSetup(rest);
  }
  if (cmd === 'pty-host') return (await import('../ptyhost/main.js')).runPtyHost();
  if (cmd === 'demo') {
    const { runDemo } = await import('./demo.js');
    return runDemo(rest);
  }
  throw new Error(`unknown command "${cmd}"\n\n${HELP}`);
}

main(process.argv.slice(2)).catch(async (e: Error) => {
  process.stderr.write(`cao-mcp: ${e.message}\n`);
  // a process that was logging (a hub, the pty host) says it in its log too; a person's command only here
  const { logFile, logger } = await import('../util/log.js');
  if (logFile()) logger('cli').fatal({ err: e }, 'exiting on an error');
  process.exit(1);
});
