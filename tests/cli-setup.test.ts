import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { parse as parseJsonc } from 'jsonc-parser';
import { parse as parseToml } from 'smol-toml';
import { afterEach, describe, expect, it } from 'vitest';
import { CLI } from './support/cao-client.js';

// `cao-mcp setup <client>`, run as the built CLI in a throwaway HOME per test.

const homes: string[] = [];
afterEach(() => {
  for (const h of homes.splice(0)) rmSync(h, { recursive: true, force: true });
});

function newHome(): string {
  const h = mkdtempSync(join(tmpdir(), 'cao-setup-'));
  homes.push(h);
  return h;
}

function setup(home: string, args: string[], env: Record<string, string> = {}) {
  const clean = { ...process.env } as Record<string, string>;
  for (const k of ['CODEX_HOME', 'XDG_CONFIG_HOME', 'CLAUDE_CONFIG_DIR']) delete clean[k];
  const r = spawnSync(process.execPath, [CLI, 'setup', ...args], { env: { ...clean, HOME: home, ...env }, encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const write = (file: string, text: string) => {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, text);
};

interface Case {
  client: string;
  file: (home: string) => string;
  /** The cao entry as parsed from the file. */
  entry: (doc: Record<string, any>) => any;
  expected: Record<string, unknown>;
  parse: (text: string) => Record<string, any>;
  /** A config with another server, another setting and (where the client allows them) comments. */
  existing: string;
  /** What must survive the merge, verbatim in the text. */
  kept: string[];
  keptValues: (doc: Record<string, any>) => unknown;
  corrupt: { text: string; at: string };
}

const jsonc = (t: string) => parseJsonc(t, [], { allowTrailingComma: true }) as Record<string, any>;
const MS = 3_660_000;

const CASES: Case[] = [
  {
    client: 'claude',
    file: (h) => join(h, '.claude.json'),
    entry: (d) => d.mcpServers?.cao,
    expected: { type: 'stdio', command: 'npx', args: ['-y', 'cao-mcp'], env: {}, timeout: MS },
    parse: (t) => JSON.parse(t),
    existing:
      '{\n  "numStartups": 3,\n  "mcpServers": {\n    "other": { "type": "stdio", "command": "foo", "args": [], "env": { "K": "v" } }\n  },\n  "projects": { "/w": { "hasTrustDialogAccepted": true } }\n}\n',
    kept: ['"numStartups": 3', '"other": { "type": "stdio", "command": "foo", "args": [], "env": { "K": "v" } }'],
    keptValues: (d) => [d.numStartups, d.mcpServers.other, d.projects],
    corrupt: { text: '{\n  "a": 1,\n  "b": \n}\n', at: '.claude.json:4:1' },
  },
  {
    client: 'codex',
    file: (h) => join(h, '.codex', 'config.toml'),
    entry: (d) => d.mcp_servers?.cao,
    expected: { command: 'npx', args: ['-y', 'cao-mcp'], tool_timeout_sec: 3660, startup_timeout_sec: 60 },
    parse: (t) => parseToml(t),
    existing:
      '# my codex config\nmodel = "o3"  # the model\n\n[mcp_servers.other]\ncommand = "foo" # other server\nargs = ["a"]\n\n[mcp_servers.other.env]\nK = "v"\n\n[tui]\nshow_tooltips = false\n',
    kept: [
      '# my codex config',
      'model = "o3"  # the model',
      'command = "foo" # other server',
      '[mcp_servers.other.env]\nK = "v"',
      '[tui]\nshow_tooltips = false',
    ],
    keptValues: (d) => [d.model, d.mcp_servers.other, d.tui],
    corrupt: { text: 'model = "o3"\n[tui\nshow_tooltips = false\n', at: 'config.toml:2:' },
  },
  {
    client: 'gemini',
    file: (h) => join(h, '.gemini', 'settings.json'),
    entry: (d) => d.mcpServers?.cao,
    expected: { command: 'npx', args: ['-y', 'cao-mcp'], timeout: MS },
    parse: jsonc,
    existing:
      '{\n  // my settings\n  "ui": { "hideTips": true }, // no tips\n  "mcpServers": {\n    /* other */ "other": { "command": "foo", "trust": true }\n  }\n}\n',
    kept: ['// my settings', '// no tips', '/* other */ "other": { "command": "foo", "trust": true }'],
    keptValues: (d) => [d.ui, d.mcpServers.other],
    corrupt: { text: '{\n  "ui": { "hideTips": true },\n}\n', at: 'settings.json:3:1' },
  },
  {
    client: 'opencode',
    file: (h) => join(h, '.config', 'opencode', 'opencode.json'),
    entry: (d) => d.mcp?.cao,
    expected: { type: 'local', command: ['npx', '-y', 'cao-mcp'], enabled: true, timeout: MS },
    parse: jsonc,
    existing:
      '{\n  "$schema": "https://opencode.ai/config.json",\n  // keep me\n  "autoupdate": false,\n  "mcp": {\n    "other": { "type": "remote", "url": "http://127.0.0.1:1/mcp" }, // remote one\n  },\n}\n',
    kept: ['// keep me', '"other": { "type": "remote", "url": "http://127.0.0.1:1/mcp" }, // remote one'],
    keptValues: (d) => [d.$schema, d.autoupdate, d.mcp.other],
    corrupt: { text: '{\n  "autoupdate": false\n  "share": "disabled"\n}\n', at: 'opencode.json:3:3' },
  },
  {
    client: 'kiro',
    file: (h) => join(h, '.kiro', 'settings', 'mcp.json'),
    entry: (d) => d.mcpServers?.cao,
    expected: { command: 'npx', args: ['-y', 'cao-mcp'], timeout: MS },
    parse: jsonc,
    existing: '{\n    "mcpServers": {\n        "other": { "command": "foo", "args": [] }\n    },\n    "x": [1, 2]\n}\n',
    kept: ['"other": { "command": "foo", "args": [] }', '"x": [1, 2]'],
    keptValues: (d) => [d.mcpServers.other, d.x],
    corrupt: { text: '{ "mcpServers": { "other": ', at: 'mcp.json:1:' },
  },
];

describe('cao-mcp setup', () => {
  for (const c of CASES) {
    describe(c.client, () => {
      it("creates the file (0600) with the entry and the client's timeout", () => {
        const home = newHome();
        const r = setup(home, [c.client]);
        expect(r.code, r.stderr).toBe(0);
        expect(r.stdout).toContain(c.file(home));
        const text = readFileSync(c.file(home), 'utf8');
        expect(c.entry(c.parse(text))).toEqual(c.expected);
        expect(statSync(c.file(home)).mode & 0o777).toBe(0o600);
        expect(text.endsWith('\n')).toBe(true);
        // no temp file left behind
        expect(readdirSync(dirname(c.file(home))).filter((f) => f.includes('cao-setup'))).toEqual([]);
      });

      it('merges into an existing config: other servers, settings, comments and mode are kept; twice is a no-op', () => {
        const home = newHome();
        const file = c.file(home);
        write(file, c.existing);
        chmodSync(file, 0o640);
        const r = setup(home, [c.client]);
        expect(r.code, r.stderr).toBe(0);
        const text = readFileSync(file, 'utf8');
        for (const k of c.kept) expect(text).toContain(k);
        const doc = c.parse(text);
        expect(c.entry(doc)).toEqual(c.expected);
        expect(c.keptValues(doc)).toEqual(c.keptValues(c.parse(c.existing)));
        expect(statSync(file).mode & 0o777).toBe(0o640);

        const again = setup(home, [c.client]);
        expect(again.code, again.stderr).toBe(0);
        expect(again.stdout).toMatch(/already registered.*nothing changed/);
        expect(readFileSync(file, 'utf8')).toBe(text);
      });

      it('--print writes nothing and prints exactly the file a real run writes', () => {
        const home = newHome();
        const file = c.file(home);
        const fresh = setup(home, [c.client, '--print']);
        expect(fresh.code, fresh.stderr).toBe(0);
        expect(existsSync(file)).toBe(false);
        expect(c.entry(c.parse(fresh.stdout))).toEqual(c.expected);

        write(file, c.existing);
        const before = statSync(file).mtimeMs;
        const printed = setup(home, [c.client, '--print']);
        expect(printed.code, printed.stderr).toBe(0);
        expect(printed.stderr).toContain(file);
        expect(readFileSync(file, 'utf8')).toBe(c.existing);
        expect(statSync(file).mtimeMs).toBe(before);
        expect(setup(home, [c.client]).code).toBe(0);
        expect(readFileSync(file, 'utf8')).toBe(printed.stdout);
      });

      it('a config it cannot parse is an error naming the file and line; the file is left as it was', () => {
        const home = newHome();
        const file = c.file(home);
        write(file, c.corrupt.text);
        for (const args of [[c.client], [c.client, '--print']]) {
          const r = setup(home, args);
          expect(r.code).not.toBe(0);
          expect(r.stderr).toContain(c.corrupt.at);
          expect(r.stderr).toContain(file);
          expect(r.stdout).toBe('');
          expect(readFileSync(file, 'utf8')).toBe(c.corrupt.text);
        }
      });

      it('replaces an existing cao entry (--name, --command, --timeout) and keeps the others', () => {
        const home = newHome();
        const file = c.file(home);
        write(file, c.existing);
        expect(setup(home, [c.client]).code).toBe(0);
        const r = setup(home, [c.client, '--command', `node "/opt/my dir/main.js" --flag`, '--timeout', '120']);
        expect(r.code, r.stderr).toBe(0);
        const doc = c.parse(readFileSync(file, 'utf8'));
        const e = c.entry(doc);
        expect(JSON.stringify(e)).toContain('/opt/my dir/main.js');
        expect(JSON.stringify(e)).not.toContain('cao-mcp"');
        expect(c.keptValues(doc)).toEqual(c.keptValues(c.parse(c.existing)));
        const other = setup(home, [c.client, '--name', 'cao-two']);
        expect(other.code, other.stderr).toBe(0);
        expect(readFileSync(file, 'utf8')).toContain('cao-two');
      });
    });
  }

  it('codex: tool_timeout_sec is a float, and an integer one (ignored by Codex) is replaced', () => {
    const home = newHome();
    const file = join(home, '.codex', 'config.toml');
    write(
      file,
      '[mcp_servers.cao]\ncommand = "npx"\nargs = ["-y", "cao-mcp"]\ntool_timeout_sec = 3660\nstartup_timeout_sec = 60.0\n\n[mcp_servers.cao.env]\nA = "1"\n',
    );
    expect(setup(home, ['codex']).code).toBe(0);
    const text = readFileSync(file, 'utf8');
    expect(text).toMatch(/^tool_timeout_sec = 3660\.0$/m);
    expect(text).toMatch(/^startup_timeout_sec = 60\.0$/m);
    expect(text).not.toContain('[mcp_servers.cao.env]');
    expect(setup(home, ['codex', '--timeout', '90']).code).toBe(0);
    expect(readFileSync(file, 'utf8')).toMatch(/^tool_timeout_sec = 90\.0$/m);
  });

  it('codex: a table header inside a multi-line string is not taken for one; CRLF files stay CRLF', () => {
    const home = newHome();
    const file = join(home, '.codex', 'config.toml');
    const text =
      'developer_instructions = """\r\n[mcp_servers.cao]\r\nnot a table\r\n"""\r\n\r\n[mcp_servers.cao] # mine\r\ncommand = "old"\r\n\r\n[tui]\r\nshow_tooltips = false\r\n';
    write(file, text);
    const r = setup(home, ['codex']);
    expect(r.code, r.stderr).toBe(0);
    const out = readFileSync(file, 'utf8');
    expect(out).toContain('"""\r\n[mcp_servers.cao]\r\nnot a table\r\n"""');
    expect(out.replaceAll('\r\n', '')).not.toContain('\n');
    const doc = parseToml(out) as Record<string, any>;
    expect(doc.mcp_servers.cao.command).toBe('npx');
    expect(doc.tui).toEqual({ show_tooltips: false });
    expect(doc.developer_instructions).toContain('not a table');
  });

  it('json: an mcpServers that is not an object is an error, file unchanged', () => {
    const home = newHome();
    const file = join(home, '.gemini', 'settings.json');
    write(file, '{ "mcpServers": [] }\n');
    const r = setup(home, ['gemini']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('"mcpServers" is not an object');
    expect(readFileSync(file, 'utf8')).toBe('{ "mcpServers": [] }\n');
  });

  it('codex: respects CODEX_HOME; an inline-table cao entry is refused with the snippet, file unchanged', () => {
    const home = newHome();
    const codexHome = join(home, 'elsewhere');
    expect(setup(home, ['codex'], { CODEX_HOME: codexHome }).code).toBe(0);
    expect(existsSync(join(codexHome, 'config.toml'))).toBe(true);
    expect(existsSync(join(home, '.codex'))).toBe(false);
    const inline = '[mcp_servers]\ncao = { command = "old" }\n';
    write(join(codexHome, 'config.toml'), inline);
    const r = setup(home, ['codex'], { CODEX_HOME: codexHome });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('inline table');
    expect(r.stderr).toContain('[mcp_servers.cao]');
    expect(readFileSync(join(codexHome, 'config.toml'), 'utf8')).toBe(inline);
  });

  it('claude: a comment (which Claude Code cannot read) is an error; CLAUDE_CONFIG_DIR is respected', () => {
    const home = newHome();
    const text = '{\n  // mine\n  "numStartups": 1\n}\n';
    write(join(home, '.claude.json'), text);
    const r = setup(home, ['claude']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/\.claude\.json:2:3: .*comment/);
    expect(readFileSync(join(home, '.claude.json'), 'utf8')).toBe(text);
    const dir = join(home, 'cfg');
    expect(setup(home, ['claude'], { CLAUDE_CONFIG_DIR: dir }).code).toBe(0);
    expect(JSON.parse(readFileSync(join(dir, '.claude.json'), 'utf8')).mcpServers.cao.type).toBe('stdio');
  });

  it('opencode: edits opencode.jsonc when that is what exists, under XDG_CONFIG_HOME', () => {
    const home = newHome();
    const xdg = join(home, 'xdg');
    const file = join(xdg, 'opencode', 'opencode.jsonc');
    write(file, '{\n  // jsonc\n  "autoupdate": false,\n}\n');
    const r = setup(home, ['opencode'], { XDG_CONFIG_HOME: xdg });
    expect(r.code, r.stderr).toBe(0);
    const text = readFileSync(file, 'utf8');
    expect(text).toContain('// jsonc');
    expect(jsonc(text).mcp.cao.type).toBe('local');
    expect(existsSync(join(xdg, 'opencode', 'opencode.json'))).toBe(false);
  });

  it('a symlinked config stays a symlink; its target is edited', () => {
    const home = newHome();
    const target = join(home, 'dotfiles', 'settings.json');
    write(target, '{ "ui": {} }\n');
    mkdirSync(join(home, '.gemini'));
    symlinkSync(target, join(home, '.gemini', 'settings.json'));
    expect(setup(home, ['gemini']).code).toBe(0);
    expect(lstatSync(join(home, '.gemini', 'settings.json')).isSymbolicLink()).toBe(true);
    expect(jsonc(readFileSync(target, 'utf8')).mcpServers.cao.command).toBe('npx');
  });

  it('--local starts this installation (node + the absolute dist/cli/main.js)', () => {
    const home = newHome();
    expect(setup(home, ['kiro', '--local']).code).toBe(0);
    const e = jsonc(readFileSync(join(home, '.kiro', 'settings', 'mcp.json'), 'utf8')).mcpServers.cao;
    expect(e).toMatchObject({ command: process.execPath, args: [CLI] });
    expect(setup(home, ['kiro', '--local', '--command', 'x']).code).not.toBe(0);
  });

  it('unknown client, bad options and --help', () => {
    const home = newHome();
    const r = setup(home, ['vim']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('unknown client "vim"; choose one of: claude, codex, gemini, opencode, kiro');
    expect(setup(home, []).code).not.toBe(0);
    expect(setup(home, ['codex', '--bogus']).code).not.toBe(0);
    expect(setup(home, ['codex', '--name', 'a b']).code).not.toBe(0);
    expect(setup(home, ['codex', '--timeout', 'soon']).code).not.toBe(0);
    expect(setup(home, ['codex', '--command', '"unterminated']).code).not.toBe(0);
    expect(readdirSync(home)).toEqual([]);
    const help = setup(home, ['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('Usage: cao-mcp setup <client>');
    expect(help.stdout).toContain('--print');
    expect(help.stdout).toContain('--local');
  });
});
