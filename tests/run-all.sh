#!/bin/sh
# tests/run-all.sh - build and run the whole test suite: the normal build,
# the AddressSanitizer+UBSan build (--enable-sanitizers) and `make distcheck`.
#
# Counts individual cmocka test cases (from each program's log) and every
# other test (scripts, scenario runners) as one, and ends with the line
#   N passed, N failed
# Exits non-zero when anything failed or a build broke. Called by
# contrib/quickstart.sh test (which installs dependencies first) and .ci/run.
set -u

top=$(cd "$(dirname "$0")/.." && pwd)
jobs=$(nproc 2>/dev/null || echo 2)
passed=0
failed=0
skipped=0

note() { printf '%s\n' "run-all: $*"; }

# count_results BUILD_DIR: add that build's test results to the totals.
count_results() {
    for trs in $(find "$1" -name '*.trs' | sort); do
        log=${trs%.trs}.log
        result=$(sed -n 's/^:test-result: //p' "$trs" | head -n 1)
        ok=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' "$log" 2>/dev/null | tail -n 1)
        bad=$(sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' "$log" 2>/dev/null | tail -n 1)
        if [ -n "$ok" ] || [ -n "$bad" ]; then
            passed=$((passed + ${ok:-0}))
            failed=$((failed + ${bad:-0}))
            # A crash or leak report after the cases ran still fails the program.
            if [ "$result" != PASS ] && [ "${bad:-0}" -eq 0 ]; then
                failed=$((failed + 1))
                note "FAIL $log (exited badly after its cases passed)"
            fi
        else
            case "$result" in
            PASS | XFAIL) passed=$((passed + 1)) ;;
            SKIP) skipped=$((skipped + 1)) ;;
            *) failed=$((failed + 1)) ;;
            esac
        fi
        case "$result" in
        FAIL | ERROR | XPASS) note "FAIL ${trs%.trs} (see ${log})" ;;
        esac
    done
}

# run_build DIR LABEL [configure args...]: configure, build and check one tree.
run_build() {
    dir=$1
    label=$2
    shift 2
    note "== $label build in $dir =="
    rm -rf "$dir"
    mkdir -p "$dir"
    # (configure's own cleanup trips over the core/ folder: drop that noise)
    if ! (cd "$dir" && "$top/configure" -q "$@" >/dev/null 2>"$dir/configure.err"); then
        cat "$dir/configure.err"
        note "FAIL configure ($label)"
        failed=$((failed + 1))
        return
    fi
    if ! make -C "$dir" -j"$jobs" -s >"$dir/build.out" 2>&1; then
        cat "$dir/build.out"
        note "FAIL build ($label)"
        failed=$((failed + 1))
        return
    fi
    if grep -q 'warning:' "$dir/build.out"; then
        grep 'warning:' "$dir/build.out"
        note "FAIL compiler warnings ($label)"
        failed=$((failed + 1))
    fi
    make -C "$dir" -j"$jobs" check >"$dir/check.out" 2>&1
    grep -E '^(PASS|FAIL|SKIP|XFAIL|XPASS|ERROR):' "$dir/check.out" | sed "s/^/[$label] /"
    count_results "$dir"
}

cd "$top" || exit 1
if [ ! -x configure ] || [ configure.ac -nt configure ]; then
    autoreconf -fi >/dev/null 2>&1 || { note "autoreconf failed"; echo "0 passed, 1 failed"; exit 1; }
fi

run_build "$top/build" normal
run_build "$top/build-asan" sanitizers --enable-sanitizers

note "== make distcheck =="
if make -C "$top/build" -j"$jobs" distcheck >"$top/build/distcheck.out" 2>&1; then
    passed=$((passed + 1))
    note "PASS distcheck"
else
    tail -n 40 "$top/build/distcheck.out"
    failed=$((failed + 1))
    note "FAIL distcheck (see build/distcheck.out)"
fi

[ "$skipped" -gt 0 ] && note "$skipped skipped"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
