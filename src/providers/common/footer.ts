/**
 * Footer markers several CLIs share. "esc to interrupt" (Claude Code, Codex), "esc interrupt" (OpenCode),
 * "esc to cancel" (Gemini CLI) all mean: a turn is running. A first signal, never the only one; dialogs also say
 * "esc to cancel", so check for an active dialog first.
 */
export const BUSY_FOOTER_RE = /\besc (?:to )?(?:interrupt|cancel)\b/u;

/** Claude Code's effort indicator at the right end of its footer: `● high · /effort`. Never an answer. */
export const EFFORT_TAIL_RE = /●\s*\w+\s*·\s*\/effort\s*$/u;

/** Spinner glyphs Claude-style TUIs cycle through in front of their busy verb. */
export const SPINNER_GLYPHS = '·✢✳✶✻✽*';

/** Braille spinner glyphs (U+2801–U+28FF) used by many TUIs while busy. */
export const BRAILLE_SPINNER = /[\u2801-\u28ff]/u;
