import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { AnyCli } from './versions.js';

/** A stdio MCP server to hand to a CLI. */
export interface McpStdioServer {
  command: string;
  args?: string[];
  env?: Record<string, string>;
}

export interface SeedOptions {
  /** Fake model base URL, e.g. `http://127.0.0.1:PORT` (no `/v1`). */
  modelUrl: string;
  /** Working directory of the CLI (trusted in its config). Must exist. */
  cwd: string;
  /** Parent of the throwaway HOME (default: the OS temp dir). */
  tmpRoot?: string;
  /** Seed into this existing HOME instead of a fresh one (several CLIs sharing one HOME, see seedRealClis). */
  home?: string;
  /** MCP servers to give the CLI, by name (the name becomes part of tool names, e.g. `mcp__<name>__send_message`). */
  mcpServers?: Record<string, McpStdioServer>;
  /** Pre-approve every tool of the given MCP servers so the CLI never asks before calling one (default true). */
  approveMcpTools?: boolean;
  /** MCP tool-call timeout in seconds (default 600: a blocking `handoff` takes minutes). */
  toolTimeoutSec?: number;
}

/** How to start the real TUI: spawn `command args` in a pty with `env` (complete, not merged) in `cwd`. */
export interface LaunchSpec {
  cli: AnyCli;
  command: string;
  args: string[];
  env: Record<string, string>;
  home: string;
  cwd: string;
}

export const FAKE_API_KEY = 'sk-fake-0123456789-abcdefghijklmnopqrstuvwxyz';

export function makeHome(cli: AnyCli | string, tmpRoot = os.tmpdir()): string {
  mkdirSync(tmpRoot, { recursive: true });
  return mkdtempSync(path.join(tmpRoot, `cao-${cli}-home-`));
}

/** The HOME to seed: the one given in the options, else a fresh throwaway one. */
export function homeFor(cli: AnyCli, o: SeedOptions): string {
  if (o.home) {
    mkdirSync(o.home, { recursive: true });
    return o.home;
  }
  return makeHome(cli, o.tmpRoot);
}

export function writeFile(file: string, content: string): void {
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, content);
}

export const writeJson = (file: string, value: unknown) => writeFile(file, JSON.stringify(value, null, 2) + '\n');

/**
 * A clean environment (nothing inherited but PATH): no host API keys or config can leak into a test run.
 * XDG dirs live under the throwaway HOME.
 */
export function baseEnv(home: string): Record<string, string> {
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin',
    HOME: home,
    USER: process.env.USER ?? 'root',
    TERM: 'xterm-256color',
    LANG: 'C.UTF-8',
    TMPDIR: path.join(home, 'tmp'),
    XDG_CONFIG_HOME: path.join(home, '.config'),
    XDG_DATA_HOME: path.join(home, '.local', 'share'),
    XDG_CACHE_HOME: path.join(home, '.cache'),
    XDG_STATE_HOME: path.join(home, '.local', 'state'),
  };
  for (const k of ['TMPDIR', 'XDG_CONFIG_HOME', 'XDG_DATA_HOME', 'XDG_CACHE_HOME', 'XDG_STATE_HOME']) mkdirSync(env[k], { recursive: true });
  return env;
}

/** TOML basic string (JSON string escapes are valid TOML). */
export const tomlString = (s: string) => JSON.stringify(s);
