/**
 * The script that drives the mock agent (tests, demo and benchmarks control it with this).
 *
 * Given as JSON by `--script <file>`, env `CAO_MOCK_SCRIPT` (JSON text) or env `CAO_MOCK_SCRIPT_FILE` (a path),
 * first found wins. No script = every input gets the default answer. Unknown fields are errors.
 *
 * {
 *   "startup": {
 *     "delayMs": 0,                       // silent time before anything is drawn
 *     "requireTerminalReply": false,      // draw nothing until the host answers the ESC[6n cursor query
 *     "dialog": { "text": "Do you trust the files in this folder?", "options": ["Yes, proceed", "No, exit"] }
 *                                         // shown before the banner; the LAST option exits with code 1
 *   },
 *   "spinnerIntervalMs": 100,             // spinner redraw period while busy
 *   "rules": [{
 *     "match": "substring" | "/regex/flags", // optional (absent = matches anything); first rule that hits wins
 *     "answer": "text",                   // templates: {{input}} {{result}} {{choice}} {{choiceText}} {{turn}} {{name}} {{model}}
 *     "delayMs": 500,                     // thinking time (spinner) before anything of the turn is drawn
 *     "question": { "text": "Allow write?", "options": ["Yes", "No"], "answers": { "1": "...", "2": "..." } },
 *                                         // dialog after the delay; the chosen option's answer replaces "answer"
 *     "toolCalls": [{ "server": "cao", "tool": "send_message", "arguments": { "message": "done: {{input}}" } }],
 *                                         // made after the question, before the answer; arguments are templated
 *     "stream": { "chunks": 5, "intervalMs": 100 }, // answer drawn in pieces while still busy
 *     "pauses": [{ "afterChunk": 2, "ms": 1500 }],  // silent pauses mid-answer, still busy
 *     "writes": [{ "path": "notes.txt", "content": "{{input}}\n", "append": false }],
 *                                         // files written (relative to its cwd) after the tool calls; content templated
 *     "commands": [["git", "commit", "-am", "done"]], // argv run (no shell) in its cwd after the writes, in order
 *     "crash": { "afterMs": 200, "exitCode": 3, "partial": "text" },
 *                                         // after the delay: draw `partial` (if any), wait afterMs, exit with exitCode
 *     "repeat": 1                         // how many times the rule may fire (absent = unlimited)
 *   }],
 *   "default": { "answer": "mock answer to: {{input}}" } // a rule without "match"/"repeat", used when none hits
 * }
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';

/** What a turn answers when its rule gives no answer. */
export const DEFAULT_ANSWER = 'mock answer to: {{input}}';

const dialogSchema = z.strictObject({
  text: z.string().min(1),
  options: z.array(z.string().min(1)).min(2).max(9),
});

const questionSchema = z.strictObject({
  text: z.string().min(1),
  options: z.array(z.string().min(1)).min(2).max(9),
  /** Answer per option number ("1", "2"…); an option without one uses the rule's `answer`. */
  answers: z.record(z.string().regex(/^[1-9]$/, 'keys must be option numbers "1".."9"'), z.string()).optional(),
});

const toolCallSchema = z.strictObject({
  server: z.string().min(1).default('cao'),
  tool: z.string().min(1),
  arguments: z.record(z.string(), z.unknown()).default({}),
});

const turnFields = {
  answer: z.string().optional(),
  delayMs: z.number().int().nonnegative().default(0),
  stream: z.strictObject({ chunks: z.number().int().positive(), intervalMs: z.number().int().nonnegative() }).optional(),
  pauses: z.array(z.strictObject({ afterChunk: z.number().int().positive(), ms: z.number().int().nonnegative() })).default([]),
  question: questionSchema.optional(),
  toolCalls: z.array(toolCallSchema).default([]),
  writes: z.array(z.strictObject({ path: z.string().min(1), content: z.string(), append: z.boolean().default(false) })).default([]),
  commands: z.array(z.array(z.string().min(1)).min(1)).default([]),
  crash: z
    .strictObject({
      afterMs: z.number().int().nonnegative().default(0),
      exitCode: z.number().int().min(0).max(255).default(1),
      partial: z.string().optional(),
    })
    .optional(),
};

const ruleSchema = z.strictObject({
  match: z
    .string()
    .min(1)
    .refine((m) => !isRegexLiteral(m) || compiles(m), 'invalid /regex/flags')
    .optional(),
  ...turnFields,
  repeat: z.number().int().positive().optional(),
});

const defaultSchema = z.strictObject(turnFields);

