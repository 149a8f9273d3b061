import { describe, expect, it } from 'vitest';
import { RowWrites } from '../src/flows/row-writes.js';

/** A write that settles when the test says so, recording when it started. */
function gate(log: string[], name: string) {
  let open!: () => void;
  const done = new Promise<void>((r) => (open = r));
  return {
    write: () => {
      log.push(name);
      return done;
    },
    open: () => open(),
  };
}

describe('RowWrites', () => {
  it('runs the writes of one worker in order, one at a time; another worker does not wait', async () => {
    const w = new RowWrites();
    const log: string[] = [];
    const a1 = gate(log, 'a1');
    const a2 = gate(log, 'a2');
    const b1 = gate(log, 'b1');
    const p1 = w.record('a', 'a status', a1.write);
    const p2 = w.record('a', 'an end', a2.write);
    void w.record('b', 'a status', b1.write);
    expect(log).toEqual(['a1', 'b1']);
    a1.open();
    await p1;
    await Promise.resolve();
    expect(log).toEqual(['a1', 'b1', 'a2']);
    a2.open();
    b1.open();
    await p2;
    await w.idle();
  });

  it('a status still waiting is replaced by the next one; a status queued after another kind of write is not', async () => {
    const w = new RowWrites();
    const log: string[] = [];
    const first = gate(log, 'processing');
    void w.record('a', 'a status', first.write, 'status');
    void w.record('a', 'a status', () => (log.push('completed'), Promise.resolve()), 'status');
    const last = w.record('a', 'a status', () => (log.push('idle'), Promise.resolve()), 'status');
    first.open();
    await last;
    expect(log).toEqual(['processing', 'idle']);

    const log2: string[] = [];
    const busy = gate(log2, 'processing');
    void w.record('b', 'a status', busy.write, 'status');
    void w.record('b', 'a status', () => (log2.push('error'), Promise.resolve())); // an error's status: never replaced
    void w.record('b', 'an end', () => (log2.push('end'), Promise.resolve()));
    const after = w.record('b', 'a status', () => (log2.push('idle'), Promise.resolve()), 'status');
    busy.open();
    await after;
    expect(log2).toEqual(['processing', 'error', 'end', 'idle']);
  });

  it('a failed write is logged, not thrown, and the next one still runs', async () => {
    const w = new RowWrites();
    const log: string[] = [];
    await expect(w.record('a', 'a status', () => Promise.reject(new Error('database gone')))).resolves.toBeUndefined();
    await w.record('a', 'a status', () => (log.push('next'), Promise.resolve()));
    expect(log).toEqual(['next']);
  });
});
