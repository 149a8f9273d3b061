#!/usr/bin/env bash
# End-to-end suite on the real agent CLIs (Claude Code, Codex, Gemini CLI, OpenCode, Qwen Code, Copilot CLI, Kilo Code,
# Factory Droid, pi) against the fake model.
#
#   bash scripts/test-real.sh [extra vitest args, e.g. tests/real/codex.test.ts]
#
# 1. installs the pinned CLIs (scripts/install-real-clis.mjs; needs the npm registry, so outside the namespace),
# 2. builds cao-mcp (the tests start dist/cli/main.js, and workers run it as their MCP server),
# 3. runs vitest.real.config.ts as root inside a fresh network namespace whose only interface is loopback: the
#    CLIs try to reach vendor hosts even when pointed at the fake model, and must never reach anything.
# Never skips: without root, unshare or ip it fails with a message saying what is missing.
set -euo pipefail

fail() {
  echo "test-real: FAILED: $*" >&2
  exit 1
}

cd "$(dirname "$0")/.."

# shellcheck source=lib/loopback-namespace.sh
. scripts/lib/loopback-namespace.sh
require_loopback_namespace

started=$(date +%s)
echo "test-real: installing the pinned CLIs (skipped when present)"
node scripts/install-real-clis.mjs || fail "installing the real CLIs failed"
echo "test-real: building cao-mcp"
npm run build >/dev/null || fail "npm run build failed"

rm -rf test-results/real test-results/real-cli-smoke
mkdir -p test-results/real
echo "test-real: running the suite in a loopback-only network namespace"
set +e
unshare -n sh -c 'ip link set lo up && exec npx vitest run --config vitest.real.config.ts "$@"' sh "$@"
status=$?
set -e

if [ -f test-results/real/timings.jsonl ]; then
  echo "test-real: timings (ms)"
  node -e '
    const lines = require("fs").readFileSync("test-results/real/timings.jsonl", "utf8").trim().split("\n").map(JSON.parse);
    for (const t of lines) console.log(`  ${t.cli.padEnd(13)} ${t.what.padEnd(24)} ${String(t.ms).padStart(7)}`);
  '
fi
echo "test-real: finished in $(( $(date +%s) - started )) s with status $status (screens and model logs: test-results/real/)"
[ "$status" = 0 ] || fail "vitest exited with status $status"
