import type { Pool } from 'pg';

/**
 * A lost connection (a cut link, a server restart, a terminated backend) is never a crash. An idle one's error goes
 * to `onLost`, and the next query reconnects. One lost while lent out (inside a query or a transaction) fails that
 * call; pg also emits 'error' on it, and the pool listens only to the clients it holds, so every client gets a
 * listener of its own here (else that event would be an uncaught exception).
 */
export function guardPool(pool: Pool, onLost: (err: Error) => void): Pool {
  pool.on('error', onLost);
  pool.on('connect', (client) => client.on('error', () => undefined));
  return pool;
}
