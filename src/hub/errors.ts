/** A tool call that cannot be done as asked; the message says what was wrong. Nothing was changed. */
export class ToolError extends Error {
  constructor(
    message: string,
    readonly code = 'bad_request',
  ) {
    super(message);
  }
}
