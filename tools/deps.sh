#!/bin/sh
# Checks that the libraries jinpu builds against are installed; installs the
# missing Debian packages when run as root, otherwise prints the command.
set -u
need=""
have_pc() { command -v pkg-config >/dev/null 2>&1 && pkg-config --exists "$1"; }
command -v pkg-config >/dev/null 2>&1 || need="$need pkg-config"
command -v cc >/dev/null 2>&1 || command -v gcc >/dev/null 2>&1 || need="$need gcc"
have_pc lua5.4 || need="$need liblua5.4-dev"
have_pc yaml-0.1 || need="$need libyaml-dev"
have_pc zlib || need="$need zlib1g-dev"
have_pc libdeflate || need="$need libdeflate-dev"
have_pc libcrypto || need="$need libssl-dev"
have_pc libedit || need="$need libedit-dev"
# the shipped native plugins (plugins/xlsx, plugins/sqlite)
have_pc xlsxwriter || need="$need libxlsxwriter-dev"
have_pc sqlite3 || need="$need libsqlite3-dev"
# wanted for the tests, not needed to build: the archive tests check exports
# with zip and unzip; the batch tests run the GNU parallel recipe; the xlsx
# plugin's tests read workbooks back with openpyxl, the sqlite plugin's query
# with the sqlite3 shell; make fuzz needs clang and its libFuzzer runtime; make
# coverage needs lcov; make lint and make format-check need cppcheck and
# clang-format
want=""
command -v cppcheck >/dev/null 2>&1 || want="$want cppcheck"
command -v clang-format >/dev/null 2>&1 || want="$want clang-format"
command -v zip >/dev/null 2>&1 || want="$want zip"
command -v unzip >/dev/null 2>&1 || want="$want unzip"
command -v parallel >/dev/null 2>&1 || want="$want parallel"
command -v clang >/dev/null 2>&1 || want="$want clang"
have_fuzzer() {
    command -v clang >/dev/null 2>&1 &&
        ls "$(clang -print-resource-dir)"/lib/linux/libclang_rt.fuzzer-*.a >/dev/null 2>&1
}
have_fuzzer || want="$want libclang-rt-14-dev"
command -v lcov >/dev/null 2>&1 || want="$want lcov"
command -v sqlite3 >/dev/null 2>&1 || want="$want sqlite3"
have_openpyxl() {
    for py in python3 /usr/bin/python3; do
        "$py" -c 'import openpyxl' >/dev/null 2>&1 && return 0
    done
    return 1
}
have_openpyxl || want="$want python3-openpyxl"
if [ -z "$need" ] && [ -n "$want" ] && [ "$(id -u)" != 0 ]; then
    echo "jinpu: the tests (archives, batch, plugins, fuzz, coverage, lint, format-check) want: sudo apt-get install$want" >&2
    exit 0
fi
need="$need$want"
[ -z "$need" ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "jinpu: installing missing packages:$need" >&2
    export DEBIAN_FRONTEND=noninteractive
    if ! apt-get install -y -qq $need >/dev/null 2>&1; then
        apt-get update -qq >/dev/null 2>&1
        apt-get install -y -qq $need >/dev/null || {
            echo "jinpu: apt-get install$need failed" >&2
            exit 1
        }
    fi
    exit 0
fi
echo "jinpu: missing build dependencies. Install them with:" >&2
echo "    sudo apt-get install$need" >&2
exit 1
