import { defineConfig } from 'vitest/config';

// The end-to-end suite on the real agent CLIs (Claude Code, Codex, Gemini CLI, OpenCode) against the fake model.
// Needs root, a loopback-only network namespace and the pinned CLIs: run it with `bash scripts/test-real.sh`.
export default defineConfig({
  test: {
    include: ['tests/real/**/*.test.ts', 'tests/real-cli-smoke.test.ts'],
    // A real CLI takes seconds to start and a turn runs through the fake model: minutes per test at worst.
    testTimeout: 300_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // Real TUIs are heavy (native binaries, node): two files at a time on a two-core runner.
    maxWorkers: 2,
    // A failing real-CLI test is diagnosed from its saved screens (test-results/real/), not by retrying.
    retry: 0,
  },
});
