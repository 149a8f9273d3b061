import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { kimiCliProvider as p } from '../src/providers/kimi-cli.js';
import { snapshotFromText } from '../src/screen/snapshot.js';
import { renderRaw } from '../src/screen/screen.js';
import type { LaunchContext } from '../src/providers/types.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const fixtures = path.join(repoRoot, 'tests', 'fixtures');
if (!existsSync(path.join(fixtures, 'cao', 'kimi_code_tui_idle_raw.txt'))) {
  throw new Error(`captured screens missing under ${fixtures}: they are part of the repository (tests/fixtures/README.md)`);
}
const raw = (state: string) => readFileSync(path.join(fixtures, 'cao', `kimi_code_tui_${state}_raw.txt`), 'utf8');

// --- Synthetic screens laid out like the rendered Kimi captures (120 columns) ---
const W = 120;
const inputArea = (draft = '') => [
  '── input ' + '─'.repeat(W - 9),
  draft,
  '',
  '',
  '',
  '',
  '─'.repeat(W),
  'yolo  agent (Kimi-k2.6 ●)  /tmp/kimi_probe  @: mention files | ctrl-x: toggle mode',
  ' '.repeat(92) + 'context: 4.6% (12.1k/262.1k)',
];
const panel = (title: string, rows: string[]) => [
  `╭─ ${title} ` + '─'.repeat(W - title.length - 5) + '╮',
  ...rows.map((r) => '│ ' + r.padEnd(W - 4) + ' │'),
  '╰' + '─'.repeat(W - 2) + '╯',
];
/** The approval panel as kimi-cli's ApprovalRequestPanel renders it (source: ui/shell/visualize/_approval_panel.py). */
const approval = panel('approval', [
  'Shell is requesting approval to run command:',
  '',
  'rm -rf build',
  '',
  '→ [1] Approve once',
  '  [2] Approve for this session',
  '  [3] Reject',
  '  [4] Reject, tell the model what to do instead',
  '',
  '  ▲/▼ select  1/2/3/4 choose  ↵ confirm',
]);
const screen = (rows: string[]) => snapshotFromText(rows.join('\n'), W);

describe('kimi_cli: raw captures from the reference project (Kimi Code CLI TUI), rendered by the emulator', () => {
  // the captures' welcome box is 120 columns wide; heights are unknown, so try a few
  for (const rows of [30, 40, 50]) {
    it(`idle at 120x${rows}: input area, no bullet → idle`, async () => {
      const s = await renderRaw(raw('idle'), 120, rows);
      expect(p.detect(s)).toBe('idle');
      expect(p.extractLastAnswer(s)).toBeNull();
      expect(p.pendingQuestion(s)).toBeNull();
      expect(p.startupDialogs.some((d) => d.match(s))).toBe(false);
    });
    it(`processing at 120x${rows}: "⠧ Thinking..." above the input area → processing`, async () => {
      const s = await renderRaw(raw('processing'), 120, rows);
      expect(p.detect(s)).toBe('processing');
      expect(p.extractLastAnswer(s)).toBeNull();
    });
    it(`completed at 120x${rows}: the last bullet is the answer (thinking bullet above it is not)`, async () => {
      const s = await renderRaw(raw('completed'), 120, rows);
      expect(p.detect(s)).toBe('completed');
      expect(p.extractLastAnswer(s)).toBe("def greet(name):\n    return f'Hello, {name}!'");
    });
  }
});

