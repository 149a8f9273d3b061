import type pg from 'pg';
import { messageOf } from '../../util/errors.js';
import { logger } from '../../util/log.js';
import { MAIL_CHANNEL } from './db.js';

/**
 * LISTEN for new mail other stores (other hubs) stored, on a connection of its own, taken from the pool and never given back (a connection that
 * listened is not a plain one). A dropped connection is replaced, after a pause that grows to 5 s; meanwhile the
 * delivery sweep finds the mail.
 */
export async function watchMail(pool: pg.Pool, origin: string, onMail: (receiverId: string) => void): Promise<() => Promise<void>> {
  let client: pg.PoolClient | null = null;
  let stopped = false;
  let retry: NodeJS.Timeout | null = null;
  let pause = 100;
  const listen = async (): Promise<void> => {
    const c = await pool.connect();
    let dropped = false;
    c.on('notification', (n) => {
      // `<origin> <receiver>`: mail this very store stored is known here already
      if (n.channel !== MAIL_CHANNEL || !n.payload) return;
      const space = n.payload.indexOf(' ');
      if (space > 0 && n.payload.slice(0, space) !== origin) onMail(n.payload.slice(space + 1));
    });
    c.on('error', (err) => {
      if (dropped) return;
      dropped = true;
      if (client === c) client = null;
      c.release(true);
      if (stopped) return;
      logger('store').warn({ error: messageOf(err) }, 'the connection listening for mail dropped; listening again');
      again();
    });
    await c.query(`LISTEN ${MAIL_CHANNEL}`);
    if (stopped) {
      c.release(true);
      return;
    }
    client = c;
    pause = 100;
  };
  const again = () => {
    if (stopped || retry) return;
    retry = setTimeout(() => {
      retry = null;
      listen().catch(() => {
        pause = Math.min(pause * 2, 5_000);
        again();
      });
    }, pause);
    retry.unref();
  };
  await listen();
  return async () => {
    stopped = true;
    if (retry) clearTimeout(retry);
    const c = client;
    client = null;
    if (c) {
      c.removeAllListeners('notification');
      c.removeAllListeners('error');
      c.on('error', () => undefined);
      c.release(true);
    }
  };
}
