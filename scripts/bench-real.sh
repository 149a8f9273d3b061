#!/usr/bin/env bash
# Handoff overhead on the real agent CLIs (Claude Code, Codex, Gemini CLI, OpenCode) against the fake model, cold vs
# warm (bench/real-handoff.ts; bench/README.md says what it measures).
#
#   bash scripts/bench-real.sh [--quick] [--cli claude,codex] [--n 12]
#
# 1. installs the pinned CLIs (scripts/install-real-clis.mjs; needs the npm registry, so outside the namespace),
# 2. builds cao-mcp (the hub is dist/cli/main.js, and workers run it as their MCP server),
# 3. runs the benchmark as root inside a fresh network namespace whose only interface is loopback: the CLIs try to
#    reach vendor hosts even when pointed at the fake model, and must never reach anything.
# Writes bench/results/real-handoff.json; screens and model logs of each CLI's hub go to test-results/real/bench-<cli>/.
set -euo pipefail

fail() {
  echo "bench-real: FAILED: $*" >&2
  exit 1
}

cd "$(dirname "$0")/.."

# shellcheck source=lib/loopback-namespace.sh
. scripts/lib/loopback-namespace.sh
require_loopback_namespace

started=$(date +%s)
echo "bench-real: installing the pinned CLIs (skipped when present)"
node scripts/install-real-clis.mjs claude codex gemini opencode || fail "installing the real CLIs failed"
echo "bench-real: building cao-mcp"
npm run build >/dev/null || fail "npm run build failed"

mkdir -p test-results/real
echo "bench-real: running the benchmark in a loopback-only network namespace"
set +e
unshare -n sh -c 'ip link set lo up && exec npx tsx bench/real-handoff.ts "$@"' sh "$@"
status=$?
set -e
echo "bench-real: finished in $(( $(date +%s) - started )) s with status $status (results: bench/results/real-handoff.json)"
[ "$status" = 0 ] || fail "bench/real-handoff.ts exited with status $status"
