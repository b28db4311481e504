#!/usr/bin/env bash
# bench/study_scale.sh BUILD_DIR DATA: issue 9's speed figure. The 50-run
# study (5 rates x 2 momenta x 5 seeds, 30 epochs, report on) against 25 x the
# wall time of a 2-run study whose runs share the cores the same way (one run
# per core side by side), measured one after the other in this run. Prints
# BENCH lines: wall seconds and peak memory of each, and their ratio (target
# <= 1.10; memory must not grow with the number of runs). EPOCHS=N shortens
# both (the ratio is what matters).
set -euo pipefail
build=$1; data=$2; epochs=${EPOCHS:-30}
# KEEP=DIR keeps the two studies (their reports) in DIR instead of a temporary folder.
if [[ -n "${KEEP:-}" ]]; then tmp=$KEEP; mkdir -p "$tmp"; else tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT; fi
measure() { # name, then lrscope run's arguments
    local name=$1; shift
    /usr/bin/time -f "%e %M" -o "$tmp/$name.time" "$build/lrscope" run --data "$data" --epochs "$epochs" \
        --quiet --out "$tmp/$name" "$@" >/dev/null
    read -r wall kb < "$tmp/$name.time"
    echo "BENCH study_$name wall_s=$wall peak_rss_mb=$((kb / 1024)) runs=$(($(wc -l < "$tmp/$name/summary.csv") - 1))"
}
echo "study of 50 runs vs 25 x a study of 2 runs, $epochs epochs, --jobs 2 (one run per core), report on:"
{
    measure pair --lrs 0.1,0.01 --jobs 2
    measure fifty --grid lr=0.1,0.05,0.01,0.005,0.001 --grid momentum=0,0.9 --seeds 5 --jobs 2
} | tee "$tmp/lines"
awk '/^BENCH study_pair/ { split($3, a, "="); pair = a[2]; split($4, m, "="); pm = m[2] }
     /^BENCH study_fifty/ { split($3, a, "="); fifty = a[2]; split($4, m, "="); fm = m[2] }
     END { printf "BENCH study_scale ratio=%.3f (50-run wall %.1f s / 25 x 2-run wall %.1f s; target <= 1.10), peak memory %d MB vs %d MB\n", \
           fifty / (25 * pair), fifty, 25 * pair, fm, pm }' "$tmp/lines"
