/**
 * The Chromium that browser tests drive. By default the one `npm install` brings (the dev dependency
 * @sparticuz/chromium, a brotli-packed headless shell that needs only libc from the system), unpacked
 * once per installed version under node_modules/.cache. CHROMIUM_PATH names another Chrome or
 * Chromium instead; a system browser is used only then.
 */
import { execFile } from 'node:child_process';
import { accessSync, constants, existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { chromium, type Browser } from 'playwright-core';
import { REPO } from './cao-client.js';

const ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

/**
 * Path of the bundled Chromium, unpacked on first use. The package unpacks into os.tmpdir() and
 * returns `<tmpdir>/chromium` as soon as that file exists, even while another process is still
 * writing it; so each caller unpacks into a private directory (a child process with its own TMPDIR)
 * and renames it into place, which is atomic: when two test files race, one rename wins and the
 * other copy is dropped.
 */
async function bundledChromium(): Promise<string> {
  const pkgDir = join(dirname(createRequire(import.meta.url).resolve('@sparticuz/chromium')), '..', '..');
  const { version } = JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8')) as { version: string };
  const root = join(REPO, 'node_modules', '.cache', 'cao-mcp-chromium');
  const dir = join(root, version);
  const exe = join(dir, 'chromium');
  if (existsSync(exe)) return exe;
  mkdirSync(root, { recursive: true });
  const scratch = mkdtempSync(join(root, `.${version}-`));
  try {
    const script = "process.stdout.write(await (await import('@sparticuz/chromium')).default.executablePath())";
    const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script], {
      cwd: REPO,
      env: { ...process.env, TMPDIR: scratch },
    });
    if (stdout !== join(scratch, 'chromium')) throw new Error(`@sparticuz/chromium unpacked to ${stdout}, not into ${scratch}`);
    try {
      renameSync(scratch, dir);
    } catch (e) {
      // Another process put its copy there first.
      if (!existsSync(exe)) throw e;
    }
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
  return exe;
}

/** The executable to launch: CHROMIUM_PATH, else the bundled Chromium. */
export async function chromiumPath(): Promise<string> {
  const override = process.env.CHROMIUM_PATH;
  if (!override) return bundledChromium();
  try {
    accessSync(override, constants.X_OK);
  } catch {
    throw new Error(`CHROMIUM_PATH=${override} is not an executable file`);
  }
  return override;
}

/** A headless Chromium for the test; throws, saying what was tried, when none can be launched. */
export async function launchChromium(): Promise<Browser> {
  const source = process.env.CHROMIUM_PATH ? 'CHROMIUM_PATH' : 'the dev dependency @sparticuz/chromium';
  let exe: string;
  try {
    exe = await chromiumPath();
  } catch (e) {
    throw new Error(`no Chromium for the browser tests from ${source} (\`npm install\` brings it; CHROMIUM_PATH may name another): ${(e as Error).message}`, { cause: e });
  }
  try {
    return await chromium.launch({ executablePath: exe, args: ARGS, headless: true });
  } catch (e) {
    throw new Error(`cannot launch the Chromium for the browser tests (${exe}, from ${source}): ${(e as Error).message}`, { cause: e });
  }
}
