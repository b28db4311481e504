#!/usr/bin/env bash
# bench/resnet.sh BUILD_DIR: issue 13's speed figures. ResNet-20 training
# images/s (forward, backward, SGD step; batch 128) and evaluation images/s,
# arithmetic only, with peak memory (/usr/bin/time -v), for lrscope
# (bench/bench_resnet.c, through model_batch) and PyTorch 1.13 with OpenBLAS
# (tools/bench_torch.py --model resnet20), on 1 and 2 threads, and the
# ratios. Each figure is also given per CPU second x threads (*_cpu_s): what
# the cores deliver when other processes share the machine. The load average
# is printed first: figures taken above 2.5 are not the machine's best.
# Appends to BUILD_DIR/bench.txt. SKIP_RESNET=1 skips it; RESNET_SECONDS=N
# sets the timing per measurement (default 20).
set -euo pipefail
build=${1:-build}
if [[ -n "${SKIP_RESNET:-}" ]]; then
    echo "ResNet-20 benchmark skipped (SKIP_RESNET is set)"
    exit 0
fi
secs=${RESNET_SECONDS:-20}
py=/usr/bin/python3
out="$build/bench.txt"
rss() { sed -n 's/.*Maximum resident set size (kbytes): *//p' "$1" | awk '{printf "%.1f", $1 / 1024}'; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
{
    echo
    echo "ResNet-20, batch 128, random inputs (arithmetic only); load average $(cut -d' ' -f1-3 /proc/loadavg)"
    for t in 1 2; do
        line=$(/usr/bin/time -v -o "$tmp/time" "$build/bench/bench_resnet" --threads "$t" --seconds "$secs")
        echo "$line time_maxrss_mb=$(rss "$tmp/time")"
    done
    if "$py" -c "import torch" 2>/dev/null; then
        for t in 1 2; do
            json=$(env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE /usr/bin/time -v -o "$tmp/time" \
                   "$py" tools/bench_torch.py --model resnet20 --threads "$t" --seconds "$secs" --json | tail -1)
            echo "TORCH_RESNET threads=$t time_maxrss_mb=$(rss "$tmp/time") $json"
        done
    else
        echo "python3-torch is not installed (scripts/install-deps.sh --with-torch): no side-by-side figures"
    fi
} | tee "$tmp/out"
cat "$tmp/out" >> "$out"

awk '
function num(s, key,   r) { if (match(s, "\"" key "\": *[0-9.]+")) { r = substr(s, RSTART, RLENGTH); sub(/.*: */, "", r); return r } return 0 }
/^RESNET / { for (i = 2; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] } t = v["threads"];
             lt[t] = v["train_img_s"]; le[t] = v["eval_img_s"]; ltc[t] = v["train_img_cpu_s"]; lec[t] = v["eval_img_cpu_s"]; pk[t] = v["pct_peak"]; pkc[t] = v["pct_peak_cpu"] }
/^TORCH_RESNET / { t = substr($2, 9); tt[t] = num($0, "train_img_s"); te[t] = num($0, "eval_img_s"); ttc[t] = num($0, "train_img_cpu_s"); tec[t] = num($0, "eval_img_cpu_s") }
END {
    for (t = 1; t <= 2; t++) {
        if (!(t in lt)) continue
        printf "lrscope %d thread(s): training %.1f%% of FP32 FMA peak by the clock, %.1f%% per CPU second\n", t, pk[t], pkc[t]
        if (t in tt && tt[t] > 0)
            printf "ratio lrscope / PyTorch, %d thread(s): training %.2fx (per CPU second %.2fx), evaluation %.2fx (%.2fx)\n", \
                t, lt[t] / tt[t], ltc[t] / ttc[t], le[t] / te[t], lec[t] / tec[t]
    }
}' "$tmp/out" | tee -a "$out"
