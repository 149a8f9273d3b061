#!/usr/bin/env node
// Installs the pinned real agent CLIs used by the end-to-end tests into a cache
// outside node_modules, one prefix per CLI@version, so versions never drift and
// the project's own dependency tree is never touched.
//   cache dir: $CAO_E2E_CACHE or <repo>/.e2e-cache
//   usage: node scripts/install-real-clis.mjs [claude|codex|gemini|opencode ...]
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

// Keep in sync with tests/support/real-clis/versions.ts (the tests read that one).
const CLIS = {
  claude: { pkg: '@anthropic-ai/claude-code', version: '2.1.197' },
  codex: { pkg: '@openai/codex', version: '0.169.0' },
  gemini: { pkg: '@google/gemini-cli', version: '0.61.0' },
  opencode: { pkg: 'opencode-ai', version: '1.18.33' },
  qwen: { pkg: '@qwen-code/qwen-code', version: '0.24.4' },
  // 7.8.1's postinstall asks for platform packages that were never published
  kilo: { pkg: '@kilocode/cli', version: '7.7.7' },
  copilot: { pkg: '@github/copilot', version: '1.0.102' },
  pi: { pkg: '@mariozechner/pi-coding-agent', version: '0.73.1' },
  // the 0.225.1 shim's platform package is missing from the registry: install 0.225.2's beside it
  droid: { pkg: '@factory/cli', version: '0.225.1', extra: ['@factory/cli-linux-x64@0.225.2'], bin: 'droid' },
};

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const cache = path.resolve(process.env.CAO_E2E_CACHE || path.join(repoRoot, '.e2e-cache'));

const wanted = process.argv.slice(2);
for (const name of wanted) {
  if (!(name in CLIS)) {
    console.error(`unknown CLI "${name}"; known: ${Object.keys(CLIS).join(', ')}`);
    process.exit(2);
  }
}
const names = wanted.length ? wanted : Object.keys(CLIS);

for (const name of names) {
  const { pkg, version, extra = [], bin } = CLIS[name];
  const prefix = path.join(cache, `${pkg}@${version}`);
  const marker = path.join(prefix, 'node_modules', ...pkg.split('/'), 'package.json');
  // npm reports success for some CLIs whose binary never arrived: check the binary too where we know it
  const binary = bin ? path.join(prefix, 'node_modules', '.bin', bin) : marker;
  if (existsSync(marker) && existsSync(binary)) {
    console.log(`${name}: ${pkg}@${version} already installed in ${prefix}`);
    continue;
  }
  console.log(`${name}: installing ${pkg}@${version} into ${prefix} ...`);
  const started = Date.now();
  const r = spawnSync('npm', ['install', '--prefix', prefix, '--no-audit', '--no-fund', '--loglevel=error', `${pkg}@${version}`, ...extra], {
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  if (r.status !== 0 || !existsSync(marker) || !existsSync(binary)) {
    console.error(`${name}: install of ${pkg}@${version} FAILED (exit ${r.status ?? r.signal})`);
    process.exit(1);
  }
  console.log(`${name}: installed in ${((Date.now() - started) / 1000).toFixed(0)}s`);
}
console.log(`all requested CLIs present in ${cache}`);
