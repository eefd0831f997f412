# tests/batch/lib.sh - helpers for the batch tests (tests/cli/batch*.t and
# the scripts beside this file); sourced from the repository root.
#
#   mkjob DIR 'EXTRA YAML LINES' KEY...
#       a job folder: raw/KEY.txt for each key (holding the key), the test
#       scripts of tests/data/batch, and job.yaml running kinds.lua over
#       raw/*.txt into out/, plus the extra lines (printf %b: use \n)
#   field FILE KEY NAME
#       the JSON text of field NAME of job KEY in a summary FILE
#   wait_for FILE...
#       wait until the files exist (30 s at most; fails after that)

BATCH_FIX=$(pwd)/tests/data/batch

mkjob() {
    _d=$1
    _extra=$2
    shift 2
    mkdir -p "$_d/raw" || return 1
    cp "$BATCH_FIX/kinds.lua" "$BATCH_FIX/helper.lua" "$BATCH_FIX/combine.lua" "$_d/" || return 1
    for _k in "$@"; do printf '%s\n' "$_k" >"$_d/raw/$_k.txt"; done
    printf 'jinpu_batch: 1\nscript: kinds.lua\ninputs: "raw/*.txt"\noutput: out\n%b' "$_extra" >"$_d/job.yaml"
}

field() {
    grep "\"key\": \"$2\"" "$1" | sed -n "s/.*\"$3\": \\(\"[^\"]*\"\\|[^,}]*\\).*/\\1/p"
}

wait_for() {
    _n=0
    for _f in "$@"; do
        while [ ! -e "$_f" ]; do
            _n=$((_n + 1))
            [ $_n -gt 300 ] && { echo "timed out waiting for $_f" >&2; return 1; }
            sleep 0.1
        done
    done
}
