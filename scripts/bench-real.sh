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

[ "$(id -u)" = 0 ] || fail "must run as root (unshare -n needs it); current uid is $(id -u)"
command -v unshare >/dev/null 2>&1 || fail "unshare not found (util-linux)"
command -v ip >/dev/null 2>&1 || fail "ip not found (iproute2)"
unshare -n true 2>/dev/null || fail "unshare -n does not work here (no permission to create a network namespace)"
unshare -n sh -c 'ip link set lo up' 2>/dev/null || fail "cannot bring loopback up inside a new network namespace"

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
