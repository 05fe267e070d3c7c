#!/usr/bin/env bash
# Installs the REAL model servers that test/integration/servers.test.ts starts:
#   - TorchServe 0.12.0 (Java frontend + Python workers; CPU torch 2.13.0 from this machine's disk)
#   - Triton 2.51.0, the `tritonserver` binary shipped inside the PyPI wheel nvidia-pytriton 0.7.0,
#     run directly with the python backend only (see shared/reference/real-servers.md §1.5).
#
# Idempotent: a second run checks what is there and installs nothing new. Safe to rerun after a
# partial failure. Never fails silently: every step prints a line, every server that cannot be
# installed prints `SKIP <server>: <reason>`, and the outcome is written to .ci/venv/servers.json,
# which the integration tests read. The script exits 0 whenever it could write that file (a
# server that cannot be installed is a reported skip, not a CI failure); it exits 1 only when the
# file itself could not be written. Set INFERLINE_REQUIRE_REAL_SERVERS=1 to exit 1 on any SKIP.
# Without Java 11+, it runs `apt-get update` and installs openjdk-17-jre-headless (as root; set
# INFERLINE_NO_APT=1 to forbid that).
#
# Usage: bash .ci/install-servers.sh
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
VENV=.ci/venv
STATUS=$VENV/servers.json
TORCH_VER=2.13.0
TS_VER=0.12.0
PYTRITON_VER=0.7.0
start_s=$(date +%s)

say() { printf '== install-servers: %s\n' "$*"; }
json_str() { # JSON-escape one string (quotes, backslashes, control characters)
  python3 -c 'import json,sys; print(json.dumps(sys.argv[1]))' "$1"
}

ts_ok=false;  ts_reason="not attempted"
tr_ok=false;  tr_reason="not attempted"
java_bin=""; java_ver=""

# ---------------------------------------------------------------- Python + venv
PY=$(command -v python3 || true)
venv_ok=false
if [ -z "$PY" ]; then
  ts_reason="python3 not found"; tr_reason="python3 not found"
else
  say "python: $PY ($("$PY" --version 2>&1))"
  if [ -x "$VENV/bin/python" ] && "$VENV/bin/python" -c 'import sys' 2>/dev/null; then
    say "venv $VENV exists"
    venv_ok=true
  else
    say "creating venv $VENV"
    rm -rf "$VENV"
    if "$PY" -m venv "$VENV"; then venv_ok=true; else
      ts_reason="python3 -m venv failed"; tr_reason="python3 -m venv failed"
    fi
  fi
fi
VPY=$ROOT/$VENV/bin/python
PIP=("$VPY" -m pip --disable-pip-version-check --no-input)

pip_install() { # pip install, minus this machine's notes about absent local wheel folders
  "${PIP[@]}" install -q "$@" 2>&1 | grep -v "^WARNING: Location 'file://.*' is ignored"
  return "${PIPESTATUS[0]}"
}

have() { # have DIST VERSION -> 0 when that exact version is installed in the venv
  "$VPY" - "$1" "$2" <<'EOF' 2>/dev/null
import sys, importlib.metadata as m
try:
    # a local version label counts: the CPU wheel of torch reports "2.13.0+cpu"
    sys.exit(0 if m.version(sys.argv[1]).split("+")[0] == sys.argv[2] else 1)
except m.PackageNotFoundError:
    sys.exit(1)
EOF
}

# ---------------------------------------------------------------- Java (TorchServe frontend)
find_java() {
  local j
  j=$(command -v java || true)
  [ -n "$j" ] || return 1
  java_ver=$("$j" -version 2>&1 | head -n 1)
  local major
  major=$(printf '%s' "$java_ver" | sed -nE 's/.*version "([0-9]+)(\.[0-9]+)*.*/\1/p')
  [ -n "$major" ] && [ "$major" -ge 11 ] || return 1
  java_bin=$j
}
if find_java; then
  say "java: $java_bin ($java_ver)"
else
  if [ "${INFERLINE_NO_APT:-0}" != 1 ] && command -v apt-get >/dev/null && [ "$(id -u)" = 0 ]; then
    say "java 11+ not found; apt-get update && apt-get install openjdk-17-jre-headless"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openjdk-17-jre-headless \
      || say "apt-get install openjdk-17-jre-headless failed"
  else
    say "java 11+ not found (apt-get not used: needs root and INFERLINE_NO_APT unset)"
  fi
  find_java && say "java: $java_bin ($java_ver)"
