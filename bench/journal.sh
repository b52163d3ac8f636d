#!/bin/bash
# bench/journal.sh [BUILD_DIR] [--size MIB] [--vm] [--last FILE] [SYNC_RECORDS BATCHED_RECORDS]
#
# Figures of the audit journal store on real block devices, never tmpfs (where every
# fdatasync is free): appends with fdatasync per record, appends in batches of 1000 with one
# sync each, and verify over the whole journal (cold cache, then every MAC with the key).
#   host loop device: an ext4 image in /var/tmp on a loop device (always);
#   --vm: also in the test VM (QEMU, tests/vm/), on ext4 on a virtio disk whose image is a
#         file in /var/tmp on the host's disk (cache=none: the guest's flushes reach it).
# Prints the figures beside the previous run's (kept in FILE, default
# /var/tmp/termguard-bench/journal.last) and decides nothing. Needs root (loop device, mount,
# initramfs). Without BUILD_DIR, termguard's core is built (Release) in build-bench/. Run VM
# runs under `flock /work/vm.lock` on shared machines. See bench/README.md.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
top=$(cd "$here/.." && pwd)
vmdir=$top/tests/vm
cache=${TG_VM_CACHE:-/var/cache/termguard-vm}
build='' size=1024 vm=0 last=/var/tmp/termguard-bench/journal.last counts=()
while [ $# -gt 0 ]; do
    case $1 in
    --size) size=${2:?}; shift 2 ;;
    --vm) vm=1; shift ;;
    --last) last=${2:?}; shift 2 ;;
    -h | --help) sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) echo "journal-bench: unknown option $1" >&2; exit 2 ;;
    *)
        if [ -z "$build" ] && [ -d "$1" ]; then build=$1; else counts+=("$1"); fi
        shift
        ;;
    esac
done
for n in "$size" "${counts[@]}"; do
    case $n in '' | *[!0-9]*) echo "journal-bench: sizes and counts are whole numbers" >&2; exit 2 ;; esac
done
[ "${#counts[@]}" -le 2 ] || { echo "journal-bench: at most SYNC_RECORDS BATCHED_RECORDS" >&2; exit 2; }
[ "$(id -u)" = 0 ] || { echo "journal-bench: needs root (loop device, mount)" >&2; exit 2; }
if [ "$vm" = 1 ]; then
    command -v qemu-system-x86_64 >/dev/null || { echo "journal-bench: qemu-system-x86_64 not found" >&2; exit 2; }
fi

if [ -z "$build" ]; then
    build="$top/build-bench"
    cmake -S "$top" -B "$build" -DCMAKE_BUILD_TYPE=Release -DBUILD_TESTING=OFF >/dev/null
fi
cmake --build "$build" -j2 --target termguard >/dev/null
# the images live on the host's disk, not in a tmpfs /tmp
work=$(mktemp -d /var/tmp/tg-journal-bench.XXXXXX)
mnt="$work/mnt"
cleanup() {
    mountpoint -q "$mnt" && umount "$mnt"
    rm -rf "$work"
}
trap cleanup EXIT
# shellcheck disable=SC2046 # pkg-config's flags are separate words
cc -O2 -Wall -Wextra -Werror -I"$top/include" -o "$work/journal-bench" "$here/journal-bench.c" \
    "$build/lib/libtermguard.a" $(pkg-config --libs libgcrypt json-c inih libusb-1.0)

# ---- host: ext4 on a loop device -------------------------------------------------------
truncate -s "${size}M" "$work/ext4.img"
mkfs.ext4 -q -F "$work/ext4.img"
mkdir "$mnt"
mount -o loop "$work/ext4.img" "$mnt"
mkdir -m 0700 "$mnt/journal"
echo "journal-bench: host: ext4 on $(findmnt -n -o SOURCE "$mnt") (image in $(findmnt -n -o SOURCE --target /var/tmp)), $(uname -r), $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)"
"$work/journal-bench" "$mnt/journal" "$mnt/host-id" "${counts[@]}" | tee "$work/host.out"
umount "$mnt"
rm -f "$work/ext4.img"

