#!/bin/sh
# Runs libFuzzer harnesses (make fuzz; conventions in tests/fuzz/README.md).
#   run.sh --check                      are clang and libFuzzer there?
#   run.sh BUILD SECONDS NAME...        run BUILD/fuzz_NAME for SECONDS each
# Each harness starts from its committed seeds and past findings
# (tests/fuzz/corpus/NAME, tests/fuzz/regressions/NAME, read only) and keeps
# what it learns in BUILD/work/NAME, so a second run goes on from there. A
# crash, leak, timeout or broken property is saved to BUILD/findings/ and
# fails the run. Prints one line per harness: runs, new inputs, result.
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT" || exit 2

if [ "${1:-}" = --check ]; then
    probe=$(mktemp -d "${TMPDIR:-/tmp}/jinpu-fuzz.XXXXXX")
    printf 'int LLVMFuzzerTestOneInput(const unsigned char *d, unsigned long n);\nint LLVMFuzzerTestOneInput(const unsigned char *d, unsigned long n) { (void)d; (void)n; return 0; }\n' >"$probe/p.c"
    if ! command -v clang >/dev/null 2>&1 ||
        ! clang -fsanitize=fuzzer,address,undefined "$probe/p.c" -o "$probe/p" >/dev/null 2>&1; then
        rm -rf "$probe"
        echo "make fuzz needs clang with libFuzzer: sudo apt-get install clang libclang-rt-14-dev" >&2
        exit 1
    fi
    rm -rf "$probe"
    exit 0
fi

BUILD=$1
SECONDS_EACH=$2
shift 2
mkdir -p "$BUILD/findings"
status=0
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
for name in "$@"; do
    bin="$BUILD/fuzz_$name"
    work="$BUILD/work/$name"
    log="$BUILD/fuzz_$name.log"
    mkdir -p "$work"
    set -- -max_total_time="$SECONDS_EACH" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
        -print_final_stats=1 -artifact_prefix="$BUILD/findings/${name}-"
    [ -f "tests/fuzz/$name.dict" ] && set -- "$@" -dict="tests/fuzz/$name.dict"
    seeds=""
    for d in "tests/fuzz/corpus/$name" "tests/fuzz/regressions/$name"; do
        [ -d "$d" ] && seeds="$seeds $d"
    done
    # shellcheck disable=SC2086 # the seed directories are words
    "$bin" "$@" "$work" $seeds >"$log" 2>&1
    rc=$?
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
    new=$(sed -n 's/^stat::new_units_added: *//p' "$log" | tail -n 1)
    if [ "$rc" -eq 0 ]; then
        echo "fuzz $name: ${runs:-?} runs in ${SECONDS_EACH}s, ${new:-0} new inputs, no findings"
    else
        status=1
        echo "fuzz $name: FINDING after ${runs:-?} runs (exit $rc); log: $log"
        grep -E '^(==[0-9]+==ERROR|SUMMARY|.*property does not hold|.*runtime error)' "$log" | head -n 5 | sed 's/^/    /'
        sed -n 's/^.*Test unit written to //p' "$log" | sed 's/^/    input: /'
    fi
done
exit $status
