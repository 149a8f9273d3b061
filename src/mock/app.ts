/**
 * The mock agent's behaviour: startup (terminal query, optional trust dialog, banner), the input line,
 * scripted turns (thinking, question dialog, MCP tool calls, streamed answer, pauses, crash), interrupts and exit.
 */
import type { KeyEvent } from './keys.js';
import type { McpClients } from './mcp.js';
import type { Recorder } from './record.js';
import type { LiveRegion, Renderer } from './renderer.js';
import { DEFAULT_ANSWER, RuleBook, fillDeep, fillTemplate, type MockScript, type MockTurn, type TemplateVars } from './script.js';
import { runEdits } from './edits.js';
import { truncate } from './text.js';
import { Interrupted, abortable, sleep, splitChunks } from './turn-timing.js';
import {
  FOOTER_BUSY,
  FOOTER_CONFIRM_EXIT,
  FOOTER_IDLE,
  VERBS,
  answerLine,
  banner,
  dialog,
  echoBlock,
  inputBox,
  spinnerLine,
  toolHeader,
  toolResultLines,
  type BannerInfo,
} from './view.js';

const EXIT_COMMANDS = new Set(['/exit', '/quit']);

interface Dialog {
  text: string;
  options: string[];
  selected: number;
  resolve(choice: number | null): void;
}

interface Turn {
  verb: string;
  startedAt: number;
  /** Lines of the block being built (streamed answer line, running tool call), drawn in the live region. */
  pending: string[];
  abort: AbortController;
}

export interface AppDeps {
  script: MockScript;
  renderer: Renderer;
  recorder: Recorder;
  mcp: McpClients;
  banner: BannerInfo;
  /** Terminal rows (to keep the live region shorter than the screen). */
  rows(): number;
  /** Raw writes (terminal modes and queries). */
  writeRaw(data: string): void;
  /** Ends the process. */
  exitProcess(code: number): never;
}

export class MockApp {
  private phase: 'starting' | 'idle' | 'busy' | 'exiting' = 'starting';
  private input = '';
  private readonly queue: string[] = [];
  private dialogState?: Dialog;
  private turn?: Turn;
  private turnNo = 0;
  private frame = 0;
  private spinner?: NodeJS.Timeout;
  private ctrlCArmed?: NodeJS.Timeout;
  private terminalReplied = false;
  private onTerminalReply?: () => void;
  private readonly rules: RuleBook;

  constructor(private readonly d: AppDeps) {
    this.rules = new RuleBook(d.script);
  }

  // ---- startup -------------------------------------------------------------------------------------

  async start(): Promise<void> {
    const { startup } = this.d.script;
    this.d.recorder.record('start', { cwd: this.d.banner.cwd, name: this.d.banner.name, model: this.d.banner.model });
    // bracketed paste on, then ask where the cursor is (a real terminal, or a host that emulates one, answers)
    this.d.writeRaw('\x1b[?2004h\x1b[6n');
    await this.terminalReply(startup.requireTerminalReply ? undefined : 200);
    if (startup.delayMs) await sleep(startup.delayMs);
    if (startup.dialog) {
      const choice = await this.ask(startup.dialog.text, startup.dialog.options);
      this.d.recorder.record('choice', { dialog: 'startup', choice: choice === null ? null : choice + 1 });
      if (choice === null || choice === startup.dialog.options.length - 1) return this.exit(1, 'startup dialog declined');
    }
    this.phase = 'idle';
    await this.draw(banner(this.d.banner, this.d.renderer.width));
    this.d.recorder.record('ready');
  }

  private terminalReply(timeoutMs?: number): Promise<void> {
    if (this.terminalReplied) return Promise.resolve();
    return new Promise((resolve) => {
      const t = timeoutMs === undefined ? undefined : setTimeout(resolve, timeoutMs);
      this.onTerminalReply = () => {
        if (t) clearTimeout(t);
        resolve();
      };
    });
  }

  // ---- drawing -------------------------------------------------------------------------------------

  private live(): LiveRegion {
    const cols = this.d.renderer.width;
    if (this.dialogState) return { lines: dialog(this.dialogState, cols) };
    if (this.phase === 'starting' || this.phase === 'exiting') return { lines: [] };
    const top: string[] = [];
    if (this.phase === 'busy' && this.turn) {
      top.push(...this.turn.pending, '', spinnerLine(this.frame, this.turn.verb, Date.now() - this.turn.startedAt));
    }
    top.push('');
    const box = inputBox(this.input, cols, Math.max(3, this.d.rows() - 14));
    const footer = this.phase === 'busy' ? FOOTER_BUSY : this.ctrlCArmed ? FOOTER_CONFIRM_EXIT : FOOTER_IDLE;
    return {
      lines: [...top, ...box.lines, footer],
      caret: box.caret && { line: box.caret.line + top.length, col: box.caret.col },
    };
  }

  private draw(staticLines: string[] = []): Promise<void> {
    return this.d.renderer.frame(staticLines, this.live());
  }

  /** The terminal was resized: repaint everything at the new width. */
  resized(cols: number): Promise<void> {
    this.d.renderer.setWidth(cols);
    return this.d.renderer.repaint(this.live());
  }

