import { neutraliseForTerminal } from '../util/sanitize.js';
import { sleep } from '../pty/pty-process.js';
import type { Terminal } from './terminal.js';
import { CaoError } from '../util/errors.js';

const PASTE_START = '\x1b[200~';
const PASTE_END = '\x1b[201~';

/**
 * Types `text` into a TUI and submits it, the way a person pastes and presses Enter:
 * bracketed paste when the application asked for it, Enter as a separate write after the provider's
 * delay, then confirm the screen reacted — re-sending Enter if it did not. `turn`: the number of the turn this
 * input starts (submitTurn in turn.ts passes its Turn's; default a new one).
 */
export async function submitInput(
  t: Terminal,
  text: string,
  opts: { confirmMs?: number; tries?: number; turn?: number; tag?: string } = {},
): Promise<void> {
  const clean = neutraliseForTerminal(text).trim();
  if (!clean) throw new CaoError('input_not_taken', 'refusing to submit an empty input');
  const { screen } = t.feed;
  const confirmMs = opts.confirmMs ?? 1500;
  const tries = opts.tries ?? 3;
  const turn = opts.turn ?? t.monitor.newTurn();

  // Without bracketed paste a newline would submit each line on its own: flatten it.
  const bracketed = screen.bracketedPaste;
  const payload = bracketed ? PASTE_START + clean + PASTE_END : clean.replace(/\n+/g, ' ');
  // Let the paste land (echo in the input box) before Enter; never less than the provider's delay.
  // Where the provider can see its input box, a paste that never shows up there is pasted again.
  const pending = t.provider.inputPending;
  let pastedAt: number;
  for (let attempt = 1; ; attempt++) {
    const beforePaste = visibleKey(t);
    t.write(payload, 'paste', opts.tag && `${opts.tag}:paste`);
    pastedAt = Date.now();
    const landed = await waitUntil(
      () => visibleKey(t) !== beforePaste && !screen.busy && (!pending || pending(t.monitor.detectSnapshot())),
      pending ? 1500 : 1000,
    );
    if (landed || !pending) break;
    if (attempt >= 2) throw new CaoError('input_not_taken', `${t.provider.label} did not show the pasted text in its input box (terminal ${t.id})`);
  }
  const { enterDelayMs, pasteEnterDelayMs } = t.provider.input;
  const remaining = (bracketed ? (pasteEnterDelayMs ?? enterDelayMs) : enterDelayMs) - (Date.now() - pastedAt);
  if (remaining > 0) await sleep(remaining);
  await waitUntil(() => Date.now() - screen.lastWrite >= 30 && !screen.busy, 500);

  for (let attempt = 1; attempt <= tries; attempt++) {
    const before = visibleKey(t);
    t.assertMayType();
    t.monitor.noteSubmitting(turn);
    t.write(t.provider.input.submitKey, 'keys', opts.tag && `${opts.tag}:enter`);
    // Submitted = the screen moved on and (where the provider can tell) the input box is empty again.
    const taken = () => !t.alive || (visibleKey(t) !== before && !pending?.(t.monitor.detectSnapshot()));
    if (!(await waitUntil(taken, confirmMs))) continue;
    if (!pending || !t.alive) return;
    // A frame caught mid-redraw shows no input box, so nothing pending: look again once the screen is quiet. Seen on
    // Gemini CLI under load: an Enter taken as a newline, confirmed on such a frame, left the task in the box for good.
    await waitUntil(() => Date.now() - screen.lastWrite >= 50 && !screen.busy, 500);
    if (!t.alive || !pending(t.monitor.detectSnapshot())) return;
  }
  t.monitor.cancelSubmitting();
  throw new CaoError('input_not_taken', `${t.provider.label} did not react to Enter after ${tries} tries (terminal ${t.id})`);
}

/** Writes keys one by one, with a short pause between them (menus need each key to land). */
export async function sendKeys(t: Terminal, keys: string[], gapMs = 80): Promise<void> {
  for (const k of keys) {
    t.assertMayType();
    t.write(k, 'keys');
    await sleep(gapMs);
  }
}

function visibleKey(t: Terminal): string {
  const s = t.feed.screen.snapshot(t.feed.screen.rows);
  return s.lines.join('\n');
}

/**
 * Polls `cond` every 15 ms until true or `ms` pass; returns whether it became true.
 *
 * Why a poll, here only (the waits of a submit, about a second): its conditions mix the rendered screen, the
 * emulator's parse state (`screen.busy`), the time since the last write and the provider's view of its input box,
 * and they are asked of two parse paths (whole chunks, and frame by frame while the input guard watches frames). A
 * wake-up missed by an event-driven wait would re-send Enter into a screen that had reacted (a double submit); a
 * look every 15 ms cannot miss one and costs a screen read.
 */
async function waitUntil(cond: () => boolean, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() >= deadline) return false;
    await sleep(15);
  }
  return true;
}
