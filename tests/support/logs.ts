import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** One line of a cao-mcp log file (`$CAO_HOME/logs/hub.log`, `ptyhost.log`): what every line carries, and the rest. */
export interface LogRecord {
  level: string;
  time: string;
  pid: number;
  component: string;
  msg?: string;
  [field: string]: unknown;
}

/** The lines of `$CAO_HOME/logs/<file>`, parsed (throws on a line that is not JSON); [] when there is no file. */
export function logRecords(home: string, file = 'hub.log', pid?: number): LogRecord[] {
  const path = join(home, 'logs', file);
  if (!existsSync(path)) return [];
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as LogRecord)
    .filter((r) => pid === undefined || r.pid === pid);
}

/** The messages of those lines, one a line (what a test matches text against). */
export function logText(home: string, file = 'hub.log', pid?: number): string {
  return logRecords(home, file, pid)
    .map((r) => r.msg ?? '')
    .join('\n');
}
