import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { REAL_CLI_VERSIONS, type AnyCli } from '../real-clis/index.js';
import { captureSize, type ScenarioCapture } from './run.js';

/** cao-mcp's provider id for each capturable CLI, and the names the capture command accepts for it. */
export const PROVIDER_OF: Record<AnyCli, string> = {
  claude: 'claude_code',
  codex: 'codex',
  gemini: 'gemini_cli',
  opencode: 'opencode',
  qwen: 'qwen_code',
  copilot: 'copilot_cli',
  kilo: 'kilo_code',
  droid: 'droid',
  pi: 'pi',
};

/** `claude_code` or `claude` → `claude`; undefined for anything else. */
export function cliOf(name: string): AnyCli | undefined {
  for (const [cli, provider] of Object.entries(PROVIDER_OF) as [AnyCli, string][]) if (name === cli || name === provider) return cli;
  return undefined;
}

export const stateFile = (cli: AnyCli, state: string, ansi = false) => `${cli}-${state}${ansi ? '.ansi' : ''}.txt`;
export const rawFile = (cli: AnyCli, scenario: string) => `${cli}-${scenario}.raw.txt`;
export const provenanceFile = (cli: AnyCli) => `${cli}.provenance.json`;

export interface ScenarioProvenance {
  description: string;
  recorded: string;
  command: string;
  fakeModelScript: unknown;
  raw: string;
  states: Record<string, { plain: string; ansi: string; atMs: number }>;
  modelRequests: Array<{ kind: string; path: string; sideCall?: string }>;
}

export interface Provenance {
  cli: AnyCli;
  provider: string;
  package: string;
  version: string;
  terminal: { cols: number; rows: number; term: string };
  rendering: string;
  launch: { argv: string[]; how: string };
  network: string;
  normalised: Array<{ what: string; to: string }>;
  tool: string;
  node: string;
  scenarios: Record<string, ScenarioProvenance>;
}

/** The provenance record of one CLI, with this capture's scenario added (or replaced). */
export function provenanceWith(prev: Provenance | undefined, c: ScenarioCapture): Provenance {
  const { pkg, version, bin } = REAL_CLI_VERSIONS[c.cli];
  const scenarios = { ...(prev?.version === version ? prev.scenarios : {}) };
  scenarios[c.scenario.id] = {
    description: c.scenario.description,
    recorded: c.recordedAt,
    command: `npm run capture -- ${c.cli} ${c.scenario.id}`,
    fakeModelScript: c.scenario.script,
    raw: rawFile(c.cli, c.scenario.id),
    states: Object.fromEntries(
      c.states.map((s) => [s.state, { plain: stateFile(c.cli, s.state), ansi: stateFile(c.cli, s.state, true), atMs: s.atMs }]),
    ),
    modelRequests: c.requests,
  };
  return {
    cli: c.cli,
    provider: PROVIDER_OF[c.cli],
    package: pkg,
    version,
    terminal: { ...captureSize(c.cli), term: 'xterm-256color' },
    rendering:
      'node-pty output rendered by @xterm/headless (src/screen/screen.ts, which answers terminal queries); .txt = the visible rows as text, ' +
      '.ansi.txt = the same rows with SGR colour/attribute escapes (tests/support/capture/ansi.ts), .raw.txt = the pty output up to the last screen',
    launch: {
      argv: [bin, ...c.args],
      how: 'throwaway HOME seeded by tests/support/real-clis (config for the fake model, project trusted, no MCP servers)',
    },
    network: 'loopback-only network namespace (unshare -n); the fake model (tests/support/fake-model) on 127.0.0.1',
    normalised: c.rewrites,
    tool: 'scripts/capture.sh → scripts/capture.ts → tests/support/capture/',
    node: process.version,
    scenarios: Object.fromEntries(Object.entries(scenarios).sort(([a], [b]) => a.localeCompare(b))),
  };
}

/** Writes a capture's files into `dir` and merges its scenario into `<cli>.provenance.json`; returns the files written. */
export function writeCapture(dir: string, c: ScenarioCapture): string[] {
  mkdirSync(dir, { recursive: true });
  const files: string[] = [];
  const put = (name: string, data: string) => {
    writeFileSync(path.join(dir, name), data);
    files.push(name);
  };
  for (const s of c.states) {
    put(stateFile(c.cli, s.state), s.text);
    put(stateFile(c.cli, s.state, true), s.ansi);
  }
  put(rawFile(c.cli, c.scenario.id), c.raw);
  const pf = path.join(dir, provenanceFile(c.cli));
  const prev = existsSync(pf) ? (JSON.parse(readFileSync(pf, 'utf8')) as Provenance) : undefined;
  put(provenanceFile(c.cli), JSON.stringify(provenanceWith(prev, c), null, 2) + '\n');
  return files;
}