  private startSpinner(): void {
    this.stopSpinner();
    this.spinner = setInterval(() => {
      this.frame++;
      if (!this.dialogState) void this.draw();
    }, this.d.script.spinnerIntervalMs);
  }

  private stopSpinner(): void {
    if (this.spinner) clearInterval(this.spinner);
    this.spinner = undefined;
  }

  // ---- input ---------------------------------------------------------------------------------------

  onKey(e: KeyEvent): void {
    if (e.type === 'cursor-report') {
      if (!this.terminalReplied) this.d.recorder.record('terminal_reply', { row: e.row, col: e.col });
      this.terminalReplied = true;
      this.onTerminalReply?.();
      this.onTerminalReply = undefined;
      return;
    }
    if (this.phase === 'exiting') return;
    if (this.dialogState) return this.dialogKey(e);
    if (e.type === 'text') {
      this.input += e.text;
      void this.draw();
      return;
    }
    switch (e.name) {
      case 'enter':
        return this.submit();
      case 'backspace':
        this.input = [...this.input].slice(0, -1).join('');
        void this.draw();
        return;
      case 'ctrl-u':
        this.input = '';
        void this.draw();
        return;
      case 'escape':
        if (this.phase === 'busy') this.interrupt();
        return;
      case 'ctrl-c':
        return this.ctrlC();
      case 'ctrl-d':
        if (this.phase === 'idle' && !this.input) void this.exit(0, 'ctrl-d');
        return;
      default:
        return;
    }
  }

  private ctrlC(): void {
    if (this.phase === 'busy') return this.interrupt();
    if (this.ctrlCArmed) {
      void this.exit(0, 'ctrl-c twice');
      return;
    }
    this.input = '';
    this.ctrlCArmed = setTimeout(() => {
      this.ctrlCArmed = undefined;
      if (this.phase === 'idle' && !this.dialogState) void this.draw();
    }, 1000);
    void this.draw();
  }

  private submit(): void {
    const text = this.input;
    if (text.trim() === '') return;
    if (this.phase === 'starting') {
      // not ready yet: the Enter is lost, the text stays in the box (as a real CLI may do)
      this.d.recorder.record('ignored_input', { text, reason: 'not ready' });
      return;
    }
    this.input = '';
    this.d.recorder.record('input', { text, queued: this.phase === 'busy' });
    if (EXIT_COMMANDS.has(text.trim())) {
      void this.exit(0, text.trim());
      return;
    }
    if (this.phase === 'busy') {
      this.queue.push(text); // like Claude Code: typed while busy = sent after this turn
      void this.draw();
      return;
    }
    void this.runTurn(text);
  }

  private dialogKey(e: KeyEvent): void {
    const dlg = this.dialogState!;
    if (e.type === 'text') {
      const n = Number(e.text);
      if (/^[1-9]$/.test(e.text) && n <= dlg.options.length) return this.choose(n - 1);
      this.d.recorder.record('ignored_input', { text: e.text, reason: 'dialog open' });
      return;
    }
    if (e.type !== 'key') return;
    switch (e.name) {
      case 'up':
        dlg.selected = (dlg.selected + dlg.options.length - 1) % dlg.options.length;
        void this.draw();
        return;
      case 'down':
        dlg.selected = (dlg.selected + 1) % dlg.options.length;
        void this.draw();
        return;
      case 'enter':
        return this.choose(dlg.selected);
      case 'escape':
      case 'ctrl-c':
        return this.choose(null);
      default:
        this.d.recorder.record('ignored_input', { key: e.name, reason: 'dialog open' });
    }
  }

  private choose(choice: number | null): void {
    const dlg = this.dialogState;
    if (!dlg) return;
    this.dialogState = undefined;
    dlg.resolve(choice);
  }

  /** Shows a dialog in place of the input box until an option is chosen (index) or it is cancelled (null). */
  private ask(text: string, options: string[]): Promise<number | null> {
    return new Promise((resolve) => {
      this.dialogState = { text, options, selected: 0, resolve };
      void this.draw();
    });
  }

  private interrupt(): void {
    this.turn?.abort.abort();
  }

  // ---- turns ---------------------------------------------------------------------------------------

