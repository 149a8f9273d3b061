/**
 * In `launch` the agent's output reaches two terminal emulators: the hub's headless screen (which reads
 * it for status detection and answers the agent's queries itself) and the user's real terminal (which
 * answers them too). The agent must get one answer per question, so the real terminal's replies to the
 * queries the headless screen already answered are dropped from the user's input.
 *
 * Only replies to queries seen in the output within the last few seconds are dropped: a key that happens
 * to look like a reply (Ctrl-F3 sends the same bytes as a cursor report on row 1) still goes through.
 */

type Kind = 'cpr' | 'xcpr' | 'da1' | 'da2' | 'dsr' | 'rqm' | 'rqss';

/** Queries the headless emulator answers (see the table in the tests). */
const QUERY = /\x1b\[(\?)?6n|\x1b\[0?c|\x1b\[>0?c|\x1b\[5n|\x1b\[\??\d+\$p|\x1bP\$q[^\x1b]*\x1b\\/g;
/** Their replies as a terminal sends them. */
const REPLY = /\x1b\[\d+;\d+R|\x1b\[\?\d+;\d+(?:;\d+)?R|\x1b\[\?[\d;]*c|\x1b\[>[\d;]*c|\x1b\[[03]n|\x1b\[\??\d+;\d+\$y|\x1bP[01]\$r[^\x1b]*\x1b\\/g;

const EXPECT_MS = 3000;
const CARRY = 16;

function queryKind(q: string): Kind {
  if (q.endsWith('6n')) return q.includes('?') ? 'xcpr' : 'cpr';
  if (q.startsWith('\x1b[>')) return 'da2';
  if (q.endsWith('c')) return 'da1';
  if (q.endsWith('5n')) return 'dsr';
  if (q.endsWith('$p')) return 'rqm';
  return 'rqss';
}

function replyKind(r: string): Kind {
  if (r.endsWith('R')) return r.startsWith('\x1b[?') ? 'xcpr' : 'cpr';
  if (r.startsWith('\x1b[>')) return 'da2';
  if (r.endsWith('c')) return 'da1';
  if (r.endsWith('n')) return 'dsr';
  if (r.endsWith('$y')) return 'rqm';
  return 'rqss';
}

export class ReplyFilter {
  private carry = '';
  private readonly expected = new Map<Kind, number[]>();

  constructor(private readonly now: () => number = Date.now) {}

  /** Call with every chunk of the agent's output. */
  noteOutput(data: string): void {
    const text = this.carry + data;
    let lastEnd = 0;
    for (const m of text.matchAll(QUERY)) {
      const k = queryKind(m[0]);
      const list = this.expected.get(k) ?? [];
      list.push(this.now() + EXPECT_MS);
      this.expected.set(k, list);
      lastEnd = m.index + m[0].length;
    }
    // A query cut between two chunks is completed by the next one.
    this.carry = text.slice(Math.max(lastEnd, text.length - CARRY));
  }

  /** The user's input with the replies nobody waits for any more taken out. */
  filterInput(data: string): string {
    if (!data.includes('\x1b')) return data;
    const t = this.now();
    return data.replace(REPLY, (r) => {
      const list = (this.expected.get(replyKind(r)) ?? []).filter((until) => until >= t);
      if (!list.length) {
        this.expected.delete(replyKind(r));
        return r;
      }
      list.shift();
      this.expected.set(replyKind(r), list);
      return '';
    });
  }
}
