#!/usr/bin/env bash
# Proves that `npm pack` makes a package that works installed elsewhere: the native modules build on
# install, and the installed `cao-mcp demo` hands a task to a mock worker and gets the answer back.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cd "$repo"
tgz="$(npm pack --silent --pack-destination "$work" | tail -n 1)"
cd "$work"
npm init -y >/dev/null
npm install --no-audit --no-fund "./$tgz" >/dev/null
out="$(CAO_HOME="$work/home" timeout 180 npx --no-install cao-mcp demo 2>&1)"
echo "$out" | tail -n 20
echo "$out" | grep -q "Handed off to developer" || { echo "pack-smoke: handoff did not succeed" >&2; exit 1; }
echo "$out" | grep -q "APPROVED" || { echo "pack-smoke: the reviewer's message did not arrive" >&2; exit 1; }
echo "pack-smoke: the packed cao-mcp works when installed elsewhere"