  private async runTurn(text: string): Promise<void> {
    this.turnNo++;
    const rule = this.rules.pick(text);
    const turn: Turn = {
      verb: VERBS[(this.turnNo - 1) % VERBS.length],
      startedAt: Date.now(),
      pending: [],
      abort: new AbortController(),
    };
    this.turn = turn;
    this.phase = 'busy';
    this.startSpinner();
    const vars: TemplateVars = {
      input: text,
      result: '',
      choice: '',
      choiceText: '',
      turn: String(this.turnNo),
      name: this.d.banner.name ?? '',
      model: this.d.banner.model ?? '',
    };
    let answer: string | null = null;
    let outcome = 'completed';
    try {
      await this.draw(echoBlock(text));
      await sleep(rule.delayMs, turn.abort.signal);
      if (rule.crash) return await this.crash(rule.crash, vars);
      let template = rule.answer ?? DEFAULT_ANSWER;
      if (rule.question) {
        const q = rule.question;
        const choice = await abortable(this.ask(q.text, q.options), turn.abort.signal);
        if (choice === null) throw new Interrupted();
        vars.choice = String(choice + 1);
        vars.choiceText = q.options[choice];
        template = q.answers?.[vars.choice] ?? template;
        this.d.recorder.record('choice', { turn: this.turnNo, question: q.text, choice: choice + 1, option: q.options[choice] });
        const summary = `  ⎿  ${q.text.split('\n')[0]} · ${choice + 1}. ${q.options[choice]}`;
        await this.draw([truncate(summary, this.d.renderer.width)]);
      }
      for (const tc of rule.toolCalls) await this.toolCall(tc, vars, turn);
      for (const c of runEdits(rule, vars)) this.d.recorder.record('command', { turn: this.turnNo, ...c });
      answer = fillTemplate(template, vars).replace(/\s+$/u, '');
      await this.streamAnswer(answer, rule, turn);
    } catch (e) {
      if (!(e instanceof Interrupted)) throw e;
      outcome = 'interrupted';
      this.dialogState = undefined;
      // what was streamed stays; the unfinished line is kept as it was drawn
      await this.draw([...turn.pending, '  ⎿  Interrupted']);
      turn.pending = [];
    }
    await this.finishTurn(turn, outcome, answer);
  }

  private async finishTurn(turn: Turn, outcome: string, answer: string | null): Promise<void> {
    this.stopSpinner();
    this.turn = undefined;
    this.phase = 'idle';
    const secs = Math.max(1, Math.round((Date.now() - turn.startedAt) / 1000));
    await this.draw(outcome === 'completed' ? ['', `✻ Worked for ${secs}s`] : []);
    this.d.recorder.record(outcome === 'completed' ? 'final_frame' : 'interrupted', { turn: this.turnNo, answer });
    const next = this.queue.shift();
    if (next !== undefined) void this.runTurn(next);
  }

  private async toolCall(tc: MockTurn['toolCalls'][number], vars: TemplateVars, turn: Turn): Promise<void> {
    const args = fillDeep(tc.arguments, vars) as Record<string, unknown>;
    const header = toolHeader(tc.server, tc.tool, args, this.d.renderer.width);
    turn.pending = ['', header, '  ⎿  Running…'];
    await this.draw();
    const res = await abortable(this.d.mcp.call(tc.server, tc.tool, args), turn.abort.signal);
    turn.pending = [];
    vars.result = res.text;
    this.d.recorder.record('tool_result', { turn: this.turnNo, server: tc.server, tool: tc.tool, text: res.text, isError: res.isError });
    await this.draw(['', header, ...toolResultLines(res.text, res.isError, this.d.renderer.width)]);
  }

  /** Draws the answer: whole lines go to the static area as they complete, the unfinished one stays live. */
  private async streamAnswer(answer: string, rule: MockTurn, turn: Turn): Promise<void> {
    if (answer === '') return;
    const pieces = rule.stream ? splitChunks(answer, rule.stream.chunks) : [answer];
    let shown = '';
    let committed = 0;
    for (const [i, piece] of pieces.entries()) {
      if (i > 0 && rule.stream) await sleep(rule.stream.intervalMs, turn.abort.signal);
      shown += piece;
      const last = i === pieces.length - 1;
      const lines = shown.split('\n');
      const done = last ? lines : lines.slice(0, -1);
      const out: string[] = [];
      for (let k = committed; k < done.length; k++) {
        if (k === 0) out.push('');
        out.push(answerLine(done[k], k));
      }
      committed = done.length;
      const partial = lines[lines.length - 1];
      turn.pending = last ? [] : committed === 0 ? ['', answerLine(partial, 0)] : partial ? [answerLine(partial, committed)] : [];
      await this.draw(out);
      for (const p of rule.pauses) if (p.afterChunk === i + 1) await sleep(p.ms, turn.abort.signal);
    }
  }

  private async crash(c: NonNullable<MockTurn['crash']>, vars: TemplateVars): Promise<never> {
    const partial = c.partial === undefined ? '' : fillTemplate(c.partial, vars);
    if (partial) await this.draw(['', ...partial.split('\n').map((l, i) => answerLine(l, i))]);
    await sleep(c.afterMs);
    this.d.recorder.record('crash', { turn: this.turnNo, exitCode: c.exitCode });
    // a crash leaves the screen as it was: no cleanup, no goodbye
    return this.d.exitProcess(c.exitCode);
  }

  async exit(code: number, reason: string): Promise<never> {
    if (this.phase !== 'exiting') {
      this.phase = 'exiting';
      this.stopSpinner();
      if (this.ctrlCArmed) clearTimeout(this.ctrlCArmed);
      this.dialogState = undefined;
      this.d.recorder.record('exit', { code, reason });
      await this.draw();
      this.d.writeRaw('\x1b[?2004l');
      await Promise.race([this.d.mcp.closeAll(), sleep(3000)]);
    }
    return this.d.exitProcess(code);
  }
}
