#!/bin/sh
# Runs the cases of one tests/cli/*.t file (format: tests/cli/README.md):
# prints "ok N - FILE:LINE" or "not ok N - FILE:LINE" per case (LINE is the
# case's `$` line; "ok N - FILE:LINE # SKIP why" when its `@` precondition
# fails) and ends with "# passed N failed M".
set -u
file=$1
name=$(basename "$file")
pass=0
fail=0
skip=0
T=""
tmp=$(mktemp -d "${TMPDIR:-/tmp}/jinpu-cli.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

finish_case() {
    [ -z "${cmd:-}" ] && return
    T="$tmp/case$case_no"
    mkdir -p "$T"
    export T
    # a precondition that does not hold skips the case, saying why
    if [ -n "$need" ] && ! (eval "$need") >/dev/null 2>"$tmp/need_err" </dev/null; then
        why=$(head -n 1 "$tmp/need_err")
        echo "ok $case_no - $name:$case_line # SKIP needs: $need${why:+ ($why)}"
        skip=$((skip + 1))
        cmd=""
        return
    fi
    (eval "$cmd") >"$tmp/out" 2>"$tmp/err" </dev/null
    rc=$?
    ok=1
    why=""
    if [ "$rc" -ne "$want_rc" ]; then ok=0; why="exit $rc, expected $want_rc"; fi
    if [ -s "$tmp/want_out" ] || [ "$have_exact" = 1 ]; then
        if ! cmp -s "$tmp/want_out" "$tmp/out"; then
            ok=0
            why="$why; stdout differs:
$(diff "$tmp/want_out" "$tmp/out" | head -n 20)"
        fi
    fi
    while IFS= read -r re; do
        grep -Eq -- "$re" "$tmp/out" || { ok=0; why="$why; stdout lacks /$re/"; }
    done <"$tmp/want_match"
    while IFS= read -r re; do
        grep -Eq -- "$re" "$tmp/err" || { ok=0; why="$why; stderr lacks /$re/"; }
    done <"$tmp/want_err"
    while IFS= read -r re; do
        grep -Eq -- "$re" "$tmp/err" && { ok=0; why="$why; stderr has /$re/"; }
    done <"$tmp/want_noerr"
    # sanitizer reports are failures whatever the exit status
    if grep -Eq 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$tmp/err"; then
        ok=0
        why="$why; sanitizer report"
    fi
    if [ $ok = 1 ]; then
        pass=$((pass + 1))
        echo "ok $case_no - $name:$case_line"
    else
        fail=$((fail + 1))
        echo "not ok $case_no - $name:$case_line"
        printf "# %s\n" "$cmd"
        printf '%s\n' "$why" | sed 's/^/#    /'
        echo "#    --- stderr:"
        head -n 15 "$tmp/err" | sed 's/^/#    /'
    fi
    cmd=""
}

new_case() {
    cmd=$1
    case_line=$2
    case_no=$((case_no + 1))
    want_rc=0
    have_exact=0
    need=""
    : >"$tmp/want_out"
    : >"$tmp/want_match"
    : >"$tmp/want_err"
    : >"$tmp/want_noerr"
}

cmd=""
case_no=0
lineno=0
while IFS= read -r line || [ -n "$line" ]; do
    lineno=$((lineno + 1))
    case "$line" in
    '$ '*) finish_case; new_case "${line#\$ }" "$lineno" ;;
    '? '*) want_rc=${line#\? } ;;
    '@ '*) need=${line#@ } ;;
    '> '*) have_exact=1; printf '%s\n' "${line#> }" >>"$tmp/want_out" ;;
    '>') have_exact=1; printf '\n' >>"$tmp/want_out" ;;
    '~ '*) printf '%s\n' "${line#\~ }" >>"$tmp/want_match" ;;
    '!! '*) printf '%s\n' "${line#!! }" >>"$tmp/want_noerr" ;;
    '! '*) printf '%s\n' "${line#! }" >>"$tmp/want_err" ;;
    '#'* | '') ;;
    *)
        fail=$((fail + 1))
        echo "not ok $((case_no + fail)) - $name:$lineno: cannot read this line"
        echo "# $line"
        ;;
    esac
done <"$file"
finish_case
[ "$skip" -gt 0 ] && echo "# skipped $skip"
echo "# passed $pass failed $fail"
[ "$fail" -eq 0 ]
