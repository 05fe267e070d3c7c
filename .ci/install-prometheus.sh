#!/usr/bin/env bash
# Installs the REAL Prometheus that test/integration/prometheus.test.ts starts (Debian package
# `prometheus`), and writes what it found to .ci/out/prometheus.json, which the test reads.
#
# Idempotent: when a `prometheus` binary is already on PATH it installs nothing. Otherwise it runs
# `apt-get update` once and `apt-get install -y --no-install-recommends prometheus` (as root; set
# INFERLINE_NO_APT=1 to forbid that). The package's service is not started: where no
# /usr/sbin/policy-rc.d exists, one that refuses service starts is put in place for the install
# and removed afterwards (the test runs its own Prometheus on a free port).
#
# Never fails silently: every step prints a line; when Prometheus cannot be installed it prints
# `SKIP prometheus: <reason>` and records the reason. Exits 0 whenever it could write the status
# file (an absent Prometheus is a reported skip, not a CI failure), 1 when it could not. Set
# INFERLINE_REQUIRE_PROMETHEUS=1 to exit 1 on a SKIP as well.
#
# Usage: bash .ci/install-prometheus.sh
set -uo pipefail
cd "$(dirname "$0")/.."
OUT_DIR=.ci/out
STATUS=$OUT_DIR/prometheus.json
start_s=$(date +%s)

say() { printf '== install-prometheus: %s\n' "$*"; }
json_str() { # a JSON string literal: quotes, backslashes and control characters escaped
  local s=$1
  s=${s//\\/\\\\}; s=${s//\"/\\\"}; s=${s//$'\n'/\\n}; s=${s//$'\r'/\\r}; s=${s//$'\t'/\\t}
  printf '"%s"' "$s"
}

ok=false
reason=""
bin=$(command -v prometheus || true)

if [ -n "$bin" ]; then
  say "found $bin: nothing to install"
elif [ "${INFERLINE_NO_APT:-}" = 1 ]; then
  reason="prometheus is not installed and INFERLINE_NO_APT=1 forbids apt-get"
elif ! command -v apt-get >/dev/null 2>&1; then
  reason="prometheus is not installed and apt-get is not available (install Prometheus 2.x and put it on PATH)"
elif [ "$(id -u)" != 0 ]; then
  reason="prometheus is not installed and apt-get needs root (run: sudo apt-get install -y prometheus)"
else
  made_policy=false
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    say "adding /usr/sbin/policy-rc.d for the install, so that the package does not start its service"
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d && made_policy=true
  fi
  say "apt-get update"
  if ! DEBIAN_FRONTEND=noninteractive apt-get update -q; then
    reason="apt-get update failed (see the output above)"
  else
    say "apt-get install -y --no-install-recommends prometheus"
    if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends prometheus; then
      reason="apt-get install prometheus failed (see the output above)"
    fi
  fi
  if [ "$made_policy" = true ]; then
    rm -f /usr/sbin/policy-rc.d
    say "removed /usr/sbin/policy-rc.d"
  fi
  bin=$(command -v prometheus || true)
  if [ -z "$bin" ] && [ -z "$reason" ]; then reason="apt-get installed prometheus but no prometheus binary is on PATH"; fi
fi

version=""
if [ -n "$bin" ]; then
  if version=$("$bin" --version 2>&1 | head -n 1); then
    ok=true
    say "ready: $version ($bin)"
  else
    reason="$bin --version failed: $version"
    version=""
  fi
fi
if [ "$ok" != true ]; then
  printf 'SKIP prometheus: %s\n' "$reason"
fi

mkdir -p "$OUT_DIR" || { echo "install-prometheus: cannot create $OUT_DIR"; exit 1; }
if ! printf '{"prometheus": {"ok": %s, "reason": %s, "bin": %s, "version": %s}}\n' \
  "$ok" "$(json_str "$reason")" "$(json_str "$bin")" "$(json_str "$version")" > "$STATUS"; then
  echo "install-prometheus: cannot write $STATUS"
  exit 1
fi
say "wrote $STATUS ($(( $(date +%s) - start_s )) s)"
if [ "$ok" != true ] && [ "${INFERLINE_REQUIRE_PROMETHEUS:-}" = 1 ]; then exit 1; fi
exit 0
