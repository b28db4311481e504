#!/usr/bin/env bash
# run.sh BUILD_DIR [TEST...]: runs every test binary (or the named ones;
# cmocka, TAP output), prints each
# binary's result, and ends with the line `N passed, N failed`. Exits non-zero
# when any test failed or any binary crashed.
set -u
build=${1:-build}
shift || true
passed=0
failed=0
log_dir="$build/test-logs"
export LRSCOPE_BIN="$build/lrscope"   # the CLI tests drive the binary of this build
export LRSCOPE_BUILD="$build"
mkdir -p "$log_dir"
bins=("$build"/tests/test_*)
if [[ $# -gt 0 ]]; then
    bins=("${@/#/$build/tests/}")
    for bin in "${bins[@]}"; do # a named test that was not built is a failure, not a skip
        [[ -x "$bin" ]] || { echo "FAIL $(basename "$bin"): no such test binary"; failed=$((failed + 1)); }
    done
fi
for bin in "${bins[@]}"; do
    [[ -x "$bin" && ! "$bin" == *.d ]] || continue
    name=$(basename "$bin")
    log="$log_dir/$name.log"
    CMOCKA_MESSAGE_OUTPUT=TAP "$bin" >"$log" 2>&1
    rc=$?
    ok=$(grep -cE '^ok [0-9]+' "$log")
    bad=$(grep -cE '^not ok [0-9]+' "$log")
    if [[ $rc -ne 0 && $bad -eq 0 ]]; then
        bad=1   # crashed or failed outside a test: count it, never hide it
        echo "$name: exited with status $rc outside any test"
    fi
    passed=$((passed + ok))
    failed=$((failed + bad))
    if [[ $bad -gt 0 ]]; then
        echo "FAIL $name: $ok passed, $bad failed (log: $log)"
        grep -E '^not ok|^#|error|Error|ERROR' "$log" | head -40
    else
        echo "ok   $name: $ok passed"
    fi
done
echo "$passed passed, $failed failed"
[[ $failed -eq 0 && $passed -gt 0 ]]
