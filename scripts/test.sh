#!/bin/bash
# test.sh : sets everything up on a fresh Debian 12 machine (as root) and runs all tests:
# unit (cmocka), device integration (umockdev, real daemon), kernel end-to-end (QEMU VM),
# the same unit and integration tiers again under ASan+UBSan, and the packaging tier.
set -euo pipefail
top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
jobs=$(nproc)

"$top/scripts/install-deps.sh" test

status=0
echo "=== build and test (all tiers) ==="
cmake -S "$top" -B "$top/build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$top/build" -j"$jobs"
(cd "$top/build" && ctest --output-on-failure --timeout 1200) || status=1

echo "=== ASan + UBSan build: unit and integration tiers ==="
cmake -S "$top" -B "$top/build-asan" -DCMAKE_BUILD_TYPE=Debug -DTG_SANITIZE=ON -DTG_VM_TESTS=OFF >/dev/null
cmake --build "$top/build-asan" -j"$jobs"
# umockdev's preload library must come before the ASan runtime in the daemon's library list.
(cd "$top/build-asan" && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:verify_asan_link_order=0 \
    UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 ctest --output-on-failure -L 'unit|integration') || status=1

if [ -x "$top/packaging/build-deb.sh" ] && [ -x "$top/packaging/tests/test-package.sh" ]; then
    echo "=== packaging: build the .deb, install/upgrade/remove/purge in a Debian 12 chroot ==="
    out=$(mktemp -d)
    if "$top/packaging/build-deb.sh" "$out"; then
        "$top/packaging/tests/test-package.sh" "$out"/termguard_*.deb || status=1
    else
        status=1
    fi
    rm -rf "$out"
fi

[ "$status" -eq 0 ] && echo "ALL TESTS PASSED" || echo "SOME TESTS FAILED"
exit "$status"