describe('kimi_cli: turns', () => {
  it('a second turn returns only its answer, multi-paragraph, continuation indent removed', () => {
    const s = screen([
      '✨ say ping',
      '',
      '• PONG-1',
      '',
      '✨ explain',
      '',
      '• Thinking about it.',
      '',
      '• First paragraph of the answer',
      '  continues here.',
      '',
      '  - item a',
      '  - item b',
      '',
      ...inputArea(),
    ]);
    expect(p.detect(s)).toBe('completed');
    expect(p.extractLastAnswer(s)).toBe('First paragraph of the answer\ncontinues here.\n\n- item a\n- item b');
  });

  it('a new message taken but nothing of its turn drawn yet: processing, and the previous answer is not returned', () => {
    const s = screen(['✨ say ping', '', '• PONG-1', '', '✨ next one that is long enough to wrap', 'onto a second row', '', ...inputArea()]);
    expect(p.detect(s)).toBe('processing');
    expect(p.extractLastAnswer(s)).toBeNull();
  });

  it('a message followed by something that is not an answer (e.g. a notice) is idle', () => {
    expect(p.detect(screen(['✨ /clear', '', 'Context cleared.', '', ...inputArea()]))).toBe('idle');
  });

  it('a tool spinner after a thinking bullet is processing; boot spinners are not', () => {
    expect(p.detect(screen(['✨ do it', '', '• Let me check.', '', '⠋ Using Shell (ls)', '', ...inputArea()]))).toBe('processing');
    expect(p.detect(screen(['⠧ MCP Servers: 0/1 connected', '', ...inputArea()]))).toBe('idle');
  });

  it('typed text in the input area does not change the status', () => {
    expect(p.detect(screen(['✨ say ping', '', '• PONG-1', '', ...inputArea('draft not sent')]))).toBe('completed');
  });

  it('a turn that ended with an error line is error', () => {
    const s = screen(['✨ say ping', '', 'Error: LLM provider error: connection refused', '', ...inputArea()]);
    expect(p.detect(s)).toBe('error');
  });

  it('no input area (starting up) says nothing', () => {
    expect(p.detect(screen(['⠋ Loading configuration...']))).toBe('unknown');
  });
});

describe('kimi_cli: approval panel (layout from kimi-cli source; not seen live here)', () => {
  const waiting = screen(['✨ clean up', '', '• I will remove the build dir.', '', ...approval, ...inputArea()]);

  it('an open approval panel → waiting_user_answer, with its question', () => {
    expect(p.detect(waiting)).toBe('waiting_user_answer');
    const q = p.pendingQuestion(waiting)!;
    expect(q).toContain('Shell is requesting approval to run command:');
    expect(q).toContain('→ [1] Approve once');
    expect(q).not.toMatch(/[│╭╰]/u);
  });

  it('answers are the option digit (Kimi picks and submits on it); anything else types nothing', () => {
    expect(p.answerKeys!('1', waiting)).toEqual(['1']);
    expect(p.answerKeys!('approve for this session', waiting)).toEqual(['2']);
    expect(p.answerKeys!('yes', waiting)).toEqual(['1']);
    expect(p.answerKeys!('no', waiting)).toEqual(['3']);
    expect(p.answerKeys!('something else entirely', waiting)).toEqual([]);
  });

  it('a panel followed by more conversation is stale, not waiting', () => {
    const s = screen(['✨ clean up', '', ...approval, '', '• Removed.', '', ...inputArea()]);
    expect(p.detect(s)).toBe('completed');
    expect(p.pendingQuestion(s)).toBeNull();
    expect(p.extractLastAnswer(s)).toBe('Removed.');
  });
});

describe('kimi_cli: startup', () => {
  const upgrade = screen([
    '╭─ kimi-cli update available ─╮',
    '│  1.47.0 is out               │',
    '╰──────────────────────────────╯',
    '─'.repeat(W),
    '  [Enter]  Upgrade now  (uv tool upgrade kimi-cli)',
    '  [q]      Not now, remind me next time',
    '  [s]      Skip reminders for version 1.47.0',
    '─'.repeat(W),
  ]);

  it('the upgrade reminder blocks before the REPL: a known startup dialog answered with "s"', () => {
    const d = p.startupDialogs.find((x) => x.match(upgrade));
    expect(d?.id).toBe('kimi-upgrade-reminder');
    expect(d?.keys).toEqual(['s']);
    expect(p.detect(upgrade)).toBe('waiting_user_answer');
    expect(p.pendingQuestion(upgrade)).toContain('Skip reminders for version 1.47.0');
  });

  it('lingering upgrade text above a ready input area is not a dialog', () => {
    const s = screen(['  [s]      Skip reminders for version 1.47.0', '', ...inputArea()]);
    expect(p.startupDialogs.some((d) => d.match(s))).toBe(false);
    expect(p.detect(s)).toBe('idle');
  });
});

