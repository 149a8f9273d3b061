// The hub's task store (src/mcp/tasks.ts): per caller, bounded by a TTL after the end and by a count cap.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { DEFAULT_MAX_TASKS, DEFAULT_TASK_TTL_MS, HandoffTasks, MAX_TASK_TTL_MS, TERMINAL_META_KEY } from '../src/mcp/tasks.js';

const done = { content: [{ type: 'text', text: 'ok' }] };
afterEach(() => vi.useRealTimers());

describe('HandoffTasks', () => {
  it('defaults: a TTL of one hour, 1000 tasks; asked TTLs are kept within 1 min and 24 h', () => {
    expect(DEFAULT_TASK_TTL_MS).toBe(3_600_000);
    expect(DEFAULT_MAX_TASKS).toBe(1000);
    const t = new HandoffTasks();
    expect(t.create('a').ttl).toBe(DEFAULT_TASK_TTL_MS);
    expect(t.create('a', 5).ttl).toBe(60_000);
    expect(t.create('a', 10 * MAX_TASK_TTL_MS).ttl).toBe(MAX_TASK_TTL_MS);
    expect(t.create('a', 120_000).ttl).toBe(120_000);
  });

  it('a task is seen only by its caller, whatever session asks', async () => {
    const t = new HandoffTasks();
    const a = t.storeFor('alice');
    const m = t.storeFor('mallory');
    const task = await a.createTask({}, 1, { method: 'tools/call' }, 'session-1');
    expect(await a.getTask(task.taskId, 'session-2')).toMatchObject({ taskId: task.taskId, status: 'working' });
    expect(await m.getTask(task.taskId, 'session-1')).toBeNull();
    expect((await m.listTasks()).tasks).toEqual([]);
    await expect(m.getTaskResult(task.taskId)).rejects.toThrow(/not found/);
    await expect(m.updateTaskStatus(task.taskId, 'cancelled')).rejects.toThrow(/not found/);
    expect(t.cancelSignal(task.taskId).aborted).toBe(false);
    t.note(task.taskId, 'starting terminal abcd1234', 'abcd1234');
    expect(((await a.getTask(task.taskId)) as { _meta?: unknown } | null)?._meta).toEqual({ [TERMINAL_META_KEY]: 'abcd1234' });
    t.finish(task.taskId, 'completed', done);
    expect(await a.getTaskResult(task.taskId)).toEqual(done);
    expect((await a.listTasks()).tasks.map((x) => x.status)).toEqual(['completed']);
  });

  it('tasks/cancel (status cancelled) aborts the work; the later result does not turn it into completed', async () => {
    const t = new HandoffTasks();
    const a = t.storeFor('alice');
    const task = await a.createTask({}, 1, { method: 'tools/call' });
    const signal = t.cancelSignal(task.taskId);
    await a.updateTaskStatus(task.taskId, 'cancelled', 'Client cancelled task execution.');
    expect(signal.aborted).toBe(true);
    expect(t.finish(task.taskId, 'completed', done)?.status).toBe('cancelled');
    await expect(a.updateTaskStatus(task.taskId, 'working')).rejects.toThrow(/already cancelled/);
  });

  it('a finished task is dropped its TTL after it ended; a working one is kept', () => {
    vi.useFakeTimers();
    const t = new HandoffTasks({ ttlMs: 60_000 });
    const working = t.create('a');
    const finished = t.create('a');
    vi.advanceTimersByTime(50_000);
    t.finish(finished.taskId, 'completed', done);
    vi.advanceTimersByTime(59_000);
    expect(t.get('a', finished.taskId)).not.toBeNull();
    vi.advanceTimersByTime(2_000);
    expect(t.get('a', finished.taskId)).toBeNull();
    vi.advanceTimersByTime(10 * 60_000);
    expect(t.get('a', working.taskId)?.status).toBe('working');
    expect(t.size).toBe(1);
  });

  it('at the cap the oldest finished task makes room; with all working a new one is refused', () => {
    vi.useFakeTimers();
    const t = new HandoffTasks({ maxTasks: 3 });
    const ids = [t.create('a'), t.create('b'), t.create('a')].map((x) => x.taskId);
    expect(() => t.create('c')).toThrow(/too many tasks \(3/);
    t.finish(ids[2], 'completed', done);
    vi.advanceTimersByTime(10);
    t.finish(ids[1], 'failed', done);
    const fourth = t.create('c');
    expect(t.size).toBe(3);
    expect(t.get('a', ids[2])).toBeNull(); // finished first: evicted
    expect(t.get('b', ids[1])).not.toBeNull();
    expect(t.get('c', fourth.taskId)).not.toBeNull();
  });
});
