import { randomBytes } from 'node:crypto';
import {
  closeSync,
  fchmodSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  realpathSync,
  renameSync,
  statSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { SetupError } from './types.js';

/**
 * Every one of these config files can hold other servers' secrets (env blocks, API keys, OAuth state), even though
 * cao-mcp's entry holds none: a file we create is 0600, its new folders 0700. An existing file keeps its mode.
 */
export const NEW_FILE_MODE = 0o600;
const NEW_DIR_MODE = 0o700;

/** The file's text, or undefined when it does not exist. Follows symlinks (dotfile managers link these files). */
export function readConfig(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new SetupError(`cannot read ${file}: ${(e as Error).message}`);
  }
}

/**
 * Replaces `file` with `content` so that a reader never sees half a file: a temp file in the same folder, fsync,
 * rename over the target, fsync the folder. A symlink is followed and its target replaced (the link stays).
 * `expected` is the text the new content was computed from: if the file changed meanwhile (the client rewrote
 * it), nothing is written.
 */
export function writeConfigAtomic(file: string, content: string, expected: string | undefined): void {
  let target = file;
  try {
    target = realpathSync(file);
  } catch {
    /* does not exist yet */
  }
  const dir = dirname(target);
  mkdirSync(dir, { recursive: true, mode: NEW_DIR_MODE });
  let mode = NEW_FILE_MODE;
  try {
    mode = statSync(target).mode & 0o7777;
  } catch {
    /* new file */
  }
  const tmp = join(dir, `.${basename(target)}.cao-setup-${process.pid}-${randomBytes(4).toString('hex')}.tmp`);
  const fd = openSync(tmp, 'wx', mode);
  try {
    fchmodSync(fd, mode); // exact, whatever the umask
    writeSync(fd, content);
    fsyncSync(fd);
  } catch (e) {
    closeSync(fd);
    unlinkSync(tmp);
    throw e;
  }
  closeSync(fd);
  try {
    if (readConfig(target) !== expected)
      throw new SetupError(`${file} changed while cao-mcp setup was editing it; nothing was written: run it again`);
    renameSync(tmp, target);
  } catch (e) {
    try {
      unlinkSync(tmp);
    } catch {
      /* already renamed or gone */
    }
    throw e;
  }
  try {
    const dfd = openSync(dir, 'r');
    fsyncSync(dfd);
    closeSync(dfd);
  } catch {
    /* some filesystems cannot fsync a directory; the rename is done */
  }
}
