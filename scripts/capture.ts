// Records the reference screens of a pinned real agent CLI into tests/fixtures/real/ (see tests/fixtures/README.md).
// Run it through scripts/capture.sh (npm run capture -- <cli> [scenario|all]): that one installs the CLI and
// enters the loopback-only network namespace this needs.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ALL_REAL_CLIS, type AnyCli } from '../tests/support/real-clis/index.js';
import { captureScenario } from '../tests/support/capture/run.js';
import { scenariosFor } from '../tests/support/capture/scenarios.js';
import { PROVIDER_OF, cliOf, writeCapture } from '../tests/support/capture/write.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const usage = `usage: npm run capture -- <${Object.values(PROVIDER_OF).join('|')}|${ALL_REAL_CLIS.join('|')}|all> [standard|question|all] [--out <dir>]`;

function parse(argv: string[]): { clis: AnyCli[]; scenario: string; out: string } {
  const pos: string[] = [];
  let out = path.join(repoRoot, 'tests', 'fixtures', 'real');
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--out') out = path.resolve(argv[++i] ?? '');
    else if (argv[i] === '-h' || argv[i] === '--help') throw new Error(usage);
    else pos.push(argv[i]);
  }
  const [who, scenario = 'standard', ...extra] = pos;
  if (!who || extra.length) throw new Error(usage);
  const clis = who === 'all' ? ALL_REAL_CLIS : [cliOf(who)].filter((c): c is AnyCli => !!c);
  if (!clis.length) throw new Error(`unknown CLI "${who}"\n${usage}`);
  return { clis, scenario, out };
}

async function main(): Promise<void> {
  const { clis, scenario, out } = parse(process.argv.slice(2));
  for (const cli of clis) {
    const all = scenariosFor(cli);
    const chosen = scenario === 'all' ? all : all.filter((s) => s.id === scenario);
    if (!chosen.length) {
      if (clis.length > 1) continue; // `all standard|question` records the CLIs that have it
      throw new Error(`${cli} has no scenario "${scenario}"; it has: ${all.map((s) => s.id).join(', ')}`);
    }
    for (const s of chosen) {
      const c = await captureScenario(cli, s, { log: (l) => console.log(l) });
      const files = writeCapture(out, c);
      console.log(`${cli} ${s.id}: wrote ${files.length} files to ${path.relative(process.cwd(), out) || '.'}: ${files.join(' ')}`);
    }
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(`capture: FAILED: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  },
);
