#!/usr/bin/env bash
# bench/search.sh BUILD_DIR DATA: issue 11's search figure. On the seed model,
# lr log-uniform in [1e-4, 1] and momentum uniform in [0, 0.99]: a grid of
# similar resolution (7 lr x 5 momentum = 35 conditions, E epochs each)
# against TPE + ASHA and random + ASHA (35 trials, grace 1, eta 3, max E),
# each search over 5 search seeds. For each method: the epochs of training
# spent, counting trials in their fixed order (the order rule), until a trial
# first ends within 1 point of the grid's best final test accuracy, averaged
# over the seeds; and the total epochs. Prints BENCH lines and a markdown
# table for BENCHMARKS.md.
#
# BENCH_SEARCH_EPOCHS=E (default 9: rungs 1, 3, 9), BENCH_SEARCH_TRIALS=N
# (default 35), BENCH_SEARCH_SEEDS=K (default 5), BENCH_SEARCH_GRID="7 5"
# (lr and momentum points), BENCH_SEARCH_JOBS (default 0 = auto).
# KEEP=DIR keeps the studies.
set -euo pipefail
build=$1; data=$2
epochs=${BENCH_SEARCH_EPOCHS:-9}; trials=${BENCH_SEARCH_TRIALS:-35}; seeds=${BENCH_SEARCH_SEEDS:-5}
read -r nlr nmom <<< "${BENCH_SEARCH_GRID:-7 5}"
jobs=${BENCH_SEARCH_JOBS:-0}
if [[ -n "${KEEP:-}" ]]; then tmp=$KEEP; mkdir -p "$tmp"; else tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT; fi
common=(--data "$data" --epochs "$epochs" --quiet --no-report --jobs "$jobs")
space=(--space lr=loguniform:1e-4:1 --space momentum=uniform:0:0.99)

echo "search vs grid: $nlr x $nmom grid, $trials trials x $seeds search seeds, $epochs epochs (ASHA grace 1, eta 3)"
"$build/lrscope" run "${common[@]}" --out "$tmp/grid" --grid "lr=logspace:1e-4:1:$nlr" \
    --grid "momentum=linspace:0:0.99:$nmom" >/dev/null
for method in tpe random; do
    for s in $(seq 1 "$seeds"); do
        "$build/lrscope" run "${common[@]}" --out "$tmp/$method-$s" --search "$method" --search-seed "$s" \
            --trials "$trials" "${space[@]}" --pruner "asha:grace=1,eta=3,max_epochs=$epochs" >/dev/null
    done
done

python3 - "$tmp" "$seeds" <<'PY'
import csv, os, re, sys
tmp, seeds = sys.argv[1], int(sys.argv[2])
def rows(study):
    with open(os.path.join(study, "summary.csv")) as f:
        return list(csv.DictReader(f))
def acc(r):
    try: return float(r["final_test_acc"])
    except ValueError: return float("nan")
grid = rows(os.path.join(tmp, "grid"))
best = max(acc(r) for r in grid if acc(r) == acc(r))
target = best - 0.01
grid_epochs = sum(int(r["epochs_done"]) for r in grid)
print(f"BENCH search_grid best_final_test_acc={best:.4f} target={target:.4f} epochs={grid_epochs}")
table = []
for method in ("tpe", "random"):
    to_target, totals, reached = [], [], 0
    for s in range(1, seeds + 1):
        trials = {}
        for r in rows(os.path.join(tmp, f"{method}-{s}")):
            t = int(re.search(r"trial-(\d+)", r["run"]).group(1))
            trials.setdefault(t, []).append(r)
        spent, hit = 0, None
        for t in sorted(trials):
            runs = trials[t]
            spent += sum(int(r["epochs_done"]) for r in runs)
            value = sum(acc(r) for r in runs) / len(runs)
            if hit is None and value >= target:
                hit = spent
        total = sum(int(r["epochs_done"]) for rs in trials.values() for r in rs)
        totals.append(total)
        if hit is not None:
            reached += 1
            to_target.append(hit)
        print(f"BENCH search_{method} seed={s} epochs_to_target={hit if hit is not None else 'never'} total_epochs={total}")
    mean_hit = sum(to_target) / len(to_target) if to_target else float("nan")
    mean_total = sum(totals) / len(totals)
    print(f"BENCH search_{method} mean_epochs_to_target={mean_hit:.1f} reached={reached}/{seeds} "
          f"mean_total_epochs={mean_total:.1f} grid_epochs={grid_epochs} ratio={mean_hit / grid_epochs:.3f}")
    table.append((method, mean_hit, reached, mean_total))
print()
print(f"| method | epochs to within 1 point of the grid's best ({target + 0.01:.2%}) | reached | total epochs | vs grid ({grid_epochs} epochs) |")
print("|---|---|---|---|---|")
print(f"| grid {os.environ.get('BENCH_SEARCH_GRID', '7 5').replace(' ', ' x ')} | {grid_epochs} | - | {grid_epochs} | 1.00 |")
for method, hit, reached, total in table:
    name = {"tpe": "TPE + ASHA", "random": "random + ASHA"}[method]
    print(f"| {name} | {hit:.1f} (mean of {reached}) | {reached}/{seeds} | {total:.1f} | {hit / grid_epochs:.2f} |")
PY
