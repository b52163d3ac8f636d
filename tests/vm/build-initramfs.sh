#!/bin/bash
# build-initramfs.sh --kernel-dir KDIR --destdir DESTDIR --scenario FILE
#                    --out INITRD [--add SRC:DEST ...] [--module NAME ...]
#
# Build a gzip'd newc initramfs that boots straight into a test scenario:
#   - busybox-static, applet links in /bin and /sbin
#   - the USB/storage/gadget modules (with dependencies) of the kernel that
#     fetch-kernel.sh unpacked into KDIR, plus /etc/tg-modules.list (insmod
#     order) and modules.dep so busybox modprobe/modinfo work too
#   - DESTDIR (a `cmake --install` tree, prefix /usr) copied over the root
#   - every shared library ldd reports for ELF files of DESTDIR and --add
#   - --add SRC:DEST extra host files or directories (DEST absolute)
#   - --module NAME an extra kernel module (with its dependencies), loaded at boot like the
#     others (e.g. virtio_pci, virtio_blk and ext4 for a disk image)
#   - users root(0), staff(1000), admin(1001, in group tgadmin 1001)
#   - /init, FILE as /scenario.sh, lib.sh as /lib/tg/lib.sh
# /init prints "TG-VM: booted", runs the scenario, prints "TG-VM-EXIT=<rc>"
# and powers off; run-vm.sh turns that into its exit status.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

# Modules the scenarios need; dependencies are resolved with modprobe.
# nls_ascii: Debian's FAT_DEFAULT_IOCHARSET is "ascii"; without it every
# plain vfat mount fails with EINVAL ("IO charset ascii not found").
modules=(usbcore xhci-pci usb-storage sd_mod dummy_hcd libcomposite
    usb_f_mass_storage usb_f_hid usb_f_fs usbhid hid-generic configfs vfat exfat sg sr_mod
    nls_cp437 nls_iso8859-1 nls_utf8 nls_ascii)

usage() {
    sed -n '2,3p' "$0" | sed 's/^# \{0,1\}//' >&2
    exit 2
}
die() {
    echo "build-initramfs: $*" >&2
    exit 1
}

kdir='' destdir='' scenario='' out=''
adds=()
while [ $# -gt 0 ]; do
    case $1 in
    --kernel-dir) kdir=${2:?}; shift 2 ;;
    --destdir) destdir=${2:?}; shift 2 ;;
    --scenario) scenario=${2:?}; shift 2 ;;
    --out) out=${2:?}; shift 2 ;;
    --add) adds+=("${2:?}"); shift 2 ;;
    --module) modules+=("${2:?}"); shift 2 ;;
    -h | --help) usage ;;
    *) echo "build-initramfs: unknown argument: $1" >&2; usage ;;
    esac
done
if [ -z "$kdir" ] || [ -z "$destdir" ] || [ -z "$scenario" ] || [ -z "$out" ]; then
    usage
fi
if [ ! -f "$kdir/version" ] || [ ! -d "$kdir/root" ]; then
    die "$kdir is not a fetch-kernel.sh dir (no version or root/)"
fi
[ -d "$destdir" ] || die "DESTDIR $destdir is not a directory"
[ -f "$scenario" ] || die "scenario $scenario not found"
[ "$(id -u)" -eq 0 ] || die "must run as root (file ownership in the image)"

kroot=$(cd "$kdir/root" && pwd)
destdir=$(cd "$destdir" && pwd)
version=$(cat "$kdir/version")

root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT

# --- skeleton --------------------------------------------------------------
mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,lib,lib64,etc,proc,sys,dev,run,tmp,mnt,root} \
    "$root"/var/{lib,log,tmp,cache} "$root"/home/{staff,admin} "$root/lib/tg"
chmod 1777 "$root/tmp" "$root/var/tmp"
chmod 0700 "$root/root"
ln -s ../run "$root/var/run"
# The kernel opens /dev/console before /init runs, i.e. before devtmpfs is
# mounted; without the node /init would start with no stdio. /init also
# re-opens the console itself, so a failing mknod (no CAP_MKNOD) is fine.
mknod -m 600 "$root/dev/console" c 5 1 2>/dev/null || true
mknod -m 666 "$root/dev/null" c 1 3 2>/dev/null || true

