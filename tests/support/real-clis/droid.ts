import type { LaunchSpec, SeedOptions } from './common.js';
import { baseEnv, homeFor } from './common.js';
import { binPath } from './versions.js';

export function seedDroid(o: SeedOptions): LaunchSpec {
  const home = homeFor('droid', o);
  return { cli: 'droid', command: binPath('droid'), args: [], env: baseEnv(home), home, cwd: o.cwd };
}
