/** The pieces of the mock agent's screen, in the style of Claude Code (see fixtures/real/claude-*.txt). */
import type { LiveRegion } from './renderer.js';
import { SGR_DIM, SGR_RESET, displayWidth, hardWrap, printable, truncate } from './text.js';

export const SPINNER_GLYPHS = ['·', '✢', '✶', '✻', '✽', '*'];
export const VERBS = ['Thinking', 'Pondering', 'Brewing', 'Crunching', 'Noodling', 'Musing', 'Cogitating', 'Working'];

export const FOOTER_IDLE = '  ? for shortcuts';
export const FOOTER_BUSY = '  esc to interrupt';
export const FOOTER_CONFIRM_EXIT = '  Press Ctrl-C again to exit';
export const FOOTER_DIALOG = ' Enter to confirm · Esc to cancel';

export function rule(cols: number): string {
  return '─'.repeat(cols);
}

export interface BannerInfo {
  model?: string;
  cwd: string;
  name?: string;
  systemPrompt?: string;
}

export function banner(b: BannerInfo, cols: number): string[] {
  const lines = [` ✻ Mock Agent v1${b.name ? ` · ${printable(b.name)}` : ''}`, `   model: ${b.model || 'default'} · ${b.cwd}`];
  if (b.systemPrompt !== undefined) {
    const first = printable(b.systemPrompt.replace(/\s+/g, ' ').trim()).slice(0, 60);
    lines.push(truncate(`${SGR_DIM}   system prompt: ${first}${SGR_RESET}`, cols + SGR_DIM.length + SGR_RESET.length));
  }
  return [...lines, ''];
}

/** `❯ first line`, further lines indented two spaces (static: the terminal wraps long lines). */
export function echoBlock(input: string): string[] {
  return [
    '',
    ...printable(input)
      .split('\n')
      .map((l, i) => (i === 0 ? `❯ ${l}` : `  ${l}`)),
  ];
}

/** Answer lines: `● ` on the first, two spaces on the rest. */
export function answerLine(text: string, index: number): string {
  return `${index === 0 ? '● ' : '  '}${printable(text)}`;
}

export function toolHeader(server: string, tool: string, args: Record<string, unknown>, cols: number): string {
  const shown = Object.entries(args)
    .map(([k, v]) => `${k}: ${JSON.stringify(v)}`)
    .join(', ');
  return truncate(printable(`● ${server} - ${tool} (MCP)${shown ? `(${shown})` : ''}`), cols);
}

export function toolResultLines(text: string, isError: boolean, cols: number): string[] {
  const lines = printable(text).split('\n');
  while (lines.length > 1 && lines[lines.length - 1].trim() === '') lines.pop();
  const first = `  ⎿  ${isError ? 'Error: ' : ''}${lines[0]}`;
  const out = [truncate(first, cols)];
  if (lines.length > 1) out.push(`     … +${lines.length - 1} lines`);
  return out;
}

export function spinnerLine(frame: number, verb: string, elapsedMs: number): string {
  return `${SPINNER_GLYPHS[frame % SPINNER_GLYPHS.length]} ${verb}… (${Math.floor(elapsedMs / 1000)}s)`;
}

/**
 * The input box: rule, `❯ ` + what is typed (wrapped by the mock itself, so the live region's height is known),
 * rule. At most `maxRows` rows of the input are shown (the last ones, where the caret is).
 */
export function inputBox(input: string, cols: number, maxRows: number): LiveRegion {
  const width = Math.max(1, cols - 2);
  const rows: string[] = [];
  printable(input.replace(/\r/g, '\n'))
    .split('\n')
    .forEach((line, i) => {
      hardWrap(line, width).forEach((piece, j) => rows.push(`${i === 0 && j === 0 ? '❯' : ' '} ${piece}`));
    });
  // the caret sits after the last character; a full last row pushes it onto a new row
  let caretCol = displayWidth(rows[rows.length - 1]);
  if (caretCol >= cols) {
    rows.push('  ');
    caretCol = 2;
  }
  const shown = rows.slice(-Math.max(1, maxRows));
  return { lines: [rule(cols), ...shown, rule(cols)], caret: { line: shown.length, col: caretCol } };
}

export interface DialogView {
  text: string;
  options: string[];
  selected: number;
}

export function dialog(d: DialogView, cols: number): string[] {
  return [
    '',
    rule(cols),
    ...printable(d.text)
      .split('\n')
      .map((l) => ` ${l}`),
    '',
    ...d.options.map((o, i) => `${i === d.selected ? ' ❯' : '  '} ${i + 1}. ${printable(o)}`),
    '',
    FOOTER_DIALOG,
  ];
}
