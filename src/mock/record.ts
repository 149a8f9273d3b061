/** Event log for tests and benchmarks: one JSON line per event, appended whole (env CAO_MOCK_RECORD). */
import { appendFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';

export type RecordEvent =
  | 'start'
  | 'terminal_reply'
  | 'ready'
  | 'input'
  | 'ignored_input'
  | 'choice'
  | 'tool_result'
  | 'final_frame'
  | 'interrupted'
  | 'crash'
  | 'exit'
  | 'command';

export class Recorder {
  constructor(private readonly file: string | undefined) {}

  record(event: RecordEvent, fields: Record<string, unknown> = {}): void {
    if (!this.file) return;
    // `terminal`: the cao-mcp terminal id when a hub started this agent (tests map records to receivers).
    const terminal = process.env.CAO_TERMINAL_ID;
    const line = JSON.stringify({
      t: performance.timeOrigin + performance.now(),
      pid: process.pid,
      ...(terminal ? { terminal } : {}),
      event,
      ...fields,
    });
    try {
      appendFileSync(this.file, line + '\n');
    } catch {
      /* a broken record file must not break the agent */
    }
  }
}
