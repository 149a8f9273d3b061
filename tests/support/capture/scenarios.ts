import type { FakeScript } from '../fake-model/index.js';
import type { AnyCli } from '../real-clis/index.js';

/**
 * What the capture tool waits for on each CLI's rendered screen. Deliberately not the providers' detectors:
 * a capture is the reference those detectors are tested against, so it must not be taken by them.
 */
export interface CliMarkers {
  /** Ready for input: the prompt is drawn (checked on the visible rows, with no busy footer). */
  ready: RegExp;
  /** The scripted answer as this CLI prints it. */
  answer: (text: string) => RegExp;
  /** Drawn once a turn has finished. */
  finished: RegExp;
  /** A question dialog from the `question` scenario is on screen. */
  dialog?: RegExp;
  /** Also on the busy screen before it is taken, where the CLI still draws something early in the turn. */
  busySettled?: RegExp;
  /** This CLI's busy footer, where it says none of BUSY's phrases (default BUSY). */
  busy?: RegExp;
  /** Flags after the binary: the ones cao-mcp's provider launches it with that change the screen (default none). */
  args?: string[];
  /** Terminal size where the provider's tests read the screens at another size than 200x50. */
  size?: { cols: number; rows: number };
  /**
   * A notice this CLI shows at start-up, before its prompt, on every run of the capture's launch: the standard
   * scenario takes it as state `state` (first), then both scenarios press `keys` to get past it.
   */
  startup?: { state: string; marker: RegExp; keys: string };
  startupMs: number;
}

/** While busy every CLI's footer says one of these; when not busy none does (see REAL-CLIS notes in the README). */
export const BUSY = /esc to interrupt|esc interrupt|esc to cancel/;

const DIALOG = /Which colour should the button be\?[\s\S]*Blue/;

export const MARKERS: Record<AnyCli, CliMarkers> = {
  claude: {
    ready: /^❯\s*$[\s\S]*\? for shortcuts/m,
    answer: (a) => new RegExp(`^● ${a}$`, 'm'),
    finished: /^✻ \S+ for \d+s/m,
    dialog: DIALOG,
    startupMs: 60_000,
  },
  codex: {
    ready: /› Ask Codex to do anything/,
    answer: (a) => new RegExp(`^• ${a}$`, 'm'),
    finished: /Worked for .*\d+s/,
    startupMs: 60_000,
  },
  gemini: {
    // Gemini CLI can draw its prompt a second or more before its banner
    ready: /Gemini CLI v[\d.]+[\s\S]*Type your message or @path\/to\/file/,
    answer: (a) => new RegExp(`^✦ ${a}$`, 'm'),
    finished: /Type your message or @path\/to\/file/,
    dialog: DIALOG,
    startupMs: 60_000,
  },
  opencode: {
    ready: /Ask anything|Build · Fake Model/,
    // at 200 columns OpenCode's sidebar shares the answer's row
    answer: (a) => new RegExp(`^ +${a}(?: {2,}|$)`, 'm'),
    finished: /▣ {2}\S+ · Fake Model · [\d.]+m?s/,
    dialog: DIALOG,
    // the session title from the title side call (else "New session - <date and time>")
    busySettled: /Fake title/,
    startupMs: 120_000,
  },
  qwen: {
    // the footer's mode row: "YOLO mode (shift + tab to cycle)" alone when idle ("Enter to steer · …" before it while busy)
    ready: /Type your message or @path\/to\/file[\s\S]*^ {2}YOLO mode \(shift \+ tab to cycle\)$/m,
    answer: (a) => new RegExp(`^ {2}◆\uFE0E? ${a}$`, 'm'),
    finished: /^ {2}YOLO mode \(shift \+ tab to cycle\)$/m,
    dialog: DIALOG,
    args: ['--yolo'],
    startupMs: 90_000,
  },
  copilot: {
    ready: /^❯\s*$[\s\S]*^ ← open sidebar · Interactive/m,
    answer: (a) => new RegExp(`^ ● ${a}$`, 'm'),
    finished: /^ ← open sidebar · Interactive/m,
    dialog: /Which colour should the button be\?[\s\S]*Blue[\s\S]*enter accept/,
    // "◉ Working esc esc edit prompt" in the footer row
    busy: /^ \S Working\b.*\besc\b/m,
    args: ['--yolo'],
    startupMs: 120_000,
  },
  kilo: {
    ready: /Ask anything|Code {2}auto · Fake Model/,
    answer: (a) => new RegExp(`^ +${a}(?: {2,}|$)`, 'm'),
    finished: /▣ {2}\S+ · Fake Model · [\d.]+m?s/,
    dialog: /Which colour should the button be\?[\s\S]*Blue[\s\S]*enter submit/,
    busy: /esc interrupt/,
    args: ['--auto'],
    size: { cols: 200, rows: 60 },
    startupMs: 120_000,
  },
  droid: {
    ready: /^ Auto \(High\) · allow all commands[\s\S]*^│ > /m,
    answer: (a) => new RegExp(`^⛬ {2}${a}$`, 'm'),
    finished: /^ Auto \(High\) · allow all commands/m,
    dialog: /Which colour should the button be\?[\s\S]*Blue[\s\S]*Navigate/,
    busy: /Press ESC to stop|Enter to steer/,
    args: ['--auto', 'high'],
    // shown on a fresh HOME although the seed lists the folder in trustedFolders; option 1 is selected
    startup: { state: 'trust', marker: /Trust this folder\?[\s\S]*1\. Trust this folder[\s\S]*Enter to confirm/, keys: '\r' },
    startupMs: 120_000,
  },
  pi: {
    // the footer: the context gauge, then the model at the right edge
    ready: /%\/128k \(auto\) +fake-model$/m,
    answer: (a) => new RegExp(`^ ${a}$`, 'm'),
    // token counts in the footer once a turn was answered
    finished: /^↑\d+ ↓\d+ /m,
    busy: /^ \S Working\.\.\.$/m,
    startupMs: 60_000,
  },
};

