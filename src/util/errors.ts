/**
 * Every refusal of cao-mcp has one of these codes. The code reaches the MCP client at the head of the error text
 * (`Error: [worker_limit] …`) and the dashboard's API as `code` (with an HTTP status derived from it), so a
 * client can act on it without parsing the sentence.
 */
export const ERROR_CODES = [
  // the request itself
  'bad_request',
  'bad_profile',
  'body_too_large',
  'empty_body',
  'unsupported_media_type',
  // caps (README, "Security")
  'depth_limit',
  'worker_limit',
  'session_limit',
  // who may do what
  'forbidden',
  'invalid_sender',
  'self_send',
  'invalid_terminal_id',
  'name_taken',
  'terminal_exists',
  // the agent addressed
  'not_found',
  'ended',
  'not_here',
  'not_waiting',
  'bad_answer',
  'receiver_not_found',
  'receiver_ended',
  'not_external',
  // starting and driving a worker
  'launch_failed',
  'spawn_failed',
  'startup_failed',
  'input_not_taken',
  'task_not_queued',
  'timeout',
  'aborted',
  'shutting_down',
  // git worktrees (flows/worktree.ts)
  'git_missing',
  'not_a_git_repo',
  'branch_exists',
  'dirty_base',
  'worktree_failed',
  // many machines (hosts/)
  'bad_host_name',
  'host_name_taken',
  'unknown_host',
  'host_dead',
  'host_full',
  'no_host_with_room',
  'lease_lost',
  // the database (store/)
  'bad_database_url',
  'database_unreachable',
  // anything else: a bug or an environment failure, never the caller's fault
  'internal',
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

/** A request cao-mcp refuses or could not carry out; the message says what was wrong. Nothing was changed unless it says so. */
export class CaoError extends Error {
  override readonly name = 'CaoError';
  constructor(
    readonly code: ErrorCode,
    message: string,
    /** Extra facts for a person reading it (a startup failure's last screen). */
    readonly detail?: string,
  ) {
    super(detail ? `${message}\n--- screen ---\n${detail}` : message);
  }
}

export function isCaoError(err: unknown, code?: ErrorCode): err is CaoError {
  return err instanceof CaoError && (code === undefined || err.code === code);
}

/** The HTTP status a refusal is answered with (dashboard API, `cao-mcp ls/attach/inbox`). */
export function httpStatusOf(code: ErrorCode): number {
  switch (code) {
    case 'not_found':
    case 'receiver_not_found':
    case 'unknown_host':
      return 404;
    case 'ended':
    case 'receiver_ended':
      return 410;
    case 'not_waiting':
    case 'not_here':
    case 'host_name_taken':
      return 409;
    case 'host_dead':
    case 'host_full':
    case 'no_host_with_room':
    case 'lease_lost':
    case 'database_unreachable':
      return 503;
    case 'forbidden':
      return 403;
    case 'body_too_large':
      return 413;
    case 'unsupported_media_type':
      return 415;
    case 'internal':
      return 500;
    default:
      return 400;
  }
}

/** The error's message, for a reason stored or shown (non-errors as text). */
export function messageOf(err: unknown): string {
  if (err instanceof Error) return err.message || err.name;
  return String(err);
}
