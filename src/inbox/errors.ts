/** Why the inbox refused a request. Nothing was written when one of these is thrown. */
export type InboxErrorCode =
  | 'invalid_sender'
  | 'self_send'
  | 'empty_body'
  | 'body_too_large'
  | 'receiver_not_found'
  | 'receiver_ended'
  | 'not_external'
  | 'invalid_terminal_id'
  | 'terminal_exists'
  | 'name_taken';

export class InboxError extends Error {
  override readonly name = 'InboxError';
  constructor(
    readonly code: InboxErrorCode,
    message: string,
  ) {
    super(message);
  }
}

export function isInboxError(err: unknown, code?: InboxErrorCode): err is InboxError {
  return err instanceof InboxError && (code === undefined || err.code === code);
}
