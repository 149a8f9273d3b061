import type { MessageRow, TerminalRow } from '../inbox/schema.js';
import type { InboxStore } from '../inbox/store.js';
import type { Orchestrator } from '../hub/orchestrator.js';
import type { AgentStatus } from '../status/types.js';
import { markInvisible } from '../util/sanitize.js';

/** One agent as the dashboard and the CLI (`ls`) show it. Plain data: it goes over SSE and into `--json` as is. */
export interface AgentView {
  id: string;
  kind: 'worker' | 'external';
  profile: string | null;
  provider: string | null;
  status: AgentStatus;
  creator: string | null;
  workingDirectory: string | null;
  createdAt: number;
  endedAt: number | null;
  ageSeconds: number;
  /** Messages waiting to be delivered to it. */
  pending: number;
  /** The question it waits on (status waiting_user_answer), as shown on its screen. */
  question: string | null;
  lastError: string | null;
  /** Its pty is owned by this hub: its screen can be watched, it can be answered and typed into here. */
  live: boolean;
  cols: number | null;
  rows: number | null;
}

export interface MessageView {
  id: number;
  sender: string;
  receiver: string;
  state: MessageRow['status'];
  /** `message`, `task` (of an assign) or `notice` (from cao-mcp itself). */
  kind: MessageRow['kind'];
  body: string;
  error: string | null;
  attempts: number;
  createdAt: number;
  deliveredAt: number | null;
}

export function agentView(orch: Orchestrator, store: InboxStore, row: TerminalRow): AgentView {
  const live = orch.terminal(row.id);
  const status = live?.status ?? row.status;
  let question: string | null = null;
  if (live && status === 'waiting_user_answer') {
    try {
      question = live.pendingQuestion();
    } catch {
      question = null; // a detector hiccup must not take the listing down
    }
  }
  return {
    id: row.id,
    kind: row.kind,
    profile: row.profile,
    provider: row.provider,
    status,
    creator: row.creatorId,
    workingDirectory: row.workingDirectory,
    createdAt: row.createdAt,
    endedAt: row.endedAt,
    ageSeconds: Math.max(0, Math.round(((row.endedAt ?? Date.now()) - row.createdAt) / 1000)),
    pending: store.countPending(row.id),
    question: question === null ? null : markInvisible(question),
    lastError: row.lastError === null ? null : markInvisible(row.lastError),
    live: !!live,
    cols: live ? live.feed.screen.cols : null,
    rows: live ? live.feed.screen.rows : null,
  };
}

/** How long an ended agent stays in the dashboard's list (the CLI's `ls --all` shows every one). */
const ENDED_KEEP_MS = 15 * 60_000;

export function listAgentViews(orch: Orchestrator, store: InboxStore, opts: { all?: boolean } = {}): AgentView[] {
  const since = Date.now() - ENDED_KEEP_MS;
  return store
    .listTerminals({ includeEnded: true })
    .filter((r) => r.endedAt === null || opts.all || r.endedAt >= since)
    .map((r) => agentView(orch, store, r));
}

export function messageView(m: MessageRow): MessageView {
  return {
    id: m.id,
    sender: m.senderId,
    receiver: m.receiverId,
    state: m.status,
    kind: m.kind,
    // Bidi controls and zero-width characters are shown as markers (⟦U+202E⟧), never applied.
    body: markInvisible(m.body),
    error: m.error === null ? null : markInvisible(m.error),
    attempts: m.attempts,
    createdAt: m.createdAt,
    deliveredAt: m.deliveredAt,
  };
}
