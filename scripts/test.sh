#!/bin/bash
# test.sh : sets everything up on a fresh Debian 12 machine (as root) and runs all tests:
# the formatting check, unit (cmocka), device integration (umockdev, real daemon), kernel
# end-to-end (QEMU VM), the central store (a real PostgreSQL server), the unit and integration tiers again under ASan+UBSan, a build with
# gcc's static analyzer, a short libFuzzer run of every parser of hostile input, and the
# packaging tier. Prints each tier's time and a summary.
#
# Environment:
#   TG_VM_TESTS=OFF   leave out the kernel end-to-end tier (QEMU under software emulation
#                     takes minutes of CPU); everything else still runs.
#   TG_FUZZ_SECONDS=N how long the fuzz tier runs each libFuzzer target (default 12).
set -euo pipefail
top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
jobs=$(nproc)
vm=${TG_VM_TESTS:-ON}
case $vm in
ON | OFF) ;;
*) echo "test.sh: TG_VM_TESTS must be ON or OFF" >&2; exit 2 ;;
esac

status=0
summary=()
# tier NAME COMMAND...: runs one tier, prints its time, remembers the result.
tier() {
    local name=$1 start=$SECONDS rc=0
    shift
    echo "=== $name ==="
    "$@" || rc=$?
    local took=$((SECONDS - start)) result=passed
    if [ "$rc" -ne 0 ]; then
        result="FAILED (exit $rc)"
        status=1
    fi
    echo "=== $name: $took s, $result ==="
    summary+=("$(printf '%-22s %5d s  %s' "$name" "$took" "$result")")
}
skipped() {
    echo "=== $1: skipped ($2) ==="
    summary+=("$(printf '%-22s %7s  skipped (%s)' "$1" "" "$2")")
}

# Tier steps run where errexit does not apply (tier tests their status), hence the && chains.
install_deps() { "$top/scripts/install-deps.sh" test; }
check_format() { "$top/scripts/check-format.sh"; }
build() {
    cmake -S "$top" -B "$top/build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTG_VM_TESTS="$vm" >/dev/null &&
        cmake --build "$top/build" -j"$jobs"
}
# ctest_label LABEL: the tests of one tier in the main build.
ctest_label() { (cd "$top/build" && ctest --output-on-failure --timeout 1200 --no-tests=error -L "^$1\$"); }
# A test without one of the tier labels still runs, and shows up here.
ctest_other() {
    (cd "$top/build" && ctest --output-on-failure --timeout 1200 --no-tests=ignore -LE '^(unit|integration|vm|central)$')
}
asan() {
    cmake -S "$top" -B "$top/build-asan" -DCMAKE_BUILD_TYPE=Debug -DTG_SANITIZE=ON -DTG_VM_TESTS=OFF >/dev/null &&
        cmake --build "$top/build-asan" -j"$jobs" &&
        # umockdev's preload library must come before the ASan runtime in the daemon's library list.
        (cd "$top/build-asan" && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:verify_asan_link_order=0 \
            UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 ctest --output-on-failure -L '^(unit|integration)$')
}
analyzer() {
    cmake -S "$top" -B "$top/build-analyzer" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTG_ANALYZER=ON \
        -DTG_VM_TESTS=OFF >/dev/null &&
        cmake --build "$top/build-analyzer" -j"$jobs"
}
# Each libFuzzer target of tests/fuzz for a bounded time over its seed corpus; new inputs go to
# a scratch directory, not into the source tree. A crash, leak or sanitizer report fails it.
fuzz_seconds=${TG_FUZZ_SECONDS:-12}
fuzz() {
    local work rc=0 t name
    cmake -S "$top" -B "$top/build-fuzz" -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTG_FUZZ=ON \
        -DTG_VM_TESTS=OFF >/dev/null &&
        cmake --build "$top/build-fuzz" -j"$jobs" --target fuzz || return
    work=$(mktemp -d)
    for t in "$top"/build-fuzz/tests/fuzz/fuzz_*; do
        name=${t##*/fuzz_}
        mkdir "$work/$name"
        # A finding (crash-*, leak-*, timeout-*) stays in the scratch directory for a look.
        if ! "$t" -max_total_time="$fuzz_seconds" -max_len=4096 -timeout=10 -artifact_prefix="$work/$name-" \
            "$work/$name" "$top/tests/fuzz/corpus/$name" >"$work/$name.log" 2>&1; then
            rc=1
            tail -n 40 "$work/$name.log"
            echo "fuzz_$name: FAILED, finding in $work" >&2
            continue
        fi
        echo "fuzz_$name: $(grep -o 'Done [0-9]* runs in [0-9]* second(s)' "$work/$name.log")"
    done
    [ "$rc" -ne 0 ] || rm -rf "$work"
    return "$rc"
}
packaging() {
    local out rc=0
    out=$(mktemp -d)
    "$top/packaging/build-deb.sh" "$out" && "$top/packaging/tests/test-package.sh" "$out"/termguard_*.deb || rc=$?
    rm -rf "$out"
    return "$rc"
}

tier install-deps install_deps
tier format check_format
tier build build
tier unit ctest_label unit
tier integration ctest_label integration
if [ "$vm" = ON ]; then
    tier vm ctest_label vm
else
    skipped vm "TG_VM_TESTS=OFF"
fi
# The central store's tier needs PostgreSQL's server programs (install-deps installs them).
if [ -x /usr/lib/postgresql/15/bin/initdb ] && [ -x /usr/lib/postgresql/15/bin/pg_ctl ]; then
    tier central ctest_label central
else
    skipped central "PostgreSQL 15 server programs missing in /usr/lib/postgresql/15/bin"
fi
if (cd "$top/build" && ctest -N -LE '^(unit|integration|vm|central)$' 2>/dev/null | grep -q '^Total Tests: [1-9]'); then
    tier other-tests ctest_other
fi
tier asan+ubsan asan
tier analyzer analyzer
tier fuzz fuzz
if [ -x "$top/packaging/build-deb.sh" ] && [ -x "$top/packaging/tests/test-package.sh" ]; then
    tier packaging packaging
else
    skipped packaging "no packaging scripts"
fi

echo "=== tiers run ==="
printf '%s\n' "${summary[@]}"
[ "$status" -eq 0 ] && echo "ALL TESTS PASSED" || echo "SOME TESTS FAILED"
exit "$status"
