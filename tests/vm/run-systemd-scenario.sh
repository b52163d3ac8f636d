#!/bin/bash
# run-systemd-scenario.sh BUILD_DIR SCENARIO [--add SRC:DEST ...]
# Boots a Debian 12 root with systemd as PID 1 (fetch-debian-root.sh) on the Debian kernel
# (fetch-kernel.sh) in a throwaway QEMU VM, with the build in BUILD_DIR installed into it as
# a package would (cmake --install, termguardd.service enabled in sysinit.target), and runs
# SCENARIO (POSIX sh, with lib.sh as /lib/tg/lib.sh) as a unit once the system is up. Exits
# with the scenario's status (125: the VM reported none). Both are cached in
# ${TG_VM_CACHE:-/var/cache/termguard-vm}.
# --add SRC:DEST copies a host file into the VM's root (DEST absolute).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cache=${TG_VM_CACHE:-/var/cache/termguard-vm}
usage="usage: run-systemd-scenario.sh BUILD_DIR SCENARIO [--add SRC:DEST ...]"
build=${1:?$usage}
scenario=${2:?$usage}
shift 2
adds=()
while [ $# -gt 0 ]; do
    case $1 in
    --add) adds+=("${2:?}"); shift 2 ;;
    *) echo "run-systemd-scenario: unknown argument: $1" >&2; exit 2 ;;
    esac
done
die() {
    echo "run-systemd-scenario: $*" >&2
    exit 1
}
[ "$(id -u)" -eq 0 ] || die "must run as root (file ownership in the image)"
[ -f "$scenario" ] || die "scenario $scenario not found"
for tool in mkfs.ext4 cpio busybox depmod; do
    command -v "$tool" >/dev/null || die "$tool not found (scripts/install-deps.sh test)"
done

# Modules of the root's own boot (stage 1 loads them to mount the root image), and those the
# scenarios use (gadget sticks, the host side of USB storage, vfat).
boot_modules=(virtio_pci virtio_blk ext4)
modules=(usbcore xhci-pci usb-storage sd_mod dummy_hcd libcomposite usb_f_mass_storage configfs vfat
    nls_cp437 nls_iso8859-1 nls_utf8 nls_ascii)

work=$(mktemp -d)
trap 'rm -rf --one-file-system "$work"' EXIT
"$here/fetch-kernel.sh" "$cache" >&2
"$here/fetch-debian-root.sh" "$cache" >&2
kroot=$cache/root
version=$(cat "$cache/version")

# --- the root: cached Debian, the build installed as a package would -------------------
root=$work/root
mkdir "$root"
tar -C "$root" --numeric-owner -xzf "$cache/debian-root.tar.gz"
DESTDIR=$root cmake --install "$build" >/dev/null
unit=$(find "$root/lib/systemd/system" "$root/usr/lib/systemd/system" -name termguardd.service 2>/dev/null | head -n 1)
[ -n "$unit" ] || die "cmake --install put no termguardd.service into the root"
mkdir -p "$root/etc/systemd/system/sysinit.target.wants"
ln -sfn "${unit#"$root"}" "$root/etc/systemd/system/sysinit.target.wants/termguardd.service"
echo tgvm >"$root/etc/hostname"
# The console belongs to the scenario: no login prompts on it.
ln -sfn /dev/null "$root/etc/systemd/system/serial-getty@ttyS0.service"
ln -sfn /dev/null "$root/etc/systemd/system/getty@tty1.service"

