#!/bin/sh
# Runs every test against each build directory given (build/release, build/asan):
#   C unit tests   build/V/tests/test_*           (print "# passed N failed M")
#   Lua tests      tests/lua/*.lua via jinpu run  (same summary line)
#   CLI tests      tests/cli/*.t                  (see tests/cli/README.md)
# Ends with one line "N passed, M failed"; exits 1 when anything failed.
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT" || exit 2
TOTAL_P=0
TOTAL_F=0
FAILED_LIST=""
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=0:exitcode=99"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:exitcode=98"
export LC_ALL=C.UTF-8
export LUA_PATH="$ROOT/tests/lua/?.lua;;"

add() { # passed failed label
    TOTAL_P=$((TOTAL_P + $1))
    TOTAL_F=$((TOTAL_F + $2))
    [ "$2" -gt 0 ] && FAILED_LIST="$FAILED_LIST
  $3"
}

# A program's own "# passed N failed M" line; a crash or a missing line is a failure.
run_counted() { # label command...
    label=$1
    shift
    out=$("$@" 2>&1)
    rc=$?
    line=$(printf '%s\n' "$out" | grep '^# passed [0-9]* failed [0-9]*$' | tail -n 1)
    if [ -n "$line" ]; then
        p=$(echo "$line" | awk '{print $3}')
        f=$(echo "$line" | awk '{print $5}')
    else
        p=0
        f=1
    fi
    if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi
    if [ "$f" -gt 0 ]; then
        printf '%s\n' "$out" | grep -v '^ok ' | tail -n 40 | sed 's/^/    /'
        echo "FAIL $label (exit $rc)"
    fi
    add "$p" "$f" "$label"
}

for B in "$@"; do
    V=$(basename "$B")
    JINPU="$ROOT/$B/jinpu"
    export JINPU
    echo "== $V: C unit tests"
    for t in "$B"/tests/test_*; do
        [ -x "$t" ] || continue
        run_counted "$V unit $(basename "$t")" "$t"
    done
    echo "== $V: Lua tests"
    for t in tests/lua/test_*.lua; do
        [ -f "$t" ] || continue
        run_counted "$V lua $(basename "$t")" "$JINPU" run "$t"
    done
    echo "== $V: command-line tests"
    for t in tests/cli/*.t; do
        [ -f "$t" ] || continue
        run_counted "$V cli $(basename "$t")" sh tests/cli/run_t.sh "$t"
    done
done
if [ -n "$FAILED_LIST" ]; then
    echo "failed:$FAILED_LIST"
fi
echo "$TOTAL_P passed, $TOTAL_F failed"
[ "$TOTAL_F" -eq 0 ]