cat >"$root/etc/passwd" <<'EOF'
root:x:0:0:root:/root:/bin/sh
staff:x:1000:1000:staff:/home/staff:/bin/sh
admin:x:1001:1001:admin:/home/admin:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
EOF
cat >"$root/etc/group" <<'EOF'
root:x:0:
staff:x:1000:
tgadmin:x:1001:admin
nogroup:x:65534:
EOF
# glibc (for the binaries under test) reads these; libnss_files is built
# into glibc >= 2.34, so no NSS module has to be copied.
printf 'passwd: files\ngroup: files\nshadow: files\nhosts: files\n' >"$root/etc/nsswitch.conf"
echo "127.0.0.1 localhost tgvm" >"$root/etc/hosts"
echo tgvm >"$root/etc/hostname"

# --- DESTDIR: the build under test, copied over the root -------------------
cp -a "$destdir/." "$root/"

# --- shared libraries ------------------------------------------------------
is_elf() {
    [ -f "$1" ] && [ "$(head -c 4 "$1" | od -An -c | tr -d ' ')" = '177ELF' ]
}

# ldd must also see libraries DESTDIR itself installs (not on the host).
ld_path=
for d in usr/lib/x86_64-linux-gnu usr/lib lib/x86_64-linux-gnu lib; do
    [ -d "$destdir/$d" ] && ld_path+="${ld_path:+:}$destdir/$d"
done

