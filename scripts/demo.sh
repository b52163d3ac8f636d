#!/bin/bash
# demo.sh : sets everything up on a fresh Debian 12 machine (as root), builds termguard,
# and boots a throwaway QEMU VM on the Debian kernel in which emulated USB sticks show
# termguard at work: an unregistered stick blocked, a registered one read-only, one with a
# write exception writable until expiry, the files written to it recorded, a composite
# device, the daemon killed, and the events it recorded.
set -euo pipefail
top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

"$top/scripts/install-deps.sh" demo
cmake -S "$top" -B "$top/build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$top/build" -j"$(nproc)"
echo
echo "Booting the demonstration VM (software emulation, about a minute)..."
exec "$top/tests/vm/run-scenario.sh" "$top/build" "$top/tests/vm/e2e.sh" \
    --add "$top/tests/vm/media-audit.sh:/lib/tg/media-audit.sh" --add /usr/sbin/mkfs.exfat:/usr/sbin/mkfs.exfat