/** The busy footer of `cli`. */
export const busyOf = (cli: AnyCli): RegExp => MARKERS[cli].busy ?? BUSY;

export const ANSWER = 'PONG-123';
export const PROMPT = 'say ping';
export const QUESTION_PROMPT = 'please ask me';

type QuestionCall = { name: string; arguments: Record<string, unknown> };

/**
 * A call of a `questions`-list tool (the shape Claude Code, Gemini CLI, OpenCode, Qwen Code and Kilo Code share):
 * one question, "Which colour should the button be?", Red or Blue; `extra` holds the fields a CLI's schema adds
 * (they go before `options`).
 */
const colourQuestion = (name: string, extra: Record<string, unknown> = {}): QuestionCall => ({
  name,
  arguments: {
    questions: [
      {
        question: 'Which colour should the button be?',
        header: 'Colour',
        ...extra,
        options: [
          { label: 'Red', description: 'warm' },
          { label: 'Blue', description: 'cool' },
        ],
      },
    ],
  },
});

/** The question tool call each CLI's model can make that opens a dialog (as in tests/real/*.test.ts). */
const QUESTION_CALLS: Partial<Record<AnyCli, QuestionCall>> = {
  claude: colourQuestion('AskUserQuestion', { multiSelect: false }),
  gemini: colourQuestion('ask_user', { type: 'choice' }),
  opencode: colourQuestion('question'),
  qwen: colourQuestion('ask_user_question', { multiSelect: false }),
  copilot: {
    name: 'ask_user',
    arguments: {
      message: 'Which colour should the button be?',
      requestedSchema: { properties: { colour: { type: 'string', title: 'Colour', enum: ['Red', 'Blue'] } }, required: ['colour'] },
    },
  },
  kilo: colourQuestion('question'),
  droid: {
    name: 'AskUser',
    arguments: { questionnaire: '1. [question] Which colour should the button be?\n[topic] Colour\n[option] Red\n[option] Blue' },
  },
  // pi has no question tool
};

export type ScenarioId = 'standard' | 'question';

export interface Scenario {
  id: ScenarioId;
  description: string;
  /** The states captured, in order; each becomes `<cli>-<state>.txt` and `.ansi.txt`. */
  states: string[];
  script: FakeScript;
}

/** The scenarios a CLI has (`question` only where its model can open a dialog under the capture's launch). */
export function scenariosFor(cli: AnyCli): Scenario[] {
  const out: Scenario[] = [
    {
      id: 'standard',
      description: `fresh start to ready; "${PROMPT}" typed, not sent; sent; busy; the scripted answer ${ANSWER} shown; ready again`,
      states: [...(MARKERS[cli].startup ? [MARKERS[cli].startup.state] : []), 'idle', 'typed', 'processing', 'answered', 'idle-after'],
      // a long delay before the answer so the busy screen is seen settled; streamed like a model would
      script: { turns: [{ match: 'ping', text: ANSWER, delayMs: 4000, chunks: 3, chunkIntervalMs: 80 }] },
    },
  ];
  const call = QUESTION_CALLS[cli];
  if (call) {
    out.push({
      id: 'question',
      description: `"${QUESTION_PROMPT}" sent; the model calls ${call.name}, a question dialog (Red / Blue) waits for the user`,
      states: ['question'],
      script: { turns: [{ match: 'ask me', toolCall: call, afterTool: 'ANSWERED' }] },
    });
  }
  return out;
}