copy_libs() { # ELF file on the host
    local f=$1 out lib
    # Static binaries make ldd fail with "not a dynamic executable".
    out=$(LD_LIBRARY_PATH=$ld_path ldd "$f" 2>&1) || return 0
    if grep -q 'not found' <<<"$out"; then
        die "ldd $f: missing libraries:"$'\n'"$(grep 'not found' <<<"$out")"
    fi
    # "libx.so.1 => /path (0x...)" and "/lib64/ld-linux-x86-64.so.2 (0x...)";
    # linux-vdso has no path and is skipped.
    while read -r lib; do
        case $lib in
        "$destdir"/*) continue ;; # already in the image via DESTDIR
        esac
        if [ ! -e "$root$lib" ]; then
            mkdir -p "$root$(dirname "$lib")"
            cp -L "$lib" "$root$lib"
        fi
    done < <(awk '$2 == "=>" && $3 ~ /^\// { print $3; next }
                  $1 ~ /^\// { print $1 }' <<<"$out")
    # The loader the binaries name in PT_INTERP.
    if [ ! -e "$root/lib64/ld-linux-x86-64.so.2" ]; then
        cp -L /lib64/ld-linux-x86-64.so.2 "$root/lib64/ld-linux-x86-64.so.2"
    fi
}

while IFS= read -r -d '' f; do
    if is_elf "$f"; then copy_libs "$f"; fi
done < <(find "$destdir" -type f -print0)

# --- --add SRC:DEST --------------------------------------------------------
for spec in "${adds[@]}"; do
    src=${spec%%:*}
    dest=${spec#*:}
    if [ "$src" = "$spec" ] || [ -z "$src" ]; then
        die "--add wants SRC:DEST, got $spec"
    fi
    case $dest in /*) ;; *) die "--add DEST must be absolute: $spec" ;; esac
    [ -e "$src" ] || die "--add source $src not found"
    mkdir -p "$root$(dirname "$dest")"
    # rm first: cp onto an existing applet symlink would overwrite busybox.
    rm -rf "${root:?}$dest"
    cp -rL "$src" "$root$dest"
    while IFS= read -r -d '' f; do
        if is_elf "$f"; then copy_libs "$f"; fi
    done < <(find "$root$dest" -type f -print0)
done

# --- busybox ---------------------------------------------------------------
bb=$(command -v busybox) || die "busybox not found (apt-get install busybox-static)"
if [ ! -e "$root/bin/busybox" ]; then
    cp -L "$bb" "$root/bin/busybox"
    copy_libs "$root/bin/busybox" # no-op for busybox-static
fi
# Links only where DESTDIR/--add did not already put a file.
while read -r applet; do
    [ "$applet" = busybox ] && continue
    for d in bin sbin; do
        if [ ! -e "$root/$d/$applet" ] && [ ! -L "$root/$d/$applet" ]; then
            ln -s /bin/busybox "$root/$d/$applet"
        fi
    done
done < <("$root/bin/busybox" --list)
# Scripts with "#!/usr/bin/env ..." shebangs.
[ -e "$root/usr/bin/env" ] || ln -s /bin/busybox "$root/usr/bin/env"

# --- kernel modules --------------------------------------------------------
kmods=()
declare -A seen=()
for m in "${modules[@]}"; do
    deps=$(modprobe -d "$kroot" -S "$version" --show-depends "$m") ||
        die "module $m not found for kernel $version"
    while read -r kind path _; do
        case $kind in
        insmod)
            rel=${path#"$kroot"}
            if [ -z "${seen[$rel]:-}" ]; then
                seen[$rel]=1
                kmods+=("$rel")
            fi
            ;;
        builtin) ;; # compiled into the kernel: nothing to load
        *) die "unexpected modprobe output for $m: $kind $path" ;;
        esac
    done <<<"$deps"
done
: >"$root/etc/tg-modules.list"
for rel in "${kmods[@]}"; do
    mkdir -p "$root$(dirname "$rel")"
    cp "$kroot$rel" "$root$rel"
    echo "$rel" >>"$root/etc/tg-modules.list"
done
for f in modules.order modules.builtin modules.builtin.modinfo; do
    if [ -f "$kroot/lib/modules/$version/$f" ]; then
        cp "$kroot/lib/modules/$version/$f" "$root/lib/modules/$version/$f"
    fi
done
# modules.dep for the subset, so busybox modprobe/modinfo work in the VM.
depmod -b "$root" "$version"

# --- scenario, helpers and /init -------------------------------------------
cp "$scenario" "$root/scenario.sh"
cp "$here/lib.sh" "$root/lib/tg/lib.sh"

cat >"$root/init" <<'EOF'
#!/bin/sh
# PID 1 of the termguard test VM (busybox sh).
export PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root TG_VM=1
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
# Re-open the console in case the kernel found no /dev/console in the cpio.
exec </dev/console >/dev/console 2>&1
mkdir -p /dev/pts /dev/shm
mount -t devpts devpts /dev/pts
mount -t tmpfs -o mode=1777 tmpfs /dev/shm
mount -t tmpfs -o mode=0755 tmpfs /run
mount -t tmpfs -o mode=1777 tmpfs /tmp
hostname tgvm

# dummy_hcd is left to the scenario (tg_load_dummy_hcd): some tests need
# controllers that appear only after the daemon has started.
while read -r m; do
    case $m in */dummy_hcd.ko*) continue ;; esac
    insmod "$m" 2>/dev/null || echo "TG-VM: insmod failed: $m"
done </etc/tg-modules.list
mount -t configfs configfs /sys/kernel/config

echo "TG-VM: booted"
cd /
sh /scenario.sh
rc=$?
echo "TG-VM-EXIT=$rc"
sync
poweroff -f
EOF
chmod 755 "$root/init" "$root/scenario.sh"

# Whatever uid built DESTDIR, everything in the VM belongs to root, except
# the users' homes.
chown -R 0:0 "$root"
chown 1000:1000 "$root/home/staff"
chown 1001:1001 "$root/home/admin"

mkdir -p "$(dirname "$out")"
(cd "$root" && find . -print0 | LC_ALL=C sort -z |
    cpio --null -o -H newc --quiet) | gzip -6 >"$out.tmp"
mv "$out.tmp" "$out"
echo "build-initramfs: $out ($(du -h "$out" | cut -f1), kernel $version)" >&2
