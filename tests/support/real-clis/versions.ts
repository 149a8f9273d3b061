import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export type RealCli = 'claude' | 'codex' | 'gemini' | 'opencode';

/** Pinned versions (markers move between releases). Keep in sync with scripts/install-real-clis.mjs. */
export const REAL_CLI_VERSIONS: Record<RealCli, { pkg: string; version: string; bin: string }> = {
  claude: { pkg: '@anthropic-ai/claude-code', version: '2.1.197', bin: 'claude' },
  codex: { pkg: '@openai/codex', version: '0.169.0', bin: 'codex' },
  gemini: { pkg: '@google/gemini-cli', version: '0.61.0', bin: 'gemini' },
  opencode: { pkg: 'opencode-ai', version: '1.18.33', bin: 'opencode' },
};

export const REAL_CLIS = Object.keys(REAL_CLI_VERSIONS) as RealCli[];

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

/** Where scripts/install-real-clis.mjs puts the CLIs: `$CAO_E2E_CACHE` or `<repo>/.e2e-cache`. */
export function realCliCache(): string {
  return path.resolve(process.env.CAO_E2E_CACHE || path.join(repoRoot, '.e2e-cache'));
}

/** The installed binary of a pinned CLI; throws with the install command if it is missing. */
export function binPath(cli: RealCli): string {
  const { pkg, version, bin } = REAL_CLI_VERSIONS[cli];
  const p = path.join(realCliCache(), `${pkg}@${version}`, 'node_modules', '.bin', bin);
  if (!existsSync(p)) {
    throw new Error(`${cli} ${version} is not installed at ${p}; run: node scripts/install-real-clis.mjs ${cli}`);
  }
  return p;
}

export function isInstalled(cli: RealCli): boolean {
  try {
    binPath(cli);
    return true;
  } catch {
    return false;
  }
}
