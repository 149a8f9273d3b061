import { spawnSync } from 'node:child_process';
import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fillTemplate, type MockTurn, type TemplateVars } from './script.js';

/** A turn's file writes, then its commands, in the agent's working directory (as a coding agent edits and commits). */
export function runEdits(rule: MockTurn, vars: TemplateVars): { argv: string[]; status: number | null }[] {
  for (const w of rule.writes) {
    const file = resolve(w.path);
    mkdirSync(dirname(file), { recursive: true });
    (w.append ? appendFileSync : writeFileSync)(file, fillTemplate(w.content, vars));
  }
  return rule.commands.map((argv) => {
    const args = argv.map((a) => fillTemplate(a, vars));
    return { argv: args, status: spawnSync(args[0], args.slice(1), { stdio: 'ignore', timeout: 30_000 }).status };
  });
}
