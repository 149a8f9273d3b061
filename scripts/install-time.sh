#!/usr/bin/env bash
# Times `npm install --no-audit --no-fund ./cao-mcp-*.tgz` (plus --timing, for the log read below)
# into an empty folder, for the `npm pack`
# tarballs of one or more commits, side by side. Each commit is checked out in a temporary git
# worktree, installed with --ignore-scripts (only to build dist/) and packed. Every tarball is
# installed once untimed first, so the npm cache holds all downloads for both; then the timed rounds
# are interleaved (a, b, a, b, ...) because a shared machine is noisy. From npm's timing log it also
# reports how long each package's install script ran (node-gyp builds), and times installing each
# commit's pty package alone, the same way.
#
# Usage: scripts/install-time.sh [-n rounds] [ref ...]
#   default: 2 rounds of 7d89bf2 (the last commit on node-pty, which compiles) and HEAD
set -euo pipefail

rounds=2
if [ "${1:-}" = "-n" ]; then rounds="$2"; shift 2; fi
[ "$#" -gt 0 ] || set -- 7d89bf2 HEAD
repo="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d)"
trees=()
cleanup() {
  for t in "${trees[@]}"; do git -C "$repo" worktree remove --force "$t" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

npm_install() { # dir, spec...: npm install into <dir>; wall seconds in <dir>/seconds, npm's logs in <dir>/logs
  local dir="$1" t0; shift
  t0="$(date +%s%N)"
  (cd "$dir" && npm install --no-audit --no-fund --timing --logs-dir="$dir/logs" "$@" >"$dir/install.log" 2>&1) ||
    { tail -n 30 "$dir/install.log" >&2; echo "install-time: npm install $* failed in $dir" >&2; exit 1; }
  awk -v a="$t0" -v b="$(date +%s%N)" 'BEGIN { printf "%.1f", (b - a) / 1e9 }' >"$dir/seconds"
}

fresh_dir() { # name: an empty folder with a package.json
  mkdir -p "$work/$1" && (cd "$work/$1" && npm init -y >/dev/null) && echo "$work/$1"
}

script_times() { # dir: "<package> <phase> <seconds>" for every install script npm ran, from its timing log
  node -e '
    const fs = require("fs"), dir = process.argv[1] + "/logs";
    const f = fs.readdirSync(dir).find((n) => n.endsWith("-timing.json"));
    const { timers } = JSON.parse(fs.readFileSync(dir + "/" + f, "utf8"));
    for (const [k, ms] of Object.entries(timers)) {
      const m = k.match(/^build:run:(\w+):node_modules\/(.+)$/);
      if (m) console.log(`${m[2]} ${m[1]} ${(ms / 1000).toFixed(1)}`);
    }' "$1"
}

labels=(); tgzs=(); ptys=()
i=0
for ref in "$@"; do
  sha="$(git -C "$repo" rev-parse --short "$ref^{commit}")"
  src="$work/src-$i"
  echo "== packing $ref ($sha)"
  git -C "$repo" worktree add --detach --quiet "$src" "$sha"
  trees+=("$src")
  (cd "$src" && npm ci --no-audit --no-fund --ignore-scripts >"$work/ci-$i.log" 2>&1) || { tail -n 30 "$work/ci-$i.log" >&2; exit 1; }
  mkdir -p "$work/pkg-$i"
  tgz="$(cd "$src" && npm pack --silent --pack-destination "$work/pkg-$i" | tail -n 1)"
  git -C "$repo" worktree remove --force "$src"
  # The pty dependency as the tarball declares it, e.g. node-pty@^1.1.0.
  pty="$(tar -xOf "$work/pkg-$i/$tgz" package/package.json |
    node -e 'const d = JSON.parse(require("fs").readFileSync(0, "utf8")).dependencies; const n = Object.keys(d).find((k) => /(^|\/)node-pty$/.test(k)); console.log(`${n}@${d[n]}`)')"
  labels+=("$sha"); tgzs+=("$work/pkg-$i/$tgz"); ptys+=("$pty")
  i=$((i + 1))
done
n=$i

install_tgz() { # index, dir
  cp "${tgzs[$1]}" "$2/"
  npm_install "$2" "./$(basename "${tgzs[$1]}")"
}

echo "== warm-up: one untimed install of each, so every download is in the npm cache"
for ((i = 0; i < n; i++)); do
  install_tgz "$i" "$(fresh_dir "warm-$i")"
  npm_install "$(fresh_dir "warm-pty-$i")" "${ptys[$i]}"
done

declare -A full alone
for ((r = 1; r <= rounds; r++)); do
  for ((i = 0; i < n; i++)); do
    d="$(fresh_dir "run-$r-$i")"
    install_tgz "$i" "$d"
    s="$(cat "$d/seconds")"; full[$r,$i]="$s"
    echo "round $r  ${labels[$i]}  npm install ./$(basename "${tgzs[$i]}"): ${s} s"
    script_times "$d" | sed 's/^/    install script: /'
    built="$(find "$d/node_modules" -maxdepth 3 -type d -name build -path '*node-pty*' | sed "s|$d/||")"
    echo "    pty compiled on install: ${built:-no (no build/ under the pty package)}"
    d="$(fresh_dir "pty-$r-$i")"
    npm_install "$d" "${ptys[$i]}"
    s="$(cat "$d/seconds")"; alone[$r,$i]="$s"
    echo "round $r  ${labels[$i]}  npm install ${ptys[$i]} (alone): ${s} s"
    script_times "$d" | sed 's/^/    install script: /'
  done
done

echo
echo "== summary (wall seconds; $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg), node $(node --version), npm $(npm --version))"
for ((i = 0; i < n; i++)); do
  line="${labels[$i]}  tarball:"
  for ((r = 1; r <= rounds; r++)); do line+=" ${full[$r,$i]}"; done
  line+="   ${ptys[$i]} alone:"
  for ((r = 1; r <= rounds; r++)); do line+=" ${alone[$r,$i]}"; done
  echo "$line"
done
