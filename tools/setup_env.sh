#!/usr/bin/env bash
# Create (or bring up to date) the project's virtual environment.
#
# Usage: tools/setup_env.sh            # venv in ./.venv
#        VENV=/path/to/venv tools/setup_env.sh
#
# Environment variables:
#   VENV                    where the virtual environment lives (default: <repo>/.venv)
#   PYTHON                  interpreter used to create it (default: python3)
#   MMSEG_SPML_WHEEL_CACHE  where the built mmcv wheel is cached, outside the repo
#                           (default: ${XDG_CACHE_HOME:-~/.cache}/mmseg-spml/wheels)
#   MMSEG_SPML_SKIP_TORCH   set to 1 to keep an already installed torch (e.g. a CUDA build)
#   FORCE_CUDA, MAX_JOBS    passed to the mmcv build (default: CPU ops, all cores)
#
# mmcv 2.1.0 (required by mmsegmentation 1.2.2) has no wheel for current torch, so it is
# built once from the sdist with CPU ops (~25-35 min on 2 cores) and the wheel is cached,
# keyed by python and torch version; later runs reuse the wheel in seconds.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${VENV:-$ROOT/.venv}"
PYTHON="${PYTHON:-python3}"
CACHE="${MMSEG_SPML_WHEEL_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/mmseg-spml/wheels}"
MMCV_VERSION=2.1.0

log() { printf '[setup_env] %s\n' "$*" >&2; }

if [ ! -x "$VENV/bin/python" ]; then
    log "creating virtual environment $VENV"
    "$PYTHON" -m venv "$VENV"
fi
PY="$VENV/bin/python"
PIP=("$PY" -m pip --disable-pip-version-check)

# A stamp of every requirements file lets `make` skip a complete environment at once.
stamp_of() {
    cat "$ROOT"/requirements/*.txt "$ROOT/setup.py" "$ROOT/tools/setup_env.sh" 2>/dev/null \
        | sha256sum | cut -c1-16
}
STAMP="$VENV/.mmseg_spml_stamp"
if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$(stamp_of)" ] \
        && "$PY" -c 'import mmcv.ops, mmseg, mmseg_spml' 2>/dev/null; then
    log "environment $VENV is up to date"
    exit 0
fi

# One resolver run for both files: torch otherwise pulls in a setuptools without pkg_resources.
REQS=(-r "$ROOT/requirements/build.txt")
if [ "${MMSEG_SPML_SKIP_TORCH:-0}" != 1 ]; then
    REQS+=(-r "$ROOT/requirements/torch.txt")
fi
"${PIP[@]}" install -q "${REQS[@]}"

# A failed or interrupted build leaves no half-built folder behind.
BUILD_TMP=""
trap '[ -z "$BUILD_TMP" ] || rm -rf "$BUILD_TMP"' EXIT

ensure_mmcv() {
    if "$PY" - "$MMCV_VERSION" <<'EOF' 2>/dev/null; then
import sys
import mmcv
import mmcv.ops  # noqa: F401  compiled ops are required by mmseg
sys.exit(0 if mmcv.__version__ == sys.argv[1] else 1)
EOF
        log "mmcv $MMCV_VERSION with compiled ops already installed"
        return
    fi
    local key
    key="$("$PY" -c 'import sys, torch; print("py%d.%d-torch%s" % (sys.version_info[:2] + (torch.__version__.replace("+", "_"),)))')"
    local dir="$CACHE/$key"
    local wheel
    wheel="$(ls "$dir"/mmcv-"$MMCV_VERSION"-*.whl 2>/dev/null | head -n 1 || true)"
    if [ -z "$wheel" ]; then
        log "no cached mmcv wheel for $key: building mmcv $MMCV_VERSION from source"
        log "(CPU ops; about 25-35 minutes on 2 cores, done once per machine)"
        mkdir -p "$dir"
        BUILD_TMP="$(mktemp -d "$dir/.build.XXXXXX")"
        local tmp="$BUILD_TMP"
        MMCV_WITH_OPS=1 FORCE_CUDA="${FORCE_CUDA:-0}" MAX_JOBS="${MAX_JOBS:-$(nproc)}" \
            "${PIP[@]}" wheel --no-deps --no-build-isolation -w "$tmp" "mmcv==$MMCV_VERSION"
        local built
        built="$(ls "$tmp"/mmcv-*.whl)"
        mv "$built" "$dir/"  # same file system: atomic, never a half-written wheel
        wheel="$dir/$(basename "$built")"
    fi
    log "installing $wheel"
    "${PIP[@]}" install -q --no-deps --force-reinstall "$wheel"
}
ensure_mmcv

"${PIP[@]}" install -q -r "$ROOT/requirements/runtime.txt" -r "$ROOT/requirements/tests.txt" \
    -r "$ROOT/requirements/optional.txt"
"${PIP[@]}" install -q --no-deps -r "$ROOT/requirements/mim.txt"
"${PIP[@]}" install -q --no-deps --no-build-isolation -e "$ROOT"
"$PY" -c 'import mmcv.ops, mmseg, mmseg_spml' || {
    log "the environment is incomplete: 'import mmcv.ops, mmseg, mmseg_spml' failed"
    exit 1
}
stamp_of > "$STAMP"
log "environment ready: $VENV"
