import type { AgentView, InboxMessage } from '../flows/index.js';
import { markInvisible } from '../util/sanitize.js';

/** The agent view every listing shares (flows/types.ts); the page and `cao-mcp ls --json` get it as plain data. */
export type { AgentView } from '../flows/index.js';

export interface MessageView {
  id: number;
  sender: string;
  receiver: string;
  state: InboxMessage['status'];
  /** `message`, `task` (of an assign) or `notice` (from cao-mcp itself). */
  kind: InboxMessage['kind'];
  body: string;
  error: string | null;
  attempts: number;
  createdAt: number;
  deliveredAt: number | null;
}

/** An agent as shown to a person: bidi controls and zero-width characters as markers (⟦U+202E⟧), never applied. */
export function shownAgent(a: AgentView): AgentView {
  return {
    ...a,
    question: a.question === null ? null : markInvisible(a.question),
    lastError: a.lastError === null ? null : markInvisible(a.lastError),
  };
}

export function messageView(m: InboxMessage): MessageView {
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