# ---- VM: ext4 on a virtio disk backed by an image file on the host's disk ----------------
if [ "$vm" = 1 ]; then
    truncate -s "${size}M" "$work/vm-disk.img"
    mkfs.ext4 -q -F "$work/vm-disk.img"
    mkdir -p "$work/destdir"
    printf 'COUNTS="%s"\n' "${counts[*]}" >"$work/journal-bench.env"
    "$vmdir/fetch-kernel.sh" "$cache" >&2
    "$vmdir/build-initramfs.sh" --kernel-dir "$cache" --destdir "$work/destdir" \
        --scenario "$here/journal-vm.sh" --out "$work/initrd.gz" \
        --add "$work/journal-bench:/usr/bin/journal-bench" \
        --add "$work/journal-bench.env:/etc/journal-bench.env" \
        --module virtio_pci --module virtio_blk --module ext4 >&2
    echo "journal-bench: VM: booting (QEMU TCG, 1 vCPU; load $(cut -d' ' -f1-3 /proc/loadavg))" >&2
    set +e
    # cache=none: the image is opened O_DIRECT, the guest's reads reach the disk and its
    # flushes become the host's fdatasync of the image file
    "$vmdir/run-vm.sh" --kernel-dir "$cache" --initrd "$work/initrd.gz" \
        --timeout "${TG_VM_TIMEOUT:-3600}" --log "$work/vm.log" \
        --qemu-arg -drive --qemu-arg "file=$work/vm-disk.img,if=virtio,format=raw,cache=none,aio=threads" \
        >/dev/null
    vm_rc=$?
    set -e
    sed -n 's/^JBENCH //p' "$work/vm.log" | tee "$work/vm.out"
    if [ "$vm_rc" -ne 0 ]; then
        tail -n 30 "$work/vm.log" >&2
        echo "journal-bench: the VM run failed (status $vm_rc)" >&2
    fi
fi

# ---- figures beside the previous run's --------------------------------------------------
# figure OUT KIND: one number from journal-bench's output
figure() {
    [ -f "$1" ] || return 0
    case $2 in
    baseline) sed -n 's/^baseline.*: \([0-9]*\)\/s$/\1/p' "$1" ;;
    sync) sed -n 's/^append, fdatasync per record:.* = \([0-9]*\) records\/s$/\1/p' "$1" ;;
    batch) sed -n 's/^append, batches of.* = \([0-9]*\) records\/s$/\1/p' "$1" ;;
    records) sed -n 's/^verify, structure.*: \([0-9]*\) records in.*/\1/p' "$1" ;;
    verify) sed -n 's/^verify, structure.* in \([0-9.]*\) s,.*/\1/p' "$1" ;;
    verify_mac) sed -n 's/^verify, every MAC.* in \([0-9.]*\) s,.*/\1/p' "$1" ;;
    esac
}
prev() { [ -f "$last" ] && sed -n "s/^$1=//p" "$last" | head -n 1; }
or_na() { if [ -n "$1" ]; then echo "$1"; else echo n/a; fi; }
kinds=(baseline sync batch verify verify_mac)
labels=("baseline write+fdatasync (/s)" "append, fdatasync per record (/s)" "append, batches of 1000 (/s)"
    "verify, structure and chain (s)" "verify, every MAC (s)")
{
    echo
    echo "journal-bench: $(git -C "$top" rev-parse --short HEAD 2>/dev/null || echo unknown), $(date -u '+%F %H:%M UTC'), load $(cut -d' ' -f1-3 /proc/loadavg); verify over $(or_na "$(figure "$work/host.out" records)") records (host)"
    printf '%-36s %12s %12s %14s %14s\n' figure "host loop" VM "previous host" "previous VM"
    for i in "${!kinds[@]}"; do
        k=${kinds[$i]}
        printf '%-36s %12s %12s %14s %14s\n' "${labels[$i]}" "$(or_na "$(figure "$work/host.out" "$k")")" \
            "$(or_na "$(figure "$work/vm.out" "$k")")" "$(or_na "$(prev "host_$k")")" "$(or_na "$(prev "vm_$k")")"
    done
    [ -z "$(prev host_when)" ] || echo "previous host run: $(prev host_when)"
    [ -z "$(prev vm_when)" ] || echo "previous VM run: $(prev vm_when)"
}
mkdir -p "$(dirname "$last")"
{
    now="$(git -C "$top" rev-parse --short HEAD 2>/dev/null || echo unknown), $(date -u '+%F %H:%M UTC')"
    echo "host_when=$now"
    if [ -s "$work/vm.out" ]; then echo "vm_when=$now"; else echo "vm_when=$(prev vm_when)"; fi
    for k in "${kinds[@]}"; do
        v=$(figure "$work/host.out" "$k")
        echo "host_$k=${v:-$(prev "host_$k")}"
        v=$(figure "$work/vm.out" "$k")
        echo "vm_$k=${v:-$(prev "vm_$k")}"
    done
} >"$last.new"
mv "$last.new" "$last"
[ "$vm" = 0 ] || [ "${vm_rc:-0}" = 0 ] || exit 1