mkdir -p "$root/lib/tg"
cp "$here/lib.sh" "$root/lib/tg/lib.sh"
cp "$scenario" "$root/lib/tg/scenario.sh"
for spec in "${adds[@]}"; do
    src=${spec%%:*} dest=${spec#*:}
    case $dest in /*) ;; *) die "--add DEST must be absolute: $spec" ;; esac
    [ -e "$src" ] || die "--add source $src not found"
    mkdir -p "$root$(dirname "$dest")"
    cp -rL "$src" "$root$dest"
done
# The scenario runs once the system is up, with its output on the serial console, and
# powers the VM off (-no-reboot turns that into QEMU's exit).
cat >"$root/lib/tg/run-scenario" <<'EOF'
#!/bin/sh
echo "TG-VM: booted"
cd /
sh /lib/tg/scenario.sh
rc=$?
echo "TG-VM-EXIT=$rc"
sync
systemctl --no-block poweroff
EOF
chmod 755 "$root/lib/tg/run-scenario"
cat >"$root/etc/systemd/system/tg-vm-scenario.service" <<'EOF'
[Unit]
Description=termguard VM scenario
After=multi-user.target

[Service]
Type=oneshot
TimeoutStartSec=infinity
Environment=PATH=/usr/sbin:/usr/bin:/sbin:/bin TG_VM=1
ExecStart=/lib/tg/run-scenario
StandardOutput=tty
StandardError=tty
TTYPath=/dev/ttyS0
EOF
mkdir -p "$root/etc/systemd/system/multi-user.target.wants"
ln -sfn ../tg-vm-scenario.service "$root/etc/systemd/system/multi-user.target.wants/tg-vm-scenario.service"

# --- kernel modules (with their dependencies) -----------------------------------------
stage1_list=()
copy_modules() { # LISTVAR MODULE...: copies each module and its dependencies into the root
    local -n list=$1
    local m kind path rel
    shift
    for m in "$@"; do
        while read -r kind path _; do
            [ "$kind" = insmod ] || continue
            rel=${path#"$kroot"}
            list+=("$rel")
            mkdir -p "$root$(dirname "$rel")"
            cp -n "$kroot$rel" "$root$rel"
        done < <(modprobe -d "$kroot" -S "$version" --show-depends "$m" || die "module $m not found")
    done
}
copy_modules stage1_list "${boot_modules[@]}"
# shellcheck disable=SC2034 # filled by copy_modules; the scenarios load the modules with modprobe
scenario_list=()
copy_modules scenario_list "${modules[@]}"
for f in modules.order modules.builtin modules.builtin.modinfo; do
    [ -f "$kroot/lib/modules/$version/$f" ] && cp "$kroot/lib/modules/$version/$f" "$root/lib/modules/$version/"
done
depmod -b "$root" "$version"

# --- the root image --------------------------------------------------------------------
mkfs.ext4 -q -F -L tgroot -d "$root" "$work/root.img" 1536M

# --- stage 1: load the disk and ext4 modules, mount the root image, hand over to systemd -
s1=$work/stage1
mkdir -p "$s1"/{bin,dev,proc,sys,newroot}
cp -L "$(command -v busybox)" "$s1/bin/busybox"
for a in sh mount umount insmod switch_root sleep poweroff echo; do ln -s busybox "$s1/bin/$a"; done
printf '%s\n' "${stage1_list[@]}" | awk '!seen[$0]++' >"$s1/modules.list"
while read -r rel; do
    mkdir -p "$s1$(dirname "$rel")"
    cp "$root$rel" "$s1$rel"
done <"$s1/modules.list"
cat >"$s1/init" <<'EOF'
#!/bin/sh
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
exec </dev/console >/dev/console 2>&1
while read -r m; do insmod "$m" 2>/dev/null; done </modules.list
i=0
while [ ! -b /dev/vda ] && [ "$i" -lt 300 ]; do sleep 0.1; i=$((i + 1)); done
if ! mount -t ext4 -o rw /dev/vda /newroot; then
    echo "TG-VM: stage 1 cannot mount the root image"
    poweroff -f
fi
umount /proc /sys
mount -o move /dev /newroot/dev
exec switch_root /newroot /lib/systemd/systemd
EOF
chmod 755 "$s1/init"
(cd "$s1" && find . | cpio -o -H newc --quiet --owner=0:0) | gzip -1 >"$work/stage1.gz"

set +e
"$here/run-vm.sh" --kernel-dir "$cache" --initrd "$work/stage1.gz" \
    --append "systemd.show_status=error" --timeout "${TG_VM_TIMEOUT:-900}" --log "${TG_VM_LOG:-$work/vm.log}" \
    --qemu-arg -drive --qemu-arg "file=$work/root.img,if=virtio,format=raw"
rc=$?
set -e
exit "$rc"
