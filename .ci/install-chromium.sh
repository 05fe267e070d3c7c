#!/usr/bin/env bash
# Installs Chromium (Debian package `chromium`) for the headless rendering check of the demo's HTML
# report (test/cli/demo.test.ts, scripts/render-report.sh).
#
# Idempotent: when /usr/bin/chromium exists it installs nothing. Otherwise, as root, it runs
# `apt-get update` and `apt-get install -y --no-install-recommends chromium` (set INFERLINE_NO_APT=1
# to forbid that). Exits 0 either way: a missing Chromium makes the rendering test skip with the
# reason printed, it is not a CI failure.
#
# Usage: bash .ci/install-chromium.sh
set -uo pipefail
say() { printf '== install-chromium: %s\n' "$*"; }
if [ -x /usr/bin/chromium ]; then
  say "found $(/usr/bin/chromium --version 2>/dev/null || echo /usr/bin/chromium)"
  exit 0
fi
if [ "${INFERLINE_NO_APT:-}" = 1 ]; then
  say "SKIP chromium: /usr/bin/chromium missing and INFERLINE_NO_APT=1"
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  say "SKIP chromium: /usr/bin/chromium missing and not root (apt-get needs root)"
  exit 0
fi
say "apt-get install -y chromium"
export DEBIAN_FRONTEND=noninteractive
if apt-get update -qq && apt-get install -y -qq --no-install-recommends chromium >/dev/null; then
  say "installed $(/usr/bin/chromium --version 2>/dev/null || echo chromium)"
else
  say "SKIP chromium: apt-get install failed (exit $?)"
fi
exit 0
