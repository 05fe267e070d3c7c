#!/usr/bin/env bash
# Renders an HTML report (default: inferline-report.html, what `inferline demo` writes) with
# headless Chromium into a PNG, and checks that the PNG is not trivial (a few KiB at least).
# Chromium: bash .ci/install-chromium.sh.
#
# Usage: scripts/render-report.sh [REPORT.html] [OUT.png]
set -euo pipefail
report=$(realpath "${1:-inferline-report.html}")
out=${2:-${report%.html}.png}
chromium=${CHROMIUM:-/usr/bin/chromium}
if [ ! -x "$chromium" ]; then
  echo "SKIP: $chromium not found (bash .ci/install-chromium.sh installs it)" >&2
  exit 3
fi
profile=$(mktemp -d)
trap 'rm -rf "$profile"' EXIT
timeout 60 "$chromium" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run --disable-background-networking \
  --disable-component-update --disable-sync --disable-dev-shm-usage --hide-scrollbars --user-data-dir="$profile" \
  --screenshot="$(realpath -m "$out")" --window-size=1280,2000 "file://$report" >/dev/null 2>&1
size=$(stat -c %s "$out")
if [ "$size" -lt 20000 ]; then
  echo "FAIL: $out is only $size bytes: the page did not render" >&2
  exit 1
fi
echo "rendered $report → $out ($size bytes)"
