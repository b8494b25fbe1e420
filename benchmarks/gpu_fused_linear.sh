#!/usr/bin/env bash
# The fused linear cross-entropy benchmark on a GPU machine, prepared to run in at most
# 5 minutes: the issue's CPU case, then a large-vocabulary bfloat16 case (V = 128k,
# N = 8192). Each case is capped at 100 s; the tables go to stdout and, when $OUT is set,
# to $OUT/gpu_fused_linear.txt. Run from the repository root:
#     bash benchmarks/gpu_fused_linear.sh
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-.venv/bin/python}"
LOG="${OUT:-/tmp}/gpu_fused_linear.txt"
: > "$LOG"
"$PYTHON" -c "import jax; print(jax.__version__, jax.devices())" | tee -a "$LOG"
run() {
    timeout 100 "$PYTHON" benchmarks/bench_fused_linear.py --repeats 5 "$@" 2>&1 | tee -a "$LOG" \
        || echo "case $* did not finish (status $?)" | tee -a "$LOG"
}
run --n 4096 --v 32768 --d 256 --dtype float32
run --n 4096 --v 32768 --d 256 --dtype bfloat16
run --n 8192 --v 131072 --d 2048 --dtype bfloat16
run --n 8192 --v 131072 --d 2048 --dtype bfloat16 --chunk-size 8192
