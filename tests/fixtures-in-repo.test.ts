import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// A fresh clone has only the repository: no test, benchmark or script may read test data from beside it
// (the captures once lived in a `shared` folder next to the repo; they are in tests/fixtures now).

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const self = fileURLToPath(import.meta.url);
const CODE = /\.(ts|mts|cts|js|mjs|cjs|sh|json)$/;

/** A path built to a sibling folder of the repo: `'..', 'shared'` in a join/resolve, or a `../shared` string. */
const OUTSIDE = [/['"`]\.\.['"`]\s*,\s*['"`]shared['"`]/, /['"`][^'"`\n]*\.\.\/shared\b/];

function files(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = path.join(dir, name);
    // captured screens are data, not code
    if (name === 'node_modules' || p === path.join(repoRoot, 'tests', 'fixtures')) continue;
    if (statSync(p).isDirectory()) out.push(...files(p));
    else if (CODE.test(name) && p !== self) out.push(p);
  }
  return out;
}

describe('test data lives in the repository', () => {
  it('no file under tests/, bench/ or scripts/ builds a path to ../shared', () => {
    const found: string[] = [];
    for (const dir of ['tests', 'bench', 'scripts']) {
      for (const f of files(path.join(repoRoot, dir))) {
        readFileSync(f, 'utf8')
          .split('\n')
          .forEach((line, i) => {
            if (OUTSIDE.some((re) => re.test(line))) found.push(`${path.relative(repoRoot, f)}:${i + 1}: ${line.trim()}`);
          });
      }
    }
    expect(found).toEqual([]);
  });

  it('the guard sees the forms it forbids', () => {
    const hit = (line: string) => OUTSIDE.some((re) => re.test(line));
    expect(hit("path.resolve(repoRoot, '..', 'shared', 'fixtures')")).toBe(true);
    expect(hit('readFileSync(`${root}/../shared/fixtures/x.txt`)')).toBe(true);
    expect(hit("join(REPO, 'tests', 'fixtures', 'cao')")).toBe(false);
  });
});
