#!/usr/bin/env bash
# bench/mpi.sh BUILD_DIR DATA: issue 14's figures. The same 12-run study
# (the seed model, 6 rates x 2 seeds, EPOCHS epochs, default 2, no report) as
#   - one process, 2 threads (one run at a time on both cores),
#   - one process, --jobs 2 --threads 1 (two runs side by side),
#   - mpirun -np 2, --threads 1 (rank 0 and one worker, a run each),
# one after the other in this run; then the MPI overhead (wall time against
# each one-process layout; target < 5%) and the traffic rank 0 handled per
# trial-epoch trained on the other rank (its stats line). Prints BENCH lines.
set -euo pipefail
build=$1; data=$2; epochs=${EPOCHS:-2}
command -v mpirun >/dev/null || { echo "bench/mpi.sh: mpirun missing (scripts/install-deps.sh)"; exit 2; }
if [[ -n "${KEEP:-}" ]]; then tmp=$KEEP; mkdir -p "$tmp"; else tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT; fi
study=(--data "$data" --epochs "$epochs" --lrs 0.1,0.05,0.02,0.01,0.005,0.001 --seeds 2 --quiet --no-report)
measure() { # name, then the command before `run`
    local name=$1; shift
    local t0 t1
    t0=$(date +%s.%N)
    LRSCOPE_MPI_STATS=1 "$@" run "${study[@]}" --out "$tmp/$name" ${ARGS_EXTRA:-} >/dev/null 2>"$tmp/$name.err"
    t1=$(date +%s.%N)
    echo "BENCH mpi_$name wall_s=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')"
}
echo "12-run study (seed model, $epochs epochs), 1 process x 2 threads, 1 process x 2 jobs, 2 MPI ranks x 1 thread:"
{
    ARGS_EXTRA="--threads 2 --jobs 1" measure threads2 "$build/lrscope"
    ARGS_EXTRA="--threads 1 --jobs 2" measure jobs2 "$build/lrscope"
    ARGS_EXTRA="--threads 1" measure ranks2 mpirun --allow-run-as-root -np 2 "$build/lrscope"
} | tee "$tmp/lines"
stats=$(grep -h "lrscope: MPI:" "$tmp/ranks2.err" || true)
echo "BENCH mpi_traffic ${stats#lrscope: }"
awk '/^BENCH mpi_threads2/ { split($3, a, "="); t = a[2] }
     /^BENCH mpi_jobs2/ { split($3, a, "="); j = a[2] }
     /^BENCH mpi_ranks2/ { split($3, a, "="); m = a[2] }
     END { printf "BENCH mpi_overhead vs_threads2=%.1f%% vs_jobs2=%.1f%% (2 ranks %.2f s, 1x2 threads %.2f s, 2 jobs %.2f s; target < 5%%)\n", \
           100 * (m / t - 1), 100 * (m / j - 1), m, t, j }' "$tmp/lines"
