import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The four CLIs of the first end-to-end suite (tests/real-cli-smoke.test.ts runs each of REAL_CLIS). */
export type RealCli = 'claude' | 'codex' | 'gemini' | 'opencode';
/** The CLIs added for issue 15 (proven through tests/real/ only). */
export type MoreCli = 'qwen' | 'kilo' | 'copilot' | 'pi' | 'droid';
export type AnyCli = RealCli | MoreCli;

/** Pinned versions (markers move between releases). Keep in sync with scripts/install-real-clis.mjs. */
export const REAL_CLI_VERSIONS: Record<AnyCli, { pkg: string; version: string; bin: string }> = {
  claude: { pkg: '@anthropic-ai/claude-code', version: '2.1.197', bin: 'claude' },
  codex: { pkg: '@openai/codex', version: '0.169.0', bin: 'codex' },
  gemini: { pkg: '@google/gemini-cli', version: '0.61.0', bin: 'gemini' },
  opencode: { pkg: 'opencode-ai', version: '1.18.33', bin: 'opencode' },
  qwen: { pkg: '@qwen-code/qwen-code', version: '0.24.4', bin: 'qwen' },
  // 7.8.1's postinstall asks for platform packages that were never published
  kilo: { pkg: '@kilocode/cli', version: '7.7.7', bin: 'kilo' },
  copilot: { pkg: '@github/copilot', version: '1.0.102', bin: 'copilot' },
  pi: { pkg: '@mariozechner/pi-coding-agent', version: '0.73.1', bin: 'pi' },
  // the 0.225.1 shim's own platform package is missing from the registry; 0.225.2's is installed beside it
  droid: { pkg: '@factory/cli', version: '0.225.1', bin: 'droid' },
};

export const REAL_CLIS: RealCli[] = ['claude', 'codex', 'gemini', 'opencode'];
export const ALL_REAL_CLIS = Object.keys(REAL_CLI_VERSIONS) as AnyCli[];

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

/** Where scripts/install-real-clis.mjs puts the CLIs: `$CAO_E2E_CACHE` or `<repo>/.e2e-cache`. */
export function realCliCache(): string {
  return path.resolve(process.env.CAO_E2E_CACHE || path.join(repoRoot, '.e2e-cache'));
}

/** The installed binary of a pinned CLI; throws with the install command if it is missing. */
export function binPath(cli: AnyCli): string {
  const { pkg, version, bin } = REAL_CLI_VERSIONS[cli];
  const p = path.join(realCliCache(), `${pkg}@${version}`, 'node_modules', '.bin', bin);
  if (!existsSync(p)) {
    throw new Error(`${cli} ${version} is not installed at ${p}; run: node scripts/install-real-clis.mjs ${cli}`);
  }
  return p;
}

export function isInstalled(cli: AnyCli): boolean {
  try {
    binPath(cli);
    return true;
  } catch {
    return false;
  }
}
