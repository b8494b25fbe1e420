#!/usr/bin/env bash
# The fused linear cross-entropy benchmark on a GPU machine, prepared to run in at most
# 5 minutes (each case capped, 300 s in all): XLA's temporaries over V = 32k, 64k, 128k
# (compiled, not run), the issue's CPU case in float32, the large-vocabulary bfloat16 case
# (N = 8192, V = 131072, D = 2048) with the default and with 8192-column chunks, and at that
# size the new options (softcap, sample weights, return_lse) and fused distillation against
# the plain fused loss. The tables go to stdout and, when $OUT is set, to
# $OUT/gpu_fused_linear.txt. Run from the repository root:
#     bash benchmarks/gpu_fused_linear.sh
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-.venv/bin/python}"
LOG="${OUT:-/tmp}/gpu_fused_linear.txt"
: > "$LOG"
"$PYTHON" -c "import jax; print(jax.__version__, jax.devices())" | tee -a "$LOG"
run() {
    local limit=$1
    shift
    timeout "$limit" "$PYTHON" benchmarks/bench_fused_linear.py "$@" 2>&1 | tee -a "$LOG" \
        || echo "case $* did not finish in ${limit} s (status $?)" | tee -a "$LOG"
}
run 40 --memory --n 4096 --d 256 --vocabularies 32768,65536,131072
run 50 --n 4096 --v 32768 --d 256 --dtype float32 --repeats 5
run 60 --n 8192 --v 131072 --d 2048 --dtype bfloat16 --repeats 5
run 60 --n 8192 --v 131072 --d 2048 --dtype bfloat16 --repeats 5 --chunk-size 8192
run 90 --options --n 8192 --v 131072 --d 2048 --dtype bfloat16 --repeats 5 --chunk-size 8192
