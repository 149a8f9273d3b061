#!/usr/bin/env bash
# Proves that `npm pack` makes a package that works installed elsewhere: installing it compiles no pty
# code (the pty arrives prebuilt; only better-sqlite3 may build, where its prebuilt cannot be fetched),
# and the installed `cao-mcp demo` hands a task to a mock worker and gets the answer back.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
fail() { echo "pack-smoke: $*" >&2; exit 1; }
cd "$repo"
tgz="$(npm pack --silent --pack-destination "$work" | tail -n 1)"
cd "$work"
npm init -y >/dev/null
# Install scripts in the foreground, so the log shows every one that runs.
npm install --no-audit --no-fund --foreground-scripts "./$tgz" >install.log 2>&1 || { tail -n 40 install.log >&2; fail "npm install failed"; }
# No pty install script ran, nothing was built under a pty package, and the prebuilt binary is there.
if grep -E '^> (@lydell/)?node-pty[^@ ]*@[^ ]+ (preinstall|install|postinstall)' install.log; then fail "an install script of the pty ran"; fi
[ ! -e node_modules/node-pty ] || fail "node-pty (which compiles on install) is installed"
built="$(find node_modules -maxdepth 3 -path '*node-pty*' -name build | head -n 5)"
[ -z "$built" ] || fail "pty code was compiled on install: $built"
prebuilt="node_modules/@lydell/node-pty-$(node -p 'process.platform + "-" + process.arch')/pty.node"
[ -f "$prebuilt" ] || fail "no prebuilt pty binary at $prebuilt"
echo "pack-smoke: install built no pty code (prebuilt $prebuilt); install scripts that ran: $(grep -oE '^> [^ ]+ (preinstall|install|postinstall)$' install.log | sed 's/^> //' | paste -sd, - || true)"
out="$(CAO_HOME="$work/home" timeout 180 npx --no-install cao-mcp demo 2>&1)"
echo "$out" | tail -n 20
echo "$out" | grep -q "Handed off to developer" || fail "handoff did not succeed"
echo "$out" | grep -q "APPROVED" || fail "the reviewer's message did not arrive"
echo "pack-smoke: the packed cao-mcp works when installed elsewhere"
