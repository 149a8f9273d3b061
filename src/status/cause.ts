/**
 * Why a status was published (the `cause` of a bus `status` event): typed, so that no consumer compares
 * strings. `describeCause` gives the human text where one is stored or shown.
 */
export type StatusCause =
  /** Startup is over: the first status after `starting`. */
  | { kind: 'started' }
  /** The provider's detector said so about a settled screen. */
  | { kind: 'detected' }
  /** cao-mcp submitted turn `turn` of this terminal (the input guard holds `processing` until it is over). */
  | { kind: 'input-submitted'; turn: number }
  /** The pty's process ended. */
  | { kind: 'exited'; exitCode: number; signal?: number };

export function describeCause(cause: StatusCause): string {
  switch (cause.kind) {
    case 'started':
      return 'started';
    case 'detected':
      return 'detected';
    case 'input-submitted':
      return 'input submitted';
    case 'exited':
      return `exited with code ${cause.exitCode}${cause.signal ? ` (signal ${cause.signal})` : ''}`;
  }
}
