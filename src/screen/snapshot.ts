/**
 * A rendered screen, as the detectors see it: plain text rows (no escape codes), right-trimmed.
 * `lines` holds the scrollback kept by the emulator followed by the visible rows.
 */
export interface ScreenSnapshot {
  lines: string[];
  /** Index in `lines` of the first visible row. */
  viewportTop: number;
  cols: number;
  rows: number;
  /** Absolute index in `lines` of the cursor's row. */
  cursorLine: number;
  /** The application switched to the alternate screen buffer (full-screen TUIs). */
  altScreen: boolean;
  /** Per line: true when the row continues the previous one (the emulator soft-wrapped it). */
  wrapped?: boolean[];
}

/** Builds a snapshot from plain text (captured fixture, tests): every line is visible. */
export function snapshotFromText(text: string, cols = 200): ScreenSnapshot {
  const lines = text
    .replace(/\r\n/g, '\n')
    .split('\n')
    .map((l) => l.replace(/\s+$/u, ''));
  while (lines.length > 1 && lines[lines.length - 1] === '') lines.pop();
  return { lines, viewportTop: 0, cols, rows: lines.length, cursorLine: lines.length - 1, altScreen: false };
}

/** The visible rows. */
export function visibleRows(s: ScreenSnapshot): string[] {
  return s.lines.slice(s.viewportTop);
}

/** Plain text of the whole snapshot (for error messages and `read_output`). */
export function snapshotText(s: ScreenSnapshot, onlyVisible = false): string {
  const rows = onlyVisible ? visibleRows(s) : s.lines;
  const out = [...rows];
  while (out.length && out[out.length - 1] === '') out.pop();
  return out.join('\n');
}
