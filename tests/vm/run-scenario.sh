#!/bin/bash
# run-scenario.sh BUILD_DIR SCENARIO [--add SRC:DEST ...]
# Installs the build in BUILD_DIR into a fresh DESTDIR (cmake --install, as a package
# would), boots it in a throwaway QEMU VM on the Debian kernel with SCENARIO as the
# test program, and exits with the scenario's status (125: the VM reported none).
# The kernel is cached in ${TG_VM_CACHE:-/var/cache/termguard-vm}.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cache=${TG_VM_CACHE:-/var/cache/termguard-vm}
build=${1:?usage: run-scenario.sh BUILD_DIR SCENARIO [--add SRC:DEST ...]}
scenario=${2:?usage: run-scenario.sh BUILD_DIR SCENARIO [--add SRC:DEST ...]}
shift 2

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

"$here/fetch-kernel.sh" "$cache" >&2
DESTDIR="$work/destdir" cmake --install "$build" >/dev/null
# glibc's C.UTF-8 locale data, so messages can be checked in Japanese (LANGUAGE=ja).
locale=()
[ -d /usr/lib/locale/C.utf8 ] && locale=(--add /usr/lib/locale/C.utf8:/usr/lib/locale/C.utf8)
# Libraries termguardd loads on demand (dlopen), which ldd cannot see.
for lib in $("$here/dlopen-libs.sh"); do
    locale+=(--add "$lib:$lib")
done
"$here/build-initramfs.sh" --kernel-dir "$cache" --destdir "$work/destdir" \
    --scenario "$scenario" --out "$work/initrd.gz" "${locale[@]}" "$@" >&2

set +e
"$here/run-vm.sh" --kernel-dir "$cache" --initrd "$work/initrd.gz" \
    --timeout "${TG_VM_TIMEOUT:-600}" --log "${TG_VM_LOG:-$work/vm.log}"
rc=$?
set -e
exit "$rc"
