#!/bin/bash
# bench/journal.sh [BUILD_DIR] [--size MIB] [SYNC_RECORDS BATCHED_RECORDS]
#
# Figures of the audit journal store on a real block device: an ext4 image on a loop device
# (tmpfs would make every fdatasync free). Appends with fdatasync per record, appends in
# batches of 1000 with one sync each, and verify over the whole journal (cold cache, then
# every MAC with the key). Prints figures, decides nothing. Needs root (loop device, mount).
# Without BUILD_DIR, termguard's core is built (Release) in build-bench/. See bench/README.md.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
top=$(cd "$here/.." && pwd)
build='' size=1024 counts=()
while [ $# -gt 0 ]; do
    case $1 in
    --size) size=${2:?}; shift 2 ;;
    -h | --help) sed -n '2,8p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) echo "journal-bench: unknown option $1" >&2; exit 2 ;;
    *)
        if [ -z "$build" ] && [ -d "$1" ]; then build=$1; else counts+=("$1"); fi
        shift
        ;;
    esac
done
[ "$(id -u)" = 0 ] || { echo "journal-bench: needs root (loop device, mount)" >&2; exit 2; }

if [ -z "$build" ]; then
    build="$top/build-bench"
    cmake -S "$top" -B "$build" -DCMAKE_BUILD_TYPE=Release -DBUILD_TESTING=OFF >/dev/null
fi
cmake --build "$build" -j2 --target termguard >/dev/null
work=$(mktemp -d /var/tmp/tg-journal-bench.XXXXXX)
mnt="$work/mnt"
cleanup() {
    mountpoint -q "$mnt" && umount "$mnt"
    rm -rf "$work"
}
trap cleanup EXIT
cc -O2 -Wall -Wextra -Werror -I"$top/include" -o "$work/journal-bench" "$here/journal-bench.c" \
    "$build/lib/libtermguard.a" $(pkg-config --libs libgcrypt json-c inih libusb-1.0)

truncate -s "${size}M" "$work/ext4.img"
mkfs.ext4 -q -F "$work/ext4.img"
mkdir "$mnt"
mount -o loop "$work/ext4.img" "$mnt"
mkdir -m 0700 "$mnt/journal"
echo "journal-bench: ext4 on $(findmnt -n -o SOURCE "$mnt") (image in $(findmnt -n -o SOURCE --target /var/tmp)), $(uname -r)"
"$work/journal-bench" "$mnt/journal" "$mnt/host-id" "${counts[@]}"
