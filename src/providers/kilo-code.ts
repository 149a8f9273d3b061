import { join } from 'node:path';
import type { LaunchContext, LaunchSpec, Provider } from './types.js';
import { opencodeMcp, opencodeProvider } from './opencode.js';
import { deepMerge, readJsoncObject, resolveBinary, withDelegationNote, writePrivateFile } from './common/index.js';

/*
 * Kilo Code CLI 7.7 is a fork of OpenCode: the same full-screen TUI (session view, `▣  <Agent> · <Model> · 3.6s`
 * turn footer, "esc interrupt" while busy, barred question / permission panels), the same config format
 * (`kilo.json`, layered over the global one by KILO_CONFIG) and the same `--auto` flag. So detection, extraction
 * and answers are OpenCode's (tests/fixtures/real/kilo-*.txt are read by the OpenCode detector); only the launch
 * differs.
 */

/** Writes the per-terminal config Kilo loads through KILO_CONFIG (merged over the global one); returns its path. */
function writeConfig(ctx: LaunchContext): string {
  const file = join(ctx.runtimeDir, 'kilo.json');
  let base: Record<string, unknown> = {};
  const prior = ctx.env.KILO_CONFIG;
  if (prior && prior !== file) {
    base = readJsoncObject(prior, 'Kilo config');
  }
  // `instructions` files are appended to Kilo's own system prompt. Kilo has its own sub-agents (the `task` tool).
  const promptFile = join(ctx.runtimeDir, 'kilo-profile.md');
  writePrivateFile(promptFile, withDelegationNote(ctx.systemPrompt, ctx.mcp.name, 'your built-in `task` tool (sub-agents)') + '\n');
  const prev = Array.isArray(base.instructions) ? (base.instructions as unknown[]) : [];
  const ours: Record<string, unknown> = {
    mcp: opencodeMcp(ctx),
    instructions: [...prev, promptFile],
  };
  writePrivateFile(file, JSON.stringify(deepMerge(base, ours), null, 2) + '\n');
  return file;
}

export const kiloCodeProvider: Provider = {
  ...opencodeProvider,
  id: 'kilo_code',
  label: 'Kilo Code CLI',
  launch(ctx: LaunchContext): LaunchSpec {
    const config = writeConfig(ctx);
    // --auto: approve permission requests that the config does not explicitly deny (a worker runs unattended).
    const args = ['--auto'];
    if (ctx.model) args.push('--model', ctx.model);
    return {
      command: resolveBinary('kilo', 'CAO_KILO_BIN', ctx.env),
      args,
      // no background daemon that would outlive the worker; no self-update
      env: { ...ctx.env, KILO_CONFIG: config, KILO_NO_DAEMON: '1', KILO_DISABLE_AUTOUPDATE: '1' },
      cwd: ctx.workingDirectory,
    };
  },
  // OpenCode's panel text, without the version Kilo prints in the panel's last row
  pendingQuestion(screen) {
    const q = opencodeProvider.pendingQuestion(screen);
    return q === null
      ? null
      : q
          .split('\n')
          .filter((r) => !/^\s*•\s*Kilo\s+\d/.test(r))
          .join('\n')
          .trimEnd();
  },
  // It shows a blank screen for 13–18 s (longer on a loaded machine) before its TUI.
  startupTimeoutMs: 180_000,
};