export const scriptSchema = z.strictObject({
  startup: z
    .strictObject({
      delayMs: z.number().int().nonnegative().default(0),
      dialog: dialogSchema.optional(),
      requireTerminalReply: z.boolean().default(false),
    })
    .default({ delayMs: 0, requireTerminalReply: false }),
  spinnerIntervalMs: z.number().int().min(10).default(100),
  rules: z.array(ruleSchema).default([]),
  default: defaultSchema.default({ answer: 'mock answer to: {{input}}', delayMs: 0, pauses: [], toolCalls: [], writes: [], commands: [] }),
});

export type MockScript = z.infer<typeof scriptSchema>;
export type MockRule = z.infer<typeof ruleSchema>;
export type MockTurn = z.infer<typeof defaultSchema>;
export type MockToolCall = z.infer<typeof toolCallSchema>;
export type MockDialog = z.infer<typeof dialogSchema>;

export class ScriptError extends Error {}

function isRegexLiteral(m: string): boolean {
  return /^\/.+\/[a-z]*$/s.test(m);
}

function compiles(m: string): boolean {
  try {
    toRegex(m);
    return true;
  } catch {
    return false;
  }
}

function toRegex(m: string): RegExp {
  const cut = m.lastIndexOf('/');
  return new RegExp(m.slice(1, cut), m.slice(cut + 1));
}

/** True when a rule's `match` hits the submitted input (substring, case-sensitive; or /regex/flags). */
export function matches(match: string | undefined, input: string): boolean {
  if (match === undefined) return true;
  if (isRegexLiteral(match)) return toRegex(match).test(input);
  return input.includes(match);
}

/** Validates a parsed script; throws ScriptError naming every bad field. */
export function parseScript(raw: unknown, origin = 'script'): MockScript {
  const r = scriptSchema.safeParse(raw ?? {});
  if (r.success) return r.data;
  const lines = r.error.issues.map((i) => {
    const where = i.path.length ? i.path.map(String).join('.') : '(top level)';
    return `  ${where}: ${i.message}`;
  });
  throw new ScriptError(`invalid mock script (${origin}):\n${lines.join('\n')}`);
}

/** Reads the script from --script, CAO_MOCK_SCRIPT or CAO_MOCK_SCRIPT_FILE (in that order); none = defaults. */
export function loadScript(scriptPath: string | undefined, env: NodeJS.ProcessEnv = process.env): MockScript {
  let text: string | undefined;
  let origin = 'defaults';
  const file = scriptPath ?? (env.CAO_MOCK_SCRIPT ? undefined : env.CAO_MOCK_SCRIPT_FILE);
  if (file) {
    origin = file;
    try {
      text = readFileSync(file, 'utf8');
    } catch (e) {
      throw new ScriptError(`cannot read mock script ${file}: ${(e as Error).message}`);
    }
  } else if (env.CAO_MOCK_SCRIPT) {
    origin = 'CAO_MOCK_SCRIPT';
    text = env.CAO_MOCK_SCRIPT;
  }
  if (text === undefined) return parseScript({}, origin);
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new ScriptError(`invalid mock script (${origin}): not JSON: ${(e as Error).message}`);
  }
  return parseScript(raw, origin);
}

/** Values the answer and tool-argument templates can use. */
export interface TemplateVars {
  input: string;
  result: string;
  choice: string;
  choiceText: string;
  turn: string;
  name: string;
  model: string;
}

export function fillTemplate(text: string, vars: TemplateVars): string {
  return text.replace(/\{\{(\w+)\}\}/g, (whole, key: string) =>
    Object.prototype.hasOwnProperty.call(vars, key) ? vars[key as keyof TemplateVars] : whole,
  );
}

/** Fills templates in every string inside tool arguments. */
export function fillDeep(value: unknown, vars: TemplateVars): unknown {
  if (typeof value === 'string') return fillTemplate(value, vars);
  if (Array.isArray(value)) return value.map((v) => fillDeep(v, vars));
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, fillDeep(v, vars)]));
  }
  return value;
}

/** Picks the rule for an input, counting `repeat`. */
export class RuleBook {
  private fired = new Map<number, number>();
  constructor(private readonly script: MockScript) {}

  pick(input: string): MockTurn {
    for (const [i, rule] of this.script.rules.entries()) {
      const used = this.fired.get(i) ?? 0;
      if (rule.repeat !== undefined && used >= rule.repeat) continue;
      if (!matches(rule.match, input)) continue;
      this.fired.set(i, used + 1);
      return rule;
    }
    return this.script.default;
  }
}
