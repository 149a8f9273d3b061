import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['tests/**/*.test.ts'],
    // Real CLIs need their own namespace and installs: `npm run test:real`.
    exclude: ['tests/real/**', 'tests/real-cli-smoke.test.ts', 'node_modules/**'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // Two cores: ptys and child processes are real, keep contention sane.
    maxWorkers: 2,
  },
});
