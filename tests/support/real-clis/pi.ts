import type { LaunchSpec, SeedOptions } from './common.js';
import { baseEnv, homeFor } from './common.js';
import { binPath } from './versions.js';

export function seedPi(o: SeedOptions): LaunchSpec {
  const home = homeFor('pi', o);
  return { cli: 'pi', command: binPath('pi'), args: [], env: baseEnv(home), home, cwd: o.cwd };
}
