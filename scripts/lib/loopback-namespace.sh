# Sourced by the scripts that run the real agent CLIs (test-real.sh, bench-real.sh): checks that a fresh network
# namespace with only loopback can be made here, and fails (the caller's `fail`) saying what is missing. Never skips.
require_loopback_namespace() {
  [ "$(id -u)" = 0 ] || fail "must run as root (unshare -n needs it); current uid is $(id -u)"
  command -v unshare >/dev/null 2>&1 || fail "unshare not found (util-linux)"
  command -v ip >/dev/null 2>&1 || fail "ip not found (iproute2)"
  unshare -n true 2>/dev/null || fail "unshare -n does not work here (no permission to create a network namespace)"
  unshare -n sh -c 'ip link set lo up' 2>/dev/null || fail "cannot bring loopback up inside a new network namespace"
}
