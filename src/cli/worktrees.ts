import { parseArgs } from 'node:util';
import { openStore } from '../store/open.js';
import type { WorktreeRow } from '../db/schema.js';
import { Worktrees } from '../worktrees/worktrees.js';
import { ago, paint, table, useColour } from './table.js';

export const WORKTREES_HELP = `Usage: cao-mcp worktrees [--all] [--json]
       cao-mcp worktrees rm <terminal-id|branch|path> [--force]

The git worktrees cao-mcp made for workers (handoff/assign with worktree): in use by a running worker
(active), and kept because their worker changed something (kept), with the diff against where each
started. A worktree its worker changed nothing in is removed, with its branch, when the worker ends.
  --all     removed ones too
  --json    {"worktrees": [...]} for scripts
  rm        removes a kept worktree's folder; its branch (and the commits on it) stays.
            Refused when it holds uncommitted changes, unless --force.`;

export async function runWorktrees(argv: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args: argv,
    options: {
      all: { type: 'boolean', short: 'a' },
      json: { type: 'boolean' },
      force: { type: 'boolean', short: 'f' },
      help: { type: 'boolean', short: 'h' },
    },
    allowPositionals: true,
    strict: true,
  });
  if (values.help) return void process.stdout.write(`${WORKTREES_HELP}\n`);
  const store = await openStore();
  try {
    const trees = new Worktrees(store);
    const [sub, ref, ...extra] = positionals;
    if (sub === 'rm' || sub === 'remove') {
      if (!ref || extra.length) throw new Error(`cao-mcp worktrees rm takes one worktree (its terminal id, branch or path)\n\n${WORKTREES_HELP}`);
      const row = await trees.remove(ref, values.force);
      process.stdout.write(`removed ${row.path}; branch ${row.branch} kept (git branch -D ${row.branch} deletes it)\n`);
      return;
    }
    if (sub !== undefined) throw new Error(`unknown subcommand "${sub}"\n\n${WORKTREES_HELP}`);
    const rows = await trees.list(values.all ? ['active', 'kept', 'removed'] : ['active', 'kept']);
    if (values.json) return void process.stdout.write(`${JSON.stringify({ worktrees: rows }, null, 2)}\n`);
    process.stdout.write(formatWorktrees(rows, useColour()));
  } finally {
    await store.close();
  }
}

export function formatWorktrees(rows: WorktreeRow[], colour: boolean): string {
  if (!rows.length) return 'no worktrees\n';
  const p = paint(colour);
  const state = (r: WorktreeRow) => (r.state === 'kept' ? p.yellow('kept') : r.state === 'active' ? p.blue('active') : p.dim('removed'));
  const diff = (r: WorktreeRow) =>
    r.filesChanged === null
      ? ''
      : `${r.filesChanged} file${r.filesChanged === 1 ? '' : 's'} +${r.insertions} -${r.deletions}, ${r.commits} commit${r.commits === 1 ? '' : 's'}${r.uncommittedFiles ? `, ${r.uncommittedFiles} uncommitted` : ''}`;
  const rowsOut = rows.map((r) => [r.terminalId, state(r), r.branch, diff(r), ago(Math.round((Date.now() - r.createdAt) / 1000)), r.path]);
  return table(['WORKER', 'STATE', 'BRANCH', 'CHANGES', 'AGE', 'PATH'], rowsOut, p);
}
