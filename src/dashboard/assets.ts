import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { PAGE_CSS } from './page/css.js';
import { PAGE_JS } from './page/app-js.js';

const require = createRequire(import.meta.url);

export interface Asset {
  type: string;
  body: string | Buffer;
}

/** xterm.js for the page, straight from the installed package (no bundler, no copy in the repo). */
function fromPackage(spec: string, type: string): () => Asset {
  let cached: Asset | null = null;
  return () => (cached ??= { type, body: readFileSync(require.resolve(spec)) });
}

const ASSETS: Record<string, () => Asset> = {
  '/dashboard/xterm.js': fromPackage('@xterm/xterm/lib/xterm.js', 'text/javascript; charset=utf-8'),
  '/dashboard/xterm.css': fromPackage('@xterm/xterm/css/xterm.css', 'text/css; charset=utf-8'),
  '/dashboard/app.js': () => ({ type: 'text/javascript; charset=utf-8', body: PAGE_JS }),
  '/dashboard/app.css': () => ({ type: 'text/css; charset=utf-8', body: PAGE_CSS }),
};

export function asset(path: string): Asset | null {
  const get = ASSETS[path];
  return get ? get() : null;
}
