/**
 * The Chromium that browser tests drive. By default the one `npm install` brings (the dev dependency
 * @sparticuz/chromium, a brotli-packed headless shell that needs only libc from the system), unpacked
 * once per installed version under node_modules/.cache. CHROMIUM_PATH names another Chrome or
 * Chromium instead; a system browser is used only then.
 */
import { execFile } from 'node:child_process';
import { accessSync, constants, existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { chromium, type Browser } from 'playwright-core';
import { REPO } from './cao-client.js';

const ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/**
 * The bundled Chromium, unpacked on first use. The package unpacks into os.tmpdir() and returns
 * `<tmpdir>/chromium` as soon as that file exists, even while another process is still writing it;
 * so each caller unpacks into a private directory (a child process with its own TMPDIR) and renames
 * it into place, which is atomic: when two test files race, one rename wins and the other copy is
 * dropped. Its fontconfig file adds the package's own font to the system's fonts, so that a machine
 * without fonts still lays out text (with none, every element's innerText is empty).
 */
async function bundledChromium(): Promise<{ exe: string; fontconfig: string }> {
  const pkgDir = join(dirname(createRequire(import.meta.url).resolve('@sparticuz/chromium')), '..', '..');
  const { version } = JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8')) as { version: string };
  const root = join(REPO, 'node_modules', '.cache', 'cao-mcp-chromium');
  const dir = join(root, version);
  const found = { exe: join(dir, 'chromium'), fontconfig: join(dir, 'fontconfig.xml') };
  if (existsSync(found.fontconfig)) return found;
  mkdirSync(root, { recursive: true });
  const scratch = mkdtempSync(join(root, `.${version}-`));
  try {
    const script = "process.stdout.write(await (await import('@sparticuz/chromium')).default.executablePath())";
    const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script], {
      cwd: REPO,
      env: { ...process.env, TMPDIR: scratch },
    });
    if (stdout !== join(scratch, 'chromium')) throw new Error(`@sparticuz/chromium unpacked to ${stdout}, not into ${scratch}`);
    // Written last, with the final paths: its presence means the directory is complete.
    writeFileSync(
      join(scratch, 'fontconfig.xml'),
      `<?xml version="1.0"?>\n<!DOCTYPE fontconfig SYSTEM "fonts.dtd">\n<fontconfig>\n` +
        `  <include ignore_missing="yes">/etc/fonts/fonts.conf</include>\n  <dir>${join(dir, 'fonts')}</dir>\n` +
        `  <cachedir>${join(dir, 'fontconfig-cache')}</cachedir>\n</fontconfig>\n`,
    );
    try {
      renameSync(scratch, dir);
    } catch {
      // Another process put its complete copy there first; or an incomplete one (an older layout without
      // fontconfig.xml) is in the way: replace that.
      if (!existsSync(found.fontconfig)) {
        rmSync(dir, { recursive: true, force: true });
        try {
          renameSync(scratch, dir);
        } catch (again) {
          if (!existsSync(found.fontconfig)) throw new Error(`cannot put the unpacked Chromium at ${dir}`, { cause: again });
        }
      }
    }
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
  return found;
}

/** The executable to launch (CHROMIUM_PATH, else the bundled Chromium) and the environment it needs. */
export async function chromiumPath(): Promise<{ exe: string; env?: Record<string, string> }> {
  const override = process.env.CHROMIUM_PATH;
  if (!override) {
    const { exe, fontconfig } = await bundledChromium();
    return { exe, env: { ...(process.env as Record<string, string>), FONTCONFIG_FILE: fontconfig } };
  }
  try {
    accessSync(override, constants.X_OK);
  } catch {
    throw new Error(`CHROMIUM_PATH=${override} is not an executable file`);
  }
  return { exe: override };
}

/** A headless Chromium for the test; throws, saying what was tried, when none can be launched. */
export async function launchChromium(): Promise<Browser> {
  const source = process.env.CHROMIUM_PATH ? 'CHROMIUM_PATH' : 'the dev dependency @sparticuz/chromium';
  let exe: string, env: Record<string, string> | undefined;
  try {
    ({ exe, env } = await chromiumPath());
  } catch (e) {
    throw new Error(
      `no Chromium for the browser tests from ${source} (\`npm install\` brings it; CHROMIUM_PATH may name another): ${(e as Error).message}`,
      { cause: e },
    );
  }
  try {
    return await chromium.launch({ executablePath: exe, args: ARGS, headless: true, env });
  } catch (e) {
    throw new Error(`cannot launch the Chromium for the browser tests (${exe}, from ${source}): ${(e as Error).message}`, { cause: e });
  }
}
