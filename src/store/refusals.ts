import type { TerminalRow } from '../db/schema.js';
import { CaoError } from '../util/errors.js';

/** Why mail cannot be stored for `id` (its row as the engine read it under its lock), or null: both engines say the same. */
export function mailRefusal(id: string, receiver: Pick<TerminalRow, 'endedAt' | 'status'> | undefined): CaoError | null {
  if (!receiver) return new CaoError('receiver_not_found', `receiver ${id} does not exist`);
  if (receiver.endedAt !== null) return new CaoError('receiver_ended', `receiver ${id} has ended (${receiver.status})`);
  return null;
}

/** Refuses to hand `id`'s inbox over to be read unless it is an external supervisor (a worker's mail is typed into it). */
export function assertExternalInbox(id: string, receiver: Pick<TerminalRow, 'kind'> | undefined): void {
  if (!receiver) throw new CaoError('receiver_not_found', `receiver ${id} does not exist`);
  if (receiver.kind !== 'external')
    throw new CaoError('not_external', `${id} is a worker terminal: its messages are typed into it, not read from the inbox`);
}
