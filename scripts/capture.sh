#!/usr/bin/env bash
# Records reference screens of a pinned real agent CLI against the fake model (tests/fixtures/README.md).
#
#   npm run capture -- <claude_code|codex|gemini_cli|opencode|qwen_code|copilot_cli|kilo_code|droid|pi|claude|gemini|qwen|copilot|kilo|all> [standard|question|all] [--out <dir>]
#
# 1. installs the pinned CLI (scripts/install-real-clis.mjs; needs the npm registry, so outside the namespace),
# 2. runs scripts/capture.ts (with tsx) as root inside a fresh network namespace whose only interface is
#    loopback: the CLIs try to reach vendor hosts even when pointed at the fake model.
# Never skips: without root, unshare or ip it fails with a message saying what is missing.
set -euo pipefail

fail() {
  echo "capture: FAILED: $*" >&2
  exit 1
}

cd "$(dirname "$0")/.."

[ "$#" -ge 1 ] || fail "usage: npm run capture -- <cli> [scenario|all] [--out <dir>]"
[ "$(id -u)" = 0 ] || fail "must run as root (unshare -n needs it); current uid is $(id -u)"
command -v unshare >/dev/null 2>&1 || fail "unshare not found (util-linux)"
command -v ip >/dev/null 2>&1 || fail "ip not found (iproute2)"
unshare -n true 2>/dev/null || fail "unshare -n does not work here (no permission to create a network namespace)"
unshare -n sh -c 'ip link set lo up' 2>/dev/null || fail "cannot bring loopback up inside a new network namespace"
[ -x node_modules/.bin/tsx ] || fail "tsx not found in node_modules: run npm install"

case "$1" in
  claude_code | claude) clis=claude ;;
  gemini_cli | gemini) clis=gemini ;;
  qwen_code | qwen) clis=qwen ;;
  copilot_cli | copilot) clis=copilot ;;
  kilo_code | kilo) clis=kilo ;;
  codex | opencode | droid | pi) clis=$1 ;;
  all) clis="claude codex gemini opencode qwen copilot kilo droid pi" ;;
  *) fail "unknown CLI \"$1\" (claude_code, codex, gemini_cli, opencode, qwen_code, copilot_cli, kilo_code, droid, pi, or all)" ;;
esac
# shellcheck disable=SC2086 # one argument per CLI
node scripts/install-real-clis.mjs $clis || fail "installing the pinned CLI failed"

unshare -n sh -c 'ip link set lo up && exec node_modules/.bin/tsx scripts/capture.ts "$@"' sh "$@"
