#!/bin/bash
# run-smoke.sh : build the VM pieces in a temp dir and run smoke.sh, the
# scenario that proves the harness itself (no termguard binaries; empty
# DESTDIR). Exits with the scenario's status (125: VM never reported one).
# The kernel is cached in ${TG_VM_CACHE:-/var/cache/termguard-vm}.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cache=${TG_VM_CACHE:-/var/cache/termguard-vm}

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

"$here/fetch-kernel.sh" "$cache"
mkdir "$work/destdir"
add=()
# A dynamically linked host program proves the ldd library copy.
if [ -x /usr/bin/lsblk ]; then
    add=(--add /usr/bin/lsblk:/usr/bin/lsblk)
fi
"$here/build-initramfs.sh" --kernel-dir "$cache" --destdir "$work/destdir" \
    --scenario "$here/smoke.sh" --out "$work/initrd.gz" "${add[@]}"

set +e
"$here/run-vm.sh" --kernel-dir "$cache" --initrd "$work/initrd.gz" \
    --timeout "${TG_VM_TIMEOUT:-240}" --log "$work/smoke.log"
rc=$?
set -e
echo "run-smoke: exit $rc" >&2
exit "$rc"
