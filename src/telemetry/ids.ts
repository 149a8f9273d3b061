import { createHash, randomBytes } from 'node:crypto';
import type { IdGenerator } from '@opentelemetry/sdk-trace-base';

/** The trace id of a run: derived from its run id, so a run is one trace (and another hub's spans of it join it). */
export function traceIdOfRun(runId: string): string {
  return createHash('sha256').update(`cao-mcp run ${runId}`).digest('hex').slice(0, 32);
}

function random(bytes: number): string {
  for (;;) {
    const id = randomBytes(bytes).toString('hex');
    if (/[^0]/.test(id)) return id; // all zeros is the invalid id
  }
}

/**
 * The provider's ids: random, except the trace id of the next root span, which the run's consumer sets to its
 * run's (`forNextRoot`) just before it starts the run's root span.
 */
export class RunTraceIds implements IdGenerator {
  private next: string | null = null;

  forNextRoot(traceId: string): void {
    this.next = traceId;
  }

  generateTraceId(): string {
    const id = this.next ?? random(16);
    this.next = null;
    return id;
  }

  generateSpanId(): string {
    return random(8);
  }
}
