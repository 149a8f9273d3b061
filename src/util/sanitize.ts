/**
 * Message text is data, never terminal control: remove escape sequences and control characters so a
 * message cannot move the cursor, change modes, or break out of a bracketed paste (ESC[201~).
 * Newlines and tabs are kept; CR/CRLF become LF.
 */
export function neutraliseForTerminal(text: string): string {
  return (
    text
      .replace(/\r\n?/g, '\n')
      // CSI / OSC / DCS and other ESC sequences (7-bit), then any leftover ESC
      .replace(/\x1b\[[0-?]*[ -/]*[@-~]/g, '')
      .replace(/\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?/g, '')
      .replace(/\x1b[PX^_][^\x1b]*(?:\x1b\\)?/g, '')
      .replace(/\x1b./gs, '')
      .replace(/\x1b/g, '')
      // C0 controls except TAB and LF, DEL, and C1 controls (U+0080–U+009F, e.g. the 8-bit CSI U+009B)
      .replace(/[\x00-\x08\x0b-\x1f\x7f\u0080-\u009f]/g, '')
  );
}
