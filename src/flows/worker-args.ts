import { CaoError } from '../util/errors.js';

/**
 * Shapes of what reaches a worker CLI's command line, checked before anything is started. A model name is
 * passed as an argument of its own (`--model <m>`): it must not look like an option or hold control bytes.
 */
const MODEL_RE = /^[A-Za-z0-9][A-Za-z0-9._:/@+[\]=-]{0,127}$/;

export function checkModel(model: string | undefined, where: string): string | undefined {
  if (model === undefined || model === '') return undefined;
  if (typeof model !== 'string' || !MODEL_RE.test(model))
    throw new CaoError(
      'bad_request',
      `${where} ${JSON.stringify(model)} is not a model name: 1–128 of letters, digits and . _ : / @ + [ ] = -, starting with a letter or digit`,
    );
  return model;
}

/**
 * The last gate before a pty is spawned: no argument may hold a secret (argv is world-readable through
 * `ps` and /proc/<pid>/cmdline), a NUL or a terminal control character other than newline and tab.
 */
export function checkArgv(command: string, args: string[], secrets: string[]): void {
  for (const a of [command, ...args]) {
    if (secrets.some((s) => s && a.includes(s))) throw new Error('refusing to start a worker with a secret on its command line');
    if (/[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]/.test(a))
      throw new Error(`refusing a command-line argument with a control character: ${JSON.stringify(a.slice(0, 80))}`);
  }
}
