#!/usr/bin/env bash
# Run on the lent GPU machine (see README.md): install the carried wheels (PyAV, transformers
# 5.24, peft 0.21.2) beside the image's torch, then run the benchmark; results land in $OUT.
set -o pipefail
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site \
    build/gpu-wheels/*.whl || exit 1
export PYTHONPATH=/tmp/site:$PWD/src HF_HUB_OFFLINE=1 PYTHONUNBUFFERED=1 TOKENIZERS_PARALLELISM=false
OUT=${OUT:-/tmp/gpu-bench-out}
mkdir -p "$OUT"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader | tee "$OUT/gpu.txt"
python3 benchmarks/gpu/run.py --out "$OUT/gpu.json" "$@" 2>&1 | tee "$OUT/log.txt"