fi

# ---------------------------------------------------------------- TorchServe
install_torchserve() {
  if [ -z "$java_bin" ]; then ts_reason="no Java 11+ runtime (need openjdk-17)"; return 1; fi
  if have torch "$TORCH_VER"; then say "torch $TORCH_VER already installed"
  else
    # The CPU wheel of torch 2.13.0 lies on this machine's disk; any other version pulls GBs.
    # numpy<2 first: torch warns at import without numpy, and Triton's models need numpy<2.
    say "pip install torch==$TORCH_VER (the CPU wheel on disk) 'numpy>=1.21,<2'"
    pip_install "torch==$TORCH_VER" 'numpy>=1.21,<2' || { ts_reason="pip install torch==$TORCH_VER failed"; return 1; }
    if "$VPY" -c 'import torch,sys; sys.exit(0 if torch.version.cuda is None else 1)'; then :; else
      say "WARNING: the installed torch is a CUDA build"
    fi
  fi
  if have torchserve "$TS_VER" && have torch-model-archiver "$TS_VER" && "$VPY" -c 'import yaml' 2>/dev/null; then
    say "torchserve $TS_VER, torch-model-archiver $TS_VER, pyyaml already installed"
  else
    say "pip install torchserve==$TS_VER torch-model-archiver==$TS_VER pyyaml"
    # torch is pinned again so that no dependency resolution can replace the CPU build.
    pip_install "torch==$TORCH_VER" "torchserve==$TS_VER" "torch-model-archiver==$TS_VER" pyyaml \
      || { ts_reason="pip install torchserve==$TS_VER failed"; return 1; }
  fi
  [ -x "$VENV/bin/torchserve" ] || { ts_reason="$VENV/bin/torchserve missing after install"; return 1; }
  [ -x "$VENV/bin/torch-model-archiver" ] || { ts_reason="$VENV/bin/torch-model-archiver missing after install"; return 1; }
  local err
  if ! err=$("$VPY" -c 'import torch, yaml, ts.protocol.otf_message_handler' 2>&1); then
    ts_reason="worker imports fail: $(printf '%s' "$err" | tail -n 1)"; return 1
  fi
  # Smoke start: the JVM frontend must answer /ping (with the inference key: token auth is on).
  local tmp ports log pid i ready=false key
  tmp=$(mktemp -d "${TMPDIR:-/tmp}/inferline-install-torchserve-XXXXXX"); log=$tmp/torchserve.log; mkdir -p "$tmp/store" "$tmp/logs" "$tmp/tmp" "$tmp/cwd"
  ports=$("$VPY" -c 'import socket
ss=[socket.socket() for _ in range(5)]
[s.bind(("127.0.0.1",0)) for s in ss]
print(" ".join(str(s.getsockname()[1]) for s in ss))')
  set -- $ports
  cat >"$tmp/config.properties" <<EOF
inference_address=http://127.0.0.1:$1
management_address=http://127.0.0.1:$2
metrics_address=http://127.0.0.1:$3
grpc_inference_address=127.0.0.1
grpc_management_address=127.0.0.1
grpc_inference_port=$4
grpc_management_port=$5
model_store=$tmp/store
number_of_gpu=0
disable_system_metrics=true
vmargs=-Xmx256m
EOF
  ( cd "$tmp/cwd" && exec env -u CUDA_VISIBLE_DEVICES TMPDIR="$tmp/tmp" TEMP="$tmp/tmp" LOG_LOCATION="$tmp/logs" \
      METRICS_LOCATION="$tmp/logs" PATH="$ROOT/$VENV/bin:$PATH" setsid "$ROOT/$VENV/bin/torchserve" --start \
      --foreground --ncs --ts-config "$tmp/config.properties" ) >"$log" 2>&1 &
  pid=$!
  for i in $(seq 1 120); do
    if [ -f "$tmp/cwd/key_file.json" ]; then
      key=$("$VPY" -c 'import json,sys;print(json.load(open(sys.argv[1]))["inference"]["key"])' "$tmp/cwd/key_file.json" 2>/dev/null)
      if curl -sf -H "Authorization: Bearer $key" "http://127.0.0.1:$1/ping" >/dev/null 2>&1; then ready=true; break; fi
    fi
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.5
  done
  kill -TERM -- "-$pid" 2>/dev/null; for i in $(seq 1 60); do kill -0 -- "-$pid" 2>/dev/null || break; sleep 0.25; done
  kill -KILL -- "-$pid" 2>/dev/null; wait "$pid" 2>/dev/null
  if ! $ready; then
    ts_reason="torchserve did not answer /ping: $(grep -iE 'error|exception' "$log" | head -n 3 | tr '\n' ' ')"
    say "smoke log kept at $log"; return 1
  fi
  say "torchserve smoke start OK (/ping 200 with the inference key on 127.0.0.1:$1)"
  rm -rf "$tmp"
  return 0
}

# ---------------------------------------------------------------- Triton
TS_DIR=""; TR_BIN=""; TR_BACKENDS=""; TR_LIBS=""; PYLIB=""
install_triton() {
  local mach; mach=$(uname -m)
  if [ "$mach" != x86_64 ] && [ "$mach" != aarch64 ]; then tr_reason="no nvidia-pytriton wheel for $mach"; return 1; fi
  # numpy<2 is what nvidia-pytriton 0.7.0 declares; the python-backend models import it.
  if "$VPY" -c 'import numpy,sys; sys.exit(0 if int(numpy.__version__.split(".")[0]) < 2 else 1)' 2>/dev/null; then
    say "numpy $("$VPY" -c 'import numpy;print(numpy.__version__)') already installed"
  else
    say "pip install 'numpy>=1.21,<2'"
    pip_install 'numpy>=1.21,<2' || { tr_reason="pip install numpy<2 failed"; return 1; }
  fi
  if have nvidia-pytriton "$PYTRITON_VER"; then say "nvidia-pytriton $PYTRITON_VER already installed"
  else
    # --no-deps: only the tritonserver binary, its libraries and the python backend are used,
    # not PyTriton's Python API (grpc, tritonclient, zmq...). A later `pip install` into this
    # venv prints a resolver ERROR listing those missing dependencies: expected and harmless.
    say "pip install --no-deps nvidia-pytriton==$PYTRITON_VER"
    pip_install --no-deps "nvidia-pytriton==$PYTRITON_VER" || {
      tr_reason="pip install nvidia-pytriton==$PYTRITON_VER failed (the wheel needs glibc >= 2.35; this machine: $(ldd --version 2>&1 | head -n1))"; return 1; }
  fi
  local site pyver
  site=$("$VPY" -c 'import sysconfig;print(sysconfig.get_paths()["purelib"])')
  pyver=$("$VPY" -c 'import sys;print("%d.%d"%sys.version_info[:2])')
  PYLIB=$("$VPY" -c 'import sysconfig;print(sysconfig.get_config_var("LIBDIR"))')
  TS_DIR=$site/pytriton/tritonserver
  TR_BIN=$TS_DIR/bin/tritonserver
  TR_BACKENDS=$TS_DIR/backends
  TR_LIBS=$site/nvidia_pytriton.libs
  [ -f "$TR_BIN" ] || { tr_reason="$TR_BIN missing from the wheel"; return 1; }
  local stub_src=$TS_DIR/python_backend_stubs/$pyver/triton_python_backend_stub
  local stub_dst=$TR_BACKENDS/python/triton_python_backend_stub
  [ -f "$stub_src" ] || { tr_reason="no python backend stub for Python $pyver in the wheel"; return 1; }
  # The backend looks for the stub beside libtriton_python.so; the wheel keeps one per Python
  # version. Copying inside site-packages keeps the stub's relative RPATH to nvidia_pytriton.libs.
  if cmp -s "$stub_src" "$stub_dst"; then say "python backend stub already in place"
  else say "placing python backend stub ($pyver) in $stub_dst"; cp "$stub_src" "$stub_dst" || { tr_reason="cannot copy the stub"; return 1; }
  fi
  chmod +x "$TR_BIN" "$stub_dst"
  if [ ! -f "$PYLIB/libpython$pyver.so.1.0" ]; then
    tr_reason="libpython$pyver.so.1.0 not in $PYLIB (the stub embeds a shared libpython)"; return 1
  fi
  # Does the binary even start here (no GPU, no driver)?
  local out
  out=$(LD_LIBRARY_PATH="$TR_LIBS:$PYLIB" timeout 30 "$TR_BIN" --help 2>&1)
  if ! printf '%s' "$out" | grep -q -- '--model-control-mode'; then
    tr_reason="tritonserver --help does not run: $(printf '%s' "$out" | head -n 2 | tr '\n' ' ')"; return 1
  fi
  # Smoke start: an empty repository in explicit mode must reach /v2/health/ready on CPU.
  local tmp port log pid i ready=false
  tmp=$(mktemp -d "${TMPDIR:-/tmp}/inferline-install-triton-XXXXXX"); log=$tmp/triton.log; mkdir -p "$tmp/repo"
  port=$("$VPY" -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])')
  PATH="$ROOT/$VENV/bin:$PATH" LD_LIBRARY_PATH="$TR_LIBS:$PYLIB" setsid "$TR_BIN" \
    --model-repository="$tmp/repo" --backend-directory="$TR_BACKENDS" --model-control-mode=explicit \
    --http-address=127.0.0.1 --http-port="$port" --allow-grpc=false --allow-metrics=false \
    --allow-gpu-metrics=false --exit-timeout-secs=2 >"$log" 2>&1 &
  pid=$!
  for i in $(seq 1 60); do
    if curl -sf "http://127.0.0.1:$port/v2/health/ready" >/dev/null 2>&1; then ready=true; break; fi
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.5
  done
  kill -TERM -- "-$pid" 2>/dev/null; for i in $(seq 1 60); do kill -0 -- "-$pid" 2>/dev/null || break; sleep 0.25; done
  kill -KILL -- "-$pid" 2>/dev/null; wait "$pid" 2>/dev/null
  if ! $ready; then
    tr_reason="tritonserver did not become ready on CPU: $(grep -E 'error|Error|fail' "$log" | head -n 3 | tr '\n' ' ')"
    say "smoke log kept at $log"; return 1
  fi
  say "tritonserver smoke start OK (ready on 127.0.0.1:$port, $(grep -m1 -o 'server_version[^|]*|[^|]*' "$log" | tr -s ' ' || true))"
  rm -rf "$tmp"
  return 0
}

