import type { DetectedStatus } from '../status/types.js';
import type { ScreenSnapshot } from '../screen/snapshot.js';

export const PROVIDER_IDS = [
  'mock',
  'claude_code',
  'codex',
  'gemini_cli',
  'opencode',
  'kiro_cli',
  'kimi_cli',
  'qwen_code',
  'copilot_cli',
  'kilo_code',
  'droid',
  'pi',
] as const;
export type ProviderId = (typeof PROVIDER_IDS)[number];

/** How a worker reaches cao-mcp: a stdio MCP server command, with the env that makes it forward to the hub. */
export interface McpServerSpec {
  /** Server name as the worker CLI shows it (tools appear as e.g. `mcp__cao__handoff`). */
  name: string;
  command: string;
  args: string[];
  env: Record<string, string>;
}

export interface LaunchContext {
  terminalId: string;
  workingDirectory: string;
  profileName: string;
  /** The profile's body: used as (appended) system prompt where the CLI allows it. */
  systemPrompt: string;
  model?: string;
  mcp: McpServerSpec;
  /** Per-terminal directory (0700) for files the provider writes (MCP config, prompt file…). */
  runtimeDir: string;
  /** Environment the CLI starts from (already holds the CAO_* variables). */
  env: Record<string, string>;
  /** Seconds the worker CLI should allow one MCP tool call (a nested handoff can be long). */
  toolTimeoutSec: number;
}

export interface LaunchSpec {
  command: string;
  args: string[];
  env: Record<string, string>;
  cwd: string;
}

/** A first-run / startup dialog the provider knows how to get past. */
export interface StartupDialog {
  id: string;
  /** True when the dialog is active now (anchor to the bottom rows, not the whole scrollback). */
  match(screen: ScreenSnapshot): boolean;
  /** Writes that dismiss it, in order (each a separate write, a short pause between). */
  keys: string[];
}

export interface Provider {
  id: ProviderId;
  /** Human name, e.g. "Claude Code". */
  label: string;
  /** Terminal size the CLI runs at. */
  cols: number;
  rows: number;
  launch(ctx: LaunchContext): LaunchSpec | Promise<LaunchSpec>;
  startupDialogs: StartupDialog[];
  /** Status of a settled, rendered screen. */
  detect(screen: ScreenSnapshot): DetectedStatus;
  /** When `detect` says waiting_user_answer: the question and its options, as shown (for the supervisor). */
  pendingQuestion(screen: ScreenSnapshot): string | null;
  /** The last answer of the agent, without the CLI's chrome, or null when none is on screen. */
  extractLastAnswer(screen: ScreenSnapshot): string | null;
  /** Keys that answer a pending question with `answer` (default: the text, then Enter). */
  answerKeys?(answer: string, screen: ScreenSnapshot): string[];
  input: {
    /** Pause between the text and the Enter that submits it, when the text was typed (no bracketed paste). */
    enterDelayMs: number;
    /**
     * The same pause after a bracketed paste (default enterDelayMs). Shorter where the CLI's paste-burst heuristics
     * (an Enter soon after fast typing means a newline) apply to typed characters only: measured per CLI (bench/real-handoff).
     */
    pasteEnterDelayMs?: number;
    /** What submits the input (normally "\r"). */
    submitKey: string;
  };
  exit: {
    /** Writes that quit the CLI politely (e.g. ["/exit", "\r"]); the process group is killed after `graceMs`. */
    keys: string[];
    graceMs: number;
  };
  /** Milliseconds to wait for the CLI to become ready before failing with its screen. */
  startupTimeoutMs: number;
  /**
   * After an input, how long a ready-looking screen that never showed work must stay settled before it
   * is believed (default 2000). Raise it for CLIs that keep their idle screen a while after Enter.
   */
  readyWithoutBusyMs?: number;
  /**
   * The CLI connects its MCP servers in the background after its prompt shows: before calling it ready,
   * wait (up to 20 s) until it has asked our server for its tools, or the first task cannot use them.
   */
  waitForMcpTools?: boolean;
  /** True while text still sits unsent in the input box (an Enter that became a newline did not submit). */
  inputPending?(screen: ScreenSnapshot): boolean;
}