describe('kimi_cli: launch', () => {
  let tmp: string;
  let home: string;
  const prompt = 'You are the "analyst".\nUse ${KIMI_WORK_DIR} as is: 50% of $HOME.';
  const ctx = (over: Partial<LaunchContext> = {}): LaunchContext => ({
    terminalId: 'term-k1',
    workingDirectory: path.join(tmp, 'work'),
    profileName: 'analyst',
    systemPrompt: prompt,
    mcp: { name: 'cao', command: '/usr/bin/node', args: ['/opt/cao/dist/cli/main.js'], env: { CAO_TERMINAL_ID: 'term-k1', CAO_HUB_TOKEN: 'tok-k' } },
    runtimeDir: path.join(tmp, 'run', 'term-k1'),
    env: { HOME: home, PATH: '/usr/bin:/bin', TERM: 'tmux-256color' },
    toolTimeoutSec: 600,
    ...over,
  });
  beforeAll(() => {
    tmp = mkdtempSync(path.join(tmpdir(), 'cao-kimi-test-'));
    home = path.join(tmp, 'home');
    mkdirSync(home);
    mkdirSync(path.join(tmp, 'work'));
  });
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  it('runs kimi --yolo with an agent file that extends the default agent and appends the profile', () => {
    const spec = p.launch(ctx({ env: { HOME: home, CAO_KIMI_BIN: '/opt/bin/kimi', TERM: 'tmux-256color' } })) as {
      command: string;
      args: string[];
      env: Record<string, string>;
      cwd: string;
    };
    expect(spec.command).toBe('/opt/bin/kimi');
    expect(spec.args[0]).toBe('--yolo');
    expect(spec.env.TERM).toBe('xterm-256color');
    expect(spec.cwd).toBe(path.join(tmp, 'work'));
    const agentFile = spec.args[spec.args.indexOf('--agent-file') + 1];
    expect(statSync(agentFile).mode & 0o777).toBe(0o600);
    const agent = parseYaml(readFileSync(agentFile, 'utf8'));
    expect(agent).toEqual({ version: 1, agent: { extend: 'default', system_prompt_args: { ROLE_ADDITIONAL: prompt } } });
  });

  it('gives our MCP server in a config file, after the user global mcp.json (which a file option would otherwise hide)', () => {
    const first = p.launch(ctx()) as { args: string[] };
    expect(first.args.filter((a) => a === '--mcp-config-file')).toHaveLength(1);
    const mcpFile = first.args[first.args.indexOf('--mcp-config-file') + 1];
    expect(JSON.parse(readFileSync(mcpFile, 'utf8'))).toEqual({
      mcpServers: {
        cao: { command: '/usr/bin/node', args: ['/opt/cao/dist/cli/main.js'], env: { CAO_TERMINAL_ID: 'term-k1', CAO_HUB_TOKEN: 'tok-k' } },
      },
    });
    mkdirSync(path.join(home, '.kimi'), { recursive: true });
    writeFileSync(path.join(home, '.kimi', 'mcp.json'), '{"mcpServers":{}}');
    const second = p.launch(ctx({ model: 'kimi-k2' })) as { args: string[] };
    const files = second.args.flatMap((a, i) => (a === '--mcp-config-file' ? [second.args[i + 1]] : []));
    expect(files).toEqual([path.join(home, '.kimi', 'mcp.json'), mcpFile]);
    expect(second.args.slice(-2)).toEqual(['--model', 'kimi-k2']);
  });

  it('no profile text: the built-in default agent, no agent file', () => {
    const spec = p.launch(ctx({ systemPrompt: '', runtimeDir: path.join(tmp, 'run', 'k2') })) as { args: string[] };
    expect(spec.args).not.toContain('--agent-file');
  });

  it('quits with /exit after clearing any draft', () => {
    expect(p.exit.keys).toEqual(['\x15', '/exit', '\r']);
  });
});
