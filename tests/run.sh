#!/bin/sh
# Runs every test against each build directory given (build/release, build/asan):
#   C unit tests   build/V/tests/test_*           (tests/unit/unit.h)
#   Lua tests      tests/lua/*.lua via jinpu run  (tests/lua/testlib.lua);
#                  tests/lua/hooks/*.lua via jinpu-hooks run
#   CLI tests      tests/cli/*.t                  (tests/cli/run_t.sh)
#   plugin tests   plugins/*/tests/*.lua via `jinpu plugins test`
#   fuzz replays   build/V/tests/replay_NAME over tests/fuzz/{corpus,regressions}/NAME
# Each program prints "ok N - NAME" or "not ok N - NAME" per case and ends with
# "# passed N failed M" (the convention: tests/README.md). A case counts once.
# Prints one line per build, "release: N passed, M failed", and ends with the
# combined line "N passed, M failed" in which a case passes only when it
# passed in every build. Exits 1 when anything failed.
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT" || exit 2
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=0:exitcode=99"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:exitcode=98"
export LC_ALL=C.UTF-8
export LUA_PATH="$ROOT/tests/lua/?.lua;;"
RES=$(mktemp -d "${TMPDIR:-/tmp}/jinpu-tests.XXXXXX")
trap 'rm -rf "$RES"' EXIT
NBUILDS=0

# Runs one test program; appends "P<TAB>id", "F<TAB>id" or "S<TAB>id<TAB>why"
# (skipped) per case to $RES/build.$V.
# A program that exits non-zero with no failed case, or prints no summary,
# adds a failed item of its own (a crash is never hidden).
run_counted() { # label command...
    label=$1
    shift
    out=$("$@" 2>&1)
    rc=$?
    printf '%s\n' "$out" | awk -v label="$label" -v rc="$rc" -v OFS='\t' '
        /^(not )?ok [0-9]+ - / {
            ok = ($1 == "ok")
            name = $0
            sub(/^(not )?ok [0-9]+ - /, "", name)
            why = ""
            skipped = ok && index(name, " # SKIP")
            if (skipped) {                          # not run here; says why
                why = substr(name, index(name, " # SKIP") + 8)
                name = substr(name, 1, index(name, " # SKIP") - 1)
            }
            id = label " :: " name
            if (seen[id]++) id = id " #" seen[id]   # a repeated name stays its own case
            print (skipped ? "S" : ok ? "P" : "F"), id, why
            nfail += !ok
            next
        }
        /^# passed [0-9]+ failed [0-9]+$/ { summary = 1 }
        END {
            if (!summary) print "F", label " :: (no summary line; exit " rc ")"
            else if (rc != 0 && nfail == 0) print "F", label " :: (exit " rc ")"
        }' >"$RES/one.txt"
    cat "$RES/one.txt" >>"$RES/build.$V"
    awk -F'\t' '$1 == "S" { print "SKIP " $2 ": " $3 }' "$RES/one.txt"
    if grep -q '^F' "$RES/one.txt"; then
        printf '%s\n' "$out" | grep -v '^ok ' | tail -n 40 | sed 's/^/    /'
        echo "FAIL $label (exit $rc)"
    fi
}

for B in "$@"; do
    V=$(basename "$B")
    NBUILDS=$((NBUILDS + 1))
    : >"$RES/build.$V"
    JINPU="$ROOT/$B/jinpu"
    JINPU_HOOKS="$ROOT/$B/jinpu-hooks" # with the JINPU_TEST_* hooks (tests/README.md)
    export JINPU JINPU_HOOKS
    echo "== $V: C unit tests"
    for t in "$B"/tests/test_*; do
        [ -x "$t" ] || continue
        run_counted "unit $(basename "$t")" "$t"
    done
    echo "== $V: Lua tests"
    for t in tests/lua/test_*.lua; do
        [ -f "$t" ] || continue
        run_counted "lua $(basename "$t")" "$JINPU" run "$t"
    done
    for t in tests/lua/hooks/test_*.lua; do # these need the test hooks
        [ -f "$t" ] || continue
        run_counted "lua hooks/$(basename "$t")" "$JINPU_HOOKS" run "$t"
    done
    echo "== $V: command-line tests"
    for t in tests/cli/*.t; do
        [ -f "$t" ] || continue
        run_counted "cli $(basename "$t")" sh tests/cli/run_t.sh "$t"
    done
    echo "== $V: shipped plugins' own tests"
    run_counted "plugins test" "$JINPU" --no-plugins plugins test
    echo "== $V: fuzz inputs replayed"
    for t in "$B"/tests/replay_*; do
        [ -x "$t" ] || continue
        name=${t##*/replay_}
        run_counted "fuzz $name" "$t" "tests/fuzz/corpus/$name" "tests/fuzz/regressions/$name"
    done
    awk -F'\t' -v v="$V" '{ n[$1]++ } END {
        if (n["S"]) printf "%s: %d skipped\n", v, n["S"]
        printf "%s: %d passed, %d failed\n", v, n["P"], n["F"]
    }' "$RES/build.$V"
done

# Combined: every case once; it passes only if it passed in every build, and
# is skipped (neither passed nor failed) if it was skipped in some and failed
# in none.
cat "$RES"/build.* | awk -F'\t' -v builds="$NBUILDS" '
    { n[$2]++; all[$2] = 1 }
    $1 == "P" { p[$2]++ }
    $1 == "F" { f[$2]++ }
    END {
        for (id in all) {
            if (f[id] == 0 && p[id] == builds) np++
            else if (f[id] == 0 && n[id] == builds) ns++
            else { nf++; bad[nf] = id }
        }
        if (nf) {
            print "failed:"
            for (i = 1; i <= nf; i++) print "  " bad[i]
        }
        if (ns) printf "%d skipped\n", ns
        printf "%d passed, %d failed\n", np, nf
        exit nf ? 1 : 0
    }'
