#!/usr/bin/env bash
# bench/run.sh BUILD_DIR: `make bench`. lrscope's figures (bench/bench.c:
# per layer, per ISA and thread count, the whole default study's wall time
# and peak memory), then PyTorch 1.13's for the same network measured in the
# same run (tools/bench_torch.py, when python3-torch is installed), and the
# ratios. Everything is also written to BUILD_DIR/bench.txt.
# LRSCOPE_BENCH_DATA overrides the CIFAR-10 folder.
set -euo pipefail
build=${1:-build}
data=${LRSCOPE_BENCH_DATA:-../shared/datasets/cifar-10-batches-bin}
[[ -d "$data" ]] || data=data/cifar-10-batches-bin
out="$build/bench.txt"
py=/usr/bin/python3
{
    echo "machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //'), $(nproc) cores, $(date -u +%Y-%m-%dT%H:%MZ)"
    "$build/bench/bench" --data "$data" --epochs 1 --study
    if "$py" -c "import torch, torchvision" 2>/dev/null; then
        echo
        echo "PyTorch $("$py" -c 'import torch; print(torch.__version__)') on the same machine, same network and batch:"
        for t in 1 2; do
            json=$("$py" tools/bench_torch.py --threads "$t" --data "$data" --epochs-arith 1 \
                   --pipeline-batches 100 --json | tail -1)
            echo "TORCH threads=$t $json"
        done
    else
        echo
        echo "python3-torch is not installed (scripts/install-deps.sh --with-torch): no side-by-side figures"
    fi
} | tee "$out"

# Ratios, from the lines above.
awk '
/^BENCH avx512_t1_inline/ { for (i = 3; i <= NF; i++) { split($i, kv, "="); l1[kv[1]] = kv[2] } }
/^BENCH avx512_t2_inline/ { for (i = 3; i <= NF; i++) { split($i, kv, "="); l2[kv[1]] = kv[2] } }
/^TORCH threads=/ {
    t = substr($2, 9); json = $0; sub(/^[^{]*/, "", json)
    if (match(json, /"train_arith_img_s": *[0-9.]+/)) { s = substr(json, RSTART, RLENGTH); sub(/.*: */, "", s); arith[t] = s }
    if (match(json, /"seed_pipeline_epoch_s": *[0-9.]+/)) { s = substr(json, RSTART, RLENGTH); sub(/.*: */, "", s); pipe[t] = s }
    if (match(json, /"eval_img_s": *[0-9.]+/)) { s = substr(json, RSTART, RLENGTH); sub(/.*: */, "", s); ev[t] = s }
}
END {
    if (!(1 in arith)) exit
    print "\nratios (lrscope / PyTorch, same thread count, measured above):"
    printf "  training, arithmetic only: 1 thread %.1fx, 2 threads %.1fx\n", l1["train_img_s"] / arith[1], l2["train_img_s"] / arith[2]
    printf "  evaluation: 1 thread %.1fx, 2 threads %.1fx\n", l1["eval_img_s"] / ev[1], l2["eval_img_s"] / ev[2]
    printf "  one epoch (train + test) vs the seed pipeline: 1 thread %.1fx (%.2f s vs %.2f s), 2 threads %.1fx (%.2f s vs %.2f s)\n", \
        pipe[1] / l1["epoch_s"], l1["epoch_s"], pipe[1], pipe[2] / l2["epoch_s"], l2["epoch_s"], pipe[2]
}' "$out" | tee -a "$out"

# Issue 13's figures: ResNet-20 against PyTorch (SKIP_RESNET=1 skips them).
bench/resnet.sh "$build"

# Issue 9's figure: a 50-run study against 25 x a 2-run study (about 15 min
# at 30 epochs; BENCH_STUDY_EPOCHS=N shortens it, SKIP_STUDY_SCALE=1 skips it).
if [[ -z "${SKIP_STUDY_SCALE:-}" ]]; then
    echo | tee -a "$out"
    EPOCHS=${BENCH_STUDY_EPOCHS:-30} bench/study_scale.sh "$build" "$data" | tee -a "$out"
fi

# Issue 11's figure: TPE + ASHA and random + ASHA against a 7 x 5 grid, over 5
# search seeds (BENCH_SEARCH_EPOCHS=N, default 9; SKIP_SEARCH_BENCH=1 skips it).
if [[ -z "${SKIP_SEARCH_BENCH:-}" ]]; then
    echo | tee -a "$out"
    bench/search.sh "$build" "$data" | tee -a "$out"
fi

# Issue 14's figure: a study across 2 MPI ranks against one process
# (SKIP_MPI=1 skips it; BENCH_MPI_EPOCHS=N sets its epochs, default 2).
if [[ -z "${SKIP_MPI:-}" ]]; then
    echo | tee -a "$out"
    EPOCHS=${BENCH_MPI_EPOCHS:-2} bench/mpi.sh "$build" "$data" | tee -a "$out"
fi
