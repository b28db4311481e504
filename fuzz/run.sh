#!/usr/bin/env bash
# run.sh BUILD_DIR SECONDS: runs every libFuzzer harness of BUILD_DIR/fuzz for
# SECONDS each, on a working corpus BUILD_DIR/corpus/NAME seeded from the
# committed fuzz/corpus/NAME (which is only read). A crash, leak, UBSan report
# or timeout leaves its input in BUILD_DIR/artifacts/NAME/. Prints one line
# per harness and exits non-zero if any harness failed.
set -u
build=${1:-build-fuzz}
seconds=${2:-60}
here=$(cd "$(dirname "$0")" && pwd)
failed=()
# Any UBSan report stops the harness like a crash, but for the reviewed
# exceptions of ubsan.supp (each with its reason).
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1:suppressions=$here/ubsan.supp"
for bin in "$build"/fuzz/fuzz_*; do
    [[ -x "$bin" && ! "$bin" == *.d ]] || continue
    name=${bin##*/fuzz_}
    work="$build/corpus/$name"
    art="$build/artifacts/$name"
    log="$build/fuzz-logs/$name.log"
    mkdir -p "$work" "$art" "$build/fuzz-logs"
    seeds=()
    [[ -d "$here/corpus/$name" ]] && seeds=("$here/corpus/$name")
    dict=()
    [[ -f "$here/$name.dict" ]] && dict=("-dict=$here/$name.dict")
    # -rss_limit_mb: a parser that allocates beyond this for a small input is a bug (sizes
    # from outside must be capped before allocating).
    "$bin" "$work" "${seeds[@]}" "${dict[@]}" -max_total_time="$seconds" -timeout=10 \
        -rss_limit_mb=2048 -max_len=65536 -artifact_prefix="$art/" -print_final_stats=1 \
        >"$log" 2>&1
    rc=$?
    runs=$(grep -oE 'stat::number_of_executed_units: *[0-9]+' "$log" | grep -oE '[0-9]+$' || true)
    if [[ $rc -ne 0 ]]; then
        failed+=("$name")
        echo "FAIL fuzz_$name (exit $rc; log $log, input in $art/)"
        grep -E 'ERROR|SUMMARY|runtime error|Test unit written' "$log" | head -10
    else
        echo "ok   fuzz_$name: ${runs:-?} inputs in ${seconds}s"
    fi
done
if [[ ${#failed[@]} -gt 0 ]]; then
    echo "fuzz: ${#failed[@]} harness(es) failed: ${failed[*]}"
    exit 1
fi
echo "fuzz: every harness ran ${seconds}s without a crash"
