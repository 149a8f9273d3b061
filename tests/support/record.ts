import { existsSync, readFileSync } from 'node:fs';

export interface RecordLine {
  t: number;
  pid: number;
  terminal?: string;
  event: string;
  text?: string;
  [k: string]: unknown;
}

/** Reads a mock agent record file (CAO_MOCK_RECORD): what the agents actually received and did. */
export function readRecord(file: string): RecordLine[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as RecordLine);
}

export function inputsOf(file: string, terminal?: string): string[] {
  return readRecord(file)
    .filter((r) => r.event === 'input' && (!terminal || r.terminal === terminal))
    .map((r) => r.text ?? '');
}