if $venv_ok; then
  if install_torchserve; then ts_ok=true; ts_reason=""; say "torchserve OK"; else say "SKIP torchserve: $ts_reason"; fi
  if install_triton; then tr_ok=true; tr_reason=""; say "triton OK"; else say "SKIP triton: $tr_reason"; fi
else
  say "SKIP torchserve: $ts_reason"; say "SKIP triton: $tr_reason"
fi

# ---------------------------------------------------------------- status file
mkdir -p "$VENV"
{
  printf '{\n'
  printf '  "generatedBy": ".ci/install-servers.sh",\n'
  printf '  "generatedAt": %s,\n' "$(json_str "$(date -u +%Y-%m-%dT%H:%M:%SZ)")"
  printf '  "venv": %s,\n' "$(json_str "$ROOT/$VENV")"
  printf '  "torchserve": {"ok": %s, "reason": %s, "version": %s, "bin": %s, "archiver": %s, "java": %s},\n' \
    "$ts_ok" "$(json_str "$ts_reason")" "$(json_str "$TS_VER")" \
    "$(json_str "$ROOT/$VENV/bin/torchserve")" "$(json_str "$ROOT/$VENV/bin/torch-model-archiver")" \
    "$(json_str "$java_bin")"
  printf '  "triton": {"ok": %s, "reason": %s, "version": "2.51.0", "bin": %s, "backendDir": %s, "ldLibraryPath": %s, "pathPrepend": %s}\n' \
    "$tr_ok" "$(json_str "$tr_reason")" "$(json_str "$TR_BIN")" "$(json_str "$TR_BACKENDS")" \
    "$(json_str "${TR_LIBS:+$TR_LIBS:$PYLIB}")" "$(json_str "$ROOT/$VENV/bin")"
  printf '}\n'
} >"$STATUS.tmp" && mv "$STATUS.tmp" "$STATUS" || { say "ERROR: cannot write $STATUS"; exit 1; }
say "wrote $STATUS"
say "venv size: $(du -sh "$VENV" 2>/dev/null | cut -f1); took $(( $(date +%s) - start_s )) s"
if [ "${INFERLINE_REQUIRE_REAL_SERVERS:-0}" = 1 ] && { ! $ts_ok || ! $tr_ok; }; then
  say "INFERLINE_REQUIRE_REAL_SERVERS=1 and a server is unavailable"; exit 1
fi
exit 0
