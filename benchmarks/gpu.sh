#!/usr/bin/env bash
# The sweep and the fused linear cross-entropy on a GPU machine (issue 26), prepared to run in
# at most 5 minutes: each case capped with `timeout`, 285 s in all. Cases:
#   1. the one-sample sweep at 4096² × 1000, both losses: G config-epochs/s and sample-epochs/s;
#   2. the 16-sample sweep at 2048² × 1000, both losses;
#   after each, a 64² block of its grid swept again on the CPU (JAX_PLATFORMS=cpu): the cells
#   whose takeoff and half-error epochs are equal, and the largest difference;
#   3. the fused linear cross-entropy: N = 8192, V = 131072, D = 2048 in bfloat16, 8192-column
#   chunks, plain and with the options (benchmarks/gpu_fused_linear.sh has the full set);
#   4. an atlas's latency: a 256² × 300 sweep of both losses, first call and warm.
# The tables go to stdout and, when $OUT is set, to $OUT/gpu.txt. From the repository root:
#     bash benchmarks/gpu.sh
set -uo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-.venv/bin/python}"
LOG="${OUT:-/tmp}/gpu.txt"
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT
: > "$LOG"
run() {  # run LIMIT COMMAND...: one case, capped
    local limit=$1
    shift
    timeout "$limit" "$@" 2>&1 | tee -a "$LOG"
    local status=${PIPESTATUS[0]}
    [ "$status" -eq 0 ] || echo "case '$*' ended with status $status (124: over ${limit} s)" \
        | tee -a "$LOG"
}
run 15 nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv
run 20 "$PYTHON" -c "import jax; print('jax', jax.__version__, jax.devices())"
SWEEP=(benchmarks/bench_gpu_sweep.py)
run 70 "$PYTHON" "${SWEEP[@]}" rate --samples 1 --resolution 4096 --epochs 1000 --save "$TMP/n1.npz"
run 30 env JAX_PLATFORMS=cpu "$PYTHON" "${SWEEP[@]}" check "$TMP/n1.npz"
run 70 "$PYTHON" "${SWEEP[@]}" rate --samples 16 --resolution 2048 --epochs 1000 --save "$TMP/n16.npz"
run 30 env JAX_PLATFORMS=cpu "$PYTHON" "${SWEEP[@]}" check "$TMP/n16.npz"
FUSED=(benchmarks/bench_fused_linear.py --n 8192 --v 131072 --d 2048 --dtype bfloat16 --repeats 3)
run 40 "$PYTHON" "${FUSED[@]}" --chunk-size 8192
run 40 "$PYTHON" "${FUSED[@]}" --chunk-size 8192 --options
run 30 "$PYTHON" "${SWEEP[@]}" latency
