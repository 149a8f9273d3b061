// The layout's rules (README, "Architecture"), checked on the source: who may import whom, no folder cycle,
// no file past the size a reader can hold in mind.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const SRC = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'src');

function sourceFiles(dir = SRC): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = path.join(dir, f);
    return statSync(p).isDirectory() ? sourceFiles(p) : p.endsWith('.ts') ? [p] : [];
  });
}

/** `mcp/http/server.ts` → `mcp`: the top folder a file belongs to. */
const folderOf = (file: string) => path.relative(SRC, file).split(path.sep)[0]!;

/** Every relative import (static, `import type`, dynamic) of a file, resolved to the file it names. */
function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const specs = [...text.matchAll(/\bfrom\s+'(\.[^']+)'|\bimport\(\s*'(\.[^']+)'\s*\)/g)].map((m) => m[1] ?? m[2]!);
  return specs.map((s) => path.resolve(path.dirname(file), s));
}

const files = sourceFiles();
/** folder → folders it imports (itself left out). */
const graph = new Map<string, Set<string>>();
const edges: { from: string; to: string; file: string }[] = [];
for (const f of files) {
  const from = folderOf(f);
  if (!graph.has(from)) graph.set(from, new Set());
  for (const target of importsOf(f)) {
    const to = folderOf(target);
    if (to === from) continue;
    graph.get(from)!.add(to);
    edges.push({ from, to, file: path.relative(SRC, f) });
  }
}

/** The domain: the use cases and what they stand on. They never reach up to a front or an entry point. */
const DOMAIN = [
  'flows',
  'registry',
  'inbox',
  'agents',
  'db',
  'status',
  'screen',
  'pty',
  'providers',
  'bus',
  'profiles',
  'ptyhost',
  'worktrees',
  'journal',
  'telemetry',
];
const UPPER = ['mcp', 'dashboard', 'cli', 'hub'];

describe('architecture', () => {
  it('reads a real tree (the checks below would pass on nothing)', () => {
    expect(files.length).toBeGreaterThan(80);
    for (const f of ['flows', 'registry', 'inbox', 'agents', 'mcp', 'dashboard', 'hub']) expect(graph.has(f)).toBe(true);
    expect(edges.some((e) => e.from === 'mcp' && e.to === 'flows')).toBe(true);
  });

  it('the fronts (mcp/, dashboard/) import only flows/ and util/', () => {
    const bad = edges.filter((e) => (e.from === 'mcp' || e.from === 'dashboard') && !['flows', 'util'].includes(e.to));
    expect(bad.map((e) => `${e.file} → ${e.to}/`)).toEqual([]);
  });

  it('the domain never imports a front or an entry point (mcp/, dashboard/, cli/, hub/)', () => {
    const bad = edges.filter((e) => DOMAIN.includes(e.from) && UPPER.includes(e.to));
    expect(bad.map((e) => `${e.file} → ${e.to}/`)).toEqual([]);
  });

  it('the pty host (ptyhost/) stands on pty/, screen/ and util/ only: nothing that fails often runs in it', () => {
    expect(graph.has('ptyhost')).toBe(true);
    const bad = edges.filter((e) => e.from === 'ptyhost' && !['pty', 'screen', 'util'].includes(e.to));
    expect(bad.map((e) => `${e.file} → ${e.to}/`)).toEqual([]);
  });

  it('only the composition root (hub/) and the entry points (cli/) import a front', () => {
    const bad = edges.filter((e) => (e.to === 'mcp' || e.to === 'dashboard') && !['hub', 'cli'].includes(e.from));
    expect(bad.map((e) => `${e.file} → ${e.to}/`)).toEqual([]);
  });

  it('has no cycle between folders', () => {
    const cycles: string[] = [];
    const state = new Map<string, 'open' | 'done'>();
    const walk = (n: string, trail: string[]) => {
      if (state.get(n) === 'done') return;
      if (state.get(n) === 'open') {
        cycles.push([...trail.slice(trail.indexOf(n)), n].join(' → '));
        return;
      }
      state.set(n, 'open');
      for (const m of graph.get(n) ?? []) walk(m, [...trail, n]);
      state.set(n, 'done');
    };
    for (const n of graph.keys()) walk(n, []);
    expect(cycles).toEqual([]);
  });

  it('no source file is over 400 lines', () => {
    // none today; a file that must stay longer is named here with its limit and the reason
    const EXCEPTIONS: Record<string, number> = {};
    const over = files
      .map((f) => ({ file: path.relative(SRC, f).split(path.sep).join('/'), lines: readFileSync(f, 'utf8').trimEnd().split('\n').length }))
      .filter((f) => f.lines > (EXCEPTIONS[f.file] ?? 400));
    expect(over).toEqual([]);
  });
});
