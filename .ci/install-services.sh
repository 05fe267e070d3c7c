#!/usr/bin/env bash
# Installs the REAL services that test/integration starts itself (each on free loopback ports,
# with its data in a temp dir):
#   - etcd (Debian package etcd-server; bookworm ships 3.4.23), for the etcd coordination backend.
#
# Idempotent: when `etcd` is already on PATH nothing is installed; otherwise `apt-get update` runs
# once and then `apt-get install -y etcd-server`. Never fails silently: every step prints a line,
# a service that cannot be installed or started prints `SKIP <service>: <reason>`, and the outcome
# is written to .ci/out/services.json, which the integration tests read (a test that skips prints
# that reason). Exits 0 whenever it could write that file (a missing service is a reported skip,
# not a CI failure); exits 1 only when the file itself could not be written. Set
# INFERLINE_REQUIRE_SERVICES=1 to exit 1 on any SKIP, and INFERLINE_NO_APT=1 to forbid apt-get.
#
# Usage: bash .ci/install-services.sh
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
OUT=.ci/out
STATUS=$OUT/services.json
start_s=$(date +%s)

say() { printf '== install-services: %s\n' "$*"; }
json_str() { # JSON-escape one string (quotes, backslashes, control characters)
  python3 -c 'import json,sys; print(json.dumps(sys.argv[1]))' "$1" 2>/dev/null \
    || printf '"%s"' "$(printf '%s' "$1" | sed 's/\\/\\\\/g; s/"/\\"/g' | tr -d '\000-\037')"
}

etcd_ok=false; etcd_reason="not attempted"; etcd_bin=""; etcd_version=""
apt_updated=false

apt_install() { # apt_install PACKAGE...: apt-get update once per run, then install
  if [ "${INFERLINE_NO_APT:-0}" = 1 ]; then say "apt-get not used: INFERLINE_NO_APT=1"; return 1; fi
  if ! command -v apt-get >/dev/null; then say "apt-get not found"; return 1; fi
  if [ "$(id -u)" != 0 ]; then say "apt-get not used: needs root (running as $(id -un))"; return 1; fi
  if ! $apt_updated; then
    say "apt-get update"
    apt-get update -qq || { say "apt-get update failed"; return 1; }
    apt_updated=true
  fi
  say "apt-get install -y $*"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" \
    || { say "apt-get install $* failed"; return 1; }
}

free_ports() { # free_ports N: N free TCP ports on 127.0.0.1
  python3 -c 'import socket,sys
ss=[socket.socket() for _ in range(int(sys.argv[1]))]
[s.bind(("127.0.0.1",0)) for s in ss]
print(" ".join(str(s.getsockname()[1]) for s in ss))' "$1"
}

# ---------------------------------------------------------------- etcd
install_etcd() {
  etcd_bin=$(command -v etcd || true)
  if [ -n "$etcd_bin" ]; then
    say "etcd already installed: $etcd_bin"
  else
    say "etcd not found on PATH; installing the Debian package etcd-server"
    apt_install etcd-server || { etcd_reason="etcd not installed and apt-get install etcd-server failed or was not allowed"; return 1; }
    etcd_bin=$(command -v etcd || true)
    [ -n "$etcd_bin" ] || { etcd_reason="etcd-server installed but no etcd on PATH"; return 1; }
  fi
  etcd_version=$("$etcd_bin" --version 2>&1 | sed -nE 's/^etcd Version: *//p' | head -n 1)
  [ -n "$etcd_version" ] || { etcd_reason="etcd --version does not run: $("$etcd_bin" --version 2>&1 | head -n 1)"; return 1; }
  say "etcd version $etcd_version"
  # The package may start a system etcd on the default ports; the tests never use it (they start
  # their own on free ports), so it is only reported.
  if pgrep -x etcd >/dev/null 2>&1; then say "note: an etcd process is already running (pids $(pgrep -x etcd | tr '\n' ' ')); the tests start their own"; fi

  # Smoke start: a one-member cluster on free loopback ports must answer /health.
  local tmp log pid i ready=false client peer
  tmp=$(mktemp -d "${TMPDIR:-/tmp}/inferline-install-etcd-XXXXXX"); log=$tmp/etcd.log
  # shellcheck disable=SC2046
  set -- $(free_ports 2); client=$1; peer=$2
  local arch_env=()  # etcd 3.4 refuses arm64 unless told it is fine
  [ "$(uname -m)" = aarch64 ] && arch_env=(ETCD_UNSUPPORTED_ARCH=arm64)
  env "${arch_env[@]}" setsid "$etcd_bin" --name smoke --data-dir "$tmp/data" \
    --listen-client-urls "http://127.0.0.1:$client" --advertise-client-urls "http://127.0.0.1:$client" \
    --listen-peer-urls "http://127.0.0.1:$peer" --initial-advertise-peer-urls "http://127.0.0.1:$peer" \
    --initial-cluster "smoke=http://127.0.0.1:$peer" >"$log" 2>&1 &
  pid=$!
  for i in $(seq 1 60); do
    if curl -sf "http://127.0.0.1:$client/health" 2>/dev/null | grep -q '"health":"true"'; then ready=true; break; fi
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.25
  done
  kill -TERM -- "-$pid" 2>/dev/null; for i in $(seq 1 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
  kill -KILL -- "-$pid" 2>/dev/null; wait "$pid" 2>/dev/null
  if ! $ready; then
    etcd_reason="etcd did not answer /health: $(grep -iE 'error|fatal|panic' "$log" | head -n 3 | tr '\n' ' ')"
    say "smoke log kept at $log"; return 1
  fi
  say "etcd smoke start OK (/health true on 127.0.0.1:$client)"
  rm -rf "$tmp"
}

if ! command -v python3 >/dev/null || ! command -v curl >/dev/null; then
  etcd_reason="the smoke start needs python3 and curl"
  say "SKIP etcd: $etcd_reason"
elif install_etcd; then
  etcd_ok=true; etcd_reason=""; say "etcd OK"
else
  say "SKIP etcd: $etcd_reason"
fi

# ---------------------------------------------------------------- status file
mkdir -p "$OUT" || { say "ERROR: cannot create $OUT"; exit 1; }
{
  printf '{\n'
  printf '  "generatedBy": ".ci/install-services.sh",\n'
  printf '  "generatedAt": %s,\n' "$(json_str "$(date -u +%Y-%m-%dT%H:%M:%SZ)")"
  printf '  "etcd": {"ok": %s, "reason": %s, "bin": %s, "version": %s}\n' \
    "$etcd_ok" "$(json_str "$etcd_reason")" "$(json_str "$etcd_bin")" "$(json_str "$etcd_version")"
  printf '}\n'
} >"$STATUS.tmp" && mv "$STATUS.tmp" "$STATUS" || { say "ERROR: cannot write $ROOT/$STATUS"; exit 1; }
say "wrote $STATUS; took $(( $(date +%s) - start_s )) s"
if [ "${INFERLINE_REQUIRE_SERVICES:-0}" = 1 ] && ! $etcd_ok; then
  say "INFERLINE_REQUIRE_SERVICES=1 and a service is unavailable"; exit 1
fi
exit 0
