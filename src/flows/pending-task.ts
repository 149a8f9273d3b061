/**
 * Workers that a handoff has started but not yet given its task (they are starting, or ready and about to be
 * typed into). A read_output that waits for the end of the turn must first wait for that task to be typed: the
 * worker's ready screen before it is not the answer. Keyed by the worker object; the entry goes with the submit.
 */
const pending = new WeakMap<object, Promise<void>>();

/** Marks `worker` as awaiting its handoff's task; call the returned function once the task is typed (or given up). */
export function markTaskPending(worker: object): () => void {
  let done!: () => void;
  const p = new Promise<void>((resolve) => (done = resolve));
  pending.set(worker, p);
  return () => {
    if (pending.get(worker) === p) pending.delete(worker);
    done();
  };
}

/** Resolves when `worker`'s pending task has been typed, or at once if there is none; false if `ms` ran out first. */
export async function taskTyped(worker: object, ms: number, signal?: AbortSignal): Promise<boolean> {
  const p = pending.get(worker);
  if (!p) return true;
  let timer: NodeJS.Timeout | undefined;
  let onAbort: (() => void) | undefined;
  try {
    return await Promise.race([
      p.then(() => true),
      new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(false), ms);
        onAbort = () => resolve(false);
        signal?.addEventListener('abort', onAbort, { once: true });
      }),
    ]);
  } finally {
    clearTimeout(timer);
    if (onAbort) signal?.removeEventListener('abort', onAbort);
  }
}
