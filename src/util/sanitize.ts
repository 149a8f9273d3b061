/**
 * Characters that change how text around them is displayed without being seen themselves: bidi embeddings,
 * overrides and isolates (U+202A–202E, U+2066–2069), direction marks (U+200E/F, U+061C), zero-width
 * characters (U+200B–200D, U+2060, U+FEFF) and the invisible operators (U+2061–2064). A message could use
 * them to make the text an agent or a person reads differ from the text that is there ("Trojan Source").
 */
const INVISIBLE_RE = /[\u061c\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]/g;

/** Replaces each invisible formatting character with a visible marker, e.g. `⟦U+202E⟧`. */
export function markInvisible(text: string): string {
  return text.replace(INVISIBLE_RE, (c) => `⟦U+${c.charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}⟧`);
}

/** True when the text holds a character markInvisible() would mark. */
export function hasInvisible(text: string): boolean {
  INVISIBLE_RE.lastIndex = 0;
  const found = INVISIBLE_RE.test(text);
  INVISIBLE_RE.lastIndex = 0;
  return found;
}

/**
 * Message text is data, never terminal control: remove escape sequences and control characters so a
 * message cannot move the cursor, change modes, or break out of a bracketed paste (ESC[201~), and mark
 * invisible formatting characters visibly. Newlines and tabs are kept; CR/CRLF become LF.
 */
export function neutraliseForTerminal(text: string): string {
  return markInvisible(
    text
      .replace(/\r\n?/g, '\n')
      // CSI / OSC / DCS and other ESC sequences (7-bit), then any leftover ESC
      .replace(/\x1b\[[0-?]*[ -/]*[@-~]/g, '')
      .replace(/\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?/g, '')
      .replace(/\x1b[PX^_][^\x1b]*(?:\x1b\\)?/g, '')
      .replace(/\x1b./gs, '')
      .replace(/\x1b/g, '')
      // C0 controls except TAB and LF, DEL, and C1 controls (U+0080–U+009F, e.g. the 8-bit CSI U+009B)
      .replace(/[\x00-\x08\x0b-\x1f\x7f\u0080-\u009f]/g, ''),
  );
}

/** neutraliseForTerminal() on one line: newlines and tabs become single spaces (a dialog's text field takes one line). */
export function neutraliseOneLine(text: string): string {
  return neutraliseForTerminal(text)
    .replace(/[\t\n]+/g, ' ')
    .trim();
}
