/**
 * Turns the raw bytes a terminal sends into key events. Input may arrive cut anywhere (even inside a paste
 * marker or an escape sequence), so unfinished tails are kept for the next chunk; a lone ESC becomes the
 * Escape key only after a short quiet time.
 */

export type KeyName = 'enter' | 'backspace' | 'up' | 'down' | 'left' | 'right' | 'escape' | 'ctrl-c' | 'ctrl-d' | 'ctrl-u' | 'tab';

export type KeyEvent =
  { type: 'text'; text: string; paste: boolean } | { type: 'key'; name: KeyName } | { type: 'cursor-report'; row: number; col: number };

const PASTE_START = '\x1b[200~';
const PASTE_END = '\x1b[201~';

/** Length of the longest suffix of `s` that is a proper prefix of `marker`. */
function partialSuffix(s: string, marker: string): number {
  for (let n = Math.min(marker.length - 1, s.length); n > 0; n--) {
    if (s.endsWith(marker.slice(0, n))) return n;
  }
  return 0;
}

export class KeyDecoder {
  private buf = '';
  private pasting = false;
  private paste = '';
  private escTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly emit: (e: KeyEvent) => void,
    private readonly escTimeoutMs = 40,
  ) {}

  feed(chunk: string): void {
    if (this.escTimer) {
      clearTimeout(this.escTimer);
      this.escTimer = undefined;
    }
    this.buf += chunk;
    this.drain();
    if (this.buf && !this.pasting) {
      // an unfinished escape sequence: a lone ESC is the Escape key once nothing follows quickly;
      // a longer unfinished sequence that never completes is dropped
      const lone = this.buf === '\x1b';
      this.escTimer = setTimeout(
        () => {
          this.escTimer = undefined;
          const wasLone = this.buf === '\x1b';
          this.buf = '';
          if (wasLone) this.emit({ type: 'key', name: 'escape' });
        },
        lone ? this.escTimeoutMs : 1000,
      );
    }
  }

  dispose(): void {
    if (this.escTimer) clearTimeout(this.escTimer);
  }

  private drain(): void {
    let text = '';
    const flushText = () => {
      if (text) this.emit({ type: 'text', text, paste: false });
      text = '';
    };
    while (this.buf.length) {
      if (this.pasting) {
        const end = this.buf.indexOf(PASTE_END);
        if (end < 0) {
          // keep a possible cut end marker for the next chunk
          const keep = partialSuffix(this.buf, PASTE_END);
          this.paste += this.buf.slice(0, this.buf.length - keep);
          this.buf = this.buf.slice(this.buf.length - keep);
          return;
        }
        this.paste += this.buf.slice(0, end);
        this.buf = this.buf.slice(end + PASTE_END.length);
        this.pasting = false;
        // terminals send pasted newlines as \r; keep them as line breaks
        const pasted = this.paste.replace(/\r\n?/g, '\n');
        this.paste = '';
        this.emit({ type: 'text', text: pasted, paste: true });
        continue;
      }
      const ch = this.buf[0];
      if (ch === '\x1b') {
        const seq = this.parseEscape();
        if (seq === 'incomplete') break;
        flushText();
        this.buf = this.buf.slice(seq.length);
        this.handleEscape(seq);
        continue;
      }
      this.buf = this.buf.slice(1);
      const code = ch.charCodeAt(0);
      const key: KeyName | undefined =
        ch === '\r'
          ? 'enter'
          : code === 0x7f || code === 0x08
            ? 'backspace'
            : code === 0x03
              ? 'ctrl-c'
              : code === 0x04
                ? 'ctrl-d'
                : code === 0x15
                  ? 'ctrl-u'
                  : ch === '\t'
                    ? 'tab'
                    : undefined;
      if (key) {
        flushText();
        this.emit({ type: 'key', name: key });
      } else if (ch === '\n' || code >= 0x20) {
        text += ch;
      }
    }
    flushText();
  }

  /** The escape sequence at the start of the buffer, or 'incomplete' when more bytes are needed. */
  private parseEscape(): string | 'incomplete' {
    const b = this.buf;
    if (b.length === 1) return 'incomplete';
    if (b[1] === '[') {
      for (let i = 2; i < b.length; i++) {
        const c = b.charCodeAt(i);
        if (c >= 0x40 && c <= 0x7e) return b.slice(0, i + 1);
        if (c < 0x20 || c > 0x3f) return b.slice(0, i); // malformed: drop what we have
      }
      return 'incomplete';
    }
    if (b[1] === 'O') return b.length < 3 ? 'incomplete' : b.slice(0, 3);
    if (b[1] === '\x1b') return '\x1b'; // ESC ESC: first one is a plain Escape
    return b.slice(0, 2); // Alt+key
  }

  private handleEscape(seq: string): void {
    if (seq === '\x1b') return this.emit({ type: 'key', name: 'escape' });
    if (seq === PASTE_START) {
      this.pasting = true;
      this.paste = '';
      return;
    }
    const cpr = /^\x1b\[(\d+);(\d+)R$/.exec(seq);
    if (cpr) return this.emit({ type: 'cursor-report', row: Number(cpr[1]), col: Number(cpr[2]) });
    const final = seq[seq.length - 1];
    const arrows: Record<string, KeyName> = { A: 'up', B: 'down', C: 'right', D: 'left' };
    if ((seq.startsWith('\x1b[') || seq.startsWith('\x1bO')) && arrows[final] && seq.length <= 6) {
      return this.emit({ type: 'key', name: arrows[final] });
    }
    if (seq === '\x1b\r') return this.emit({ type: 'text', text: '\n', paste: false }); // Alt+Enter: newline
    // other sequences (function keys, focus reports, Alt+letter) are ignored
  }
}
