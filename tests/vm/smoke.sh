# shellcheck shell=sh
# Smoke scenario for the VM harness itself (no termguard involved): proves
# that the kernel behaviours the real scenarios rely on are observable with
# emulated gadget sticks. Runs inside the VM under busybox sh.
# shellcheck disable=SC1091 # exists only inside the VM
. /lib/tg/lib.sh

IMG1=/tmp/stick1.img
IMG2=/tmp/stick2.img

tg_section "setup"
check "vfat image 1 created" tg_make_image "$IMG1" 16 STICK1
check "vfat image 2 created" tg_make_image "$IMG2" 16 STICK2
check "dummy_hcd loaded with 2 controllers" tg_load_dummy_hcd 2
check "dummy_udc.0 present" test -e /sys/class/udc/dummy_udc.0
check "dummy_udc.1 present" test -e /sys/class/udc/dummy_udc.1
check_not "no USB disk before any stick" any_sd_disk
check "user staff is uid 1000" test "$(id -u staff)" = 1000
check "user admin is uid 1001" test "$(id -u admin)" = 1001
check "admin is in group tgadmin" sh -c "id -Gn admin | grep -qw tgadmin"
check_not "staff is not in group tgadmin" sh -c "id -Gn staff | grep -qw tgadmin"
# run-smoke.sh adds the host's (dynamic) lsblk: proves the ldd library copy.
if [ -e /usr/bin/lsblk ]; then
    check "dynamically linked --add program runs" /usr/bin/lsblk --version
fi

# --- device authorization ---------------------------------------------------
tg_section "device authorization (authorized_default=0)"
HUB0=$(usb_roothub_for_udc dummy_udc.0)
tg_info "root hub for dummy_udc.0: $HUB0"
# Lock the root hub BEFORE binding, or the stick is authorized on arrival.
echo 0 >"$HUB0/authorized_default"
check "root hub 0 locked" grep -qx 0 "$HUB0/authorized_default"
check "gadget stick1 created" gadget_create stick1 0x0951 0x1666 TGSERIAL0001 "$IMG1"
check "gadget stick1 bound" gadget_bind stick1 dummy_udc.0
check "stick1 enumerated on host" wait_for 10 usb_dev_present dummy_udc.0
DEV1=$(usb_dev_for_udc dummy_udc.0)
tg_info "stick1 device: $DEV1"
check "stick1 authorized=0" grep -qx 0 "$DEV1/authorized"
check "stick1 idVendor is 0951" grep -qx 0951 "$DEV1/idVendor"
check "stick1 idProduct is 1666" grep -qx 1666 "$DEV1/idProduct"
check_not "no disk from unauthorized stick within 5 s" wait_for 5 any_sd_disk
check_not "unauthorized stick has no interfaces" \
    sh -c "ls -d '$DEV1'/*:* >/dev/null 2>&1"

# What an unauthorized device exposes (reported, not asserted, except where
# the daemon will rely on it).
tg_info "unauthorized bConfigurationValue: '$(cat "$DEV1/bConfigurationValue")'"
tg_info "unauthorized bNumConfigurations: $(cat "$DEV1/bNumConfigurations")"
DESC_LEN=$(wc -c <"$DEV1/descriptors")
tg_info "unauthorized descriptors length: $DESC_LEN bytes"
xxd "$DEV1/descriptors"
for a in manufacturer product serial; do
    if [ -e "$DEV1/$a" ]; then
        tg_info "unauthorized $a: exists: '$(cat "$DEV1/$a")'"
    else
        tg_info "unauthorized $a: absent"
    fi
done
check "unauthorized stick: descriptors holds device descriptor" \
    test "$DESC_LEN" -ge 18

echo 1 >"$DEV1/authorized"
check "stick1 authorized=1 after write" grep -qx 1 "$DEV1/authorized"
check "disk appears after authorization" wait_for 15 any_sd_disk
DISK=$(usb_disks_for_dev "$DEV1" | head -n 1)
tg_info "stick1 disk: $DISK"
check "disk belongs to stick1" test -n "$DISK"
check "disk node exists" wait_for 5 test -b "/dev/$DISK"
for a in manufacturer product serial; do
    if [ -e "$DEV1/$a" ]; then
        tg_info "authorized $a: '$(cat "$DEV1/$a")'"
    fi
done
check "serial matches gadget" grep -qx TGSERIAL0001 "$DEV1/serial"

# --- BLKROSET ---------------------------------------------------------------
tg_section "read-only block device (BLKROSET)"
check "blockdev --setro" blockdev --setro "/dev/$DISK"
check "blockdev --getro reports 1" sh -c "[ \"\$(blockdev --getro /dev/$DISK)\" = 1 ]"
check "sysfs ro=1" grep -qx 1 "/sys/block/$DISK/ro"
mkdir -p /mnt/stick1
# busybox mount retries read-only when the device is write-protected.
mount -t vfat -o rw "/dev/$DISK" /mnt/stick1
tg_info "mount rc=$? line: $(grep " /mnt/stick1 " /proc/mounts)"
check "mount -o rw came up" grep -q " /mnt/stick1 " /proc/mounts
check "mount is ro in /proc/mounts" \
    sh -c "grep ' /mnt/stick1 ' /proc/mounts | awk '{print \$4}' | grep -Eq '(^|,)ro(,|$)'"
check "writing a file fails with EROFS" \
    sh -c "(echo data >/mnt/stick1/new.txt) 2>&1 | grep -q 'Read-only file system'"
check_not "file was not created" test -e /mnt/stick1/new.txt
RAW_ERR=$(dd if=/dev/zero of="/dev/$DISK" bs=512 count=1 conv=notrunc 2>&1)
RAW_RC=$?
tg_info "raw write: rc=$RAW_RC: $RAW_ERR"
check "raw write to disk fails" test "$RAW_RC" -ne 0
umount /mnt/stick1

# --- interface authorization --------------------------------------------------
tg_section "interface authorization (interface_authorized_default=0)"
HUB1=$(usb_roothub_for_udc dummy_udc.1)
tg_info "root hub for dummy_udc.1: $HUB1"
echo 0 >"$HUB1/interface_authorized_default"
check "root hub 1 interface_authorized_default=0" \
    grep -qx 0 "$HUB1/interface_authorized_default"
check "composite gadget created (storage+hid)" \
    gadget_create combo 0x1234 0x5678 TGCOMBO0001 "$IMG2" hid
RD_LEN=$(wc -c </sys/kernel/config/usb_gadget/combo/functions/hid.0/report_desc)
check "hid report descriptor is 63 bytes" test "$RD_LEN" -eq 63
RD_HEX=$(xxd -p /sys/kernel/config/usb_gadget/combo/functions/hid.0/report_desc | tr -d '\n')
check "hid report descriptor bytes are the boot keyboard's" test "$RD_HEX" = \
    05010906a101050719e029e71500250175019508810295017508810395057501050819012905910295017503910395067508150025650507190029658100c0
check "composite gadget bound" gadget_bind combo dummy_udc.1
check "composite enumerated on host" wait_for 10 usb_dev_present dummy_udc.1
DEV2=$(usb_dev_for_udc dummy_udc.1)
tg_info "composite device: $DEV2"
check "composite device authorized=1" grep -qx 1 "$DEV2/authorized"
N2=$(basename "$DEV2")
check "composite configured (2 interfaces)" \
    wait_for 10 test -e "$DEV2/$N2:1.1/bInterfaceClass"
IF_MS=$DEV2/$N2:1.0
IF_HID=$DEV2/$N2:1.1
check "interface 0 is mass storage" grep -qx 08 "$IF_MS/bInterfaceClass"
check "interface 1 is HID" grep -qx 03 "$IF_HID/bInterfaceClass"
check "interface 0 authorized=0" grep -qx 0 "$IF_MS/authorized"
check "interface 1 authorized=0" grep -qx 0 "$IF_HID/authorized"
sleep 2
check_not "storage interface has no driver" test -e "$IF_MS/driver"
check_not "hid interface has no driver" test -e "$IF_HID/driver"
check "still only stick1's disk" sh -c "[ \"\$(ls -d /sys/block/sd* | wc -l)\" = 1 ]"

echo 1 >"$IF_HID/authorized"
check "hid interface authorized=1" grep -qx 1 "$IF_HID/authorized"
sleep 1
tg_info "hid driver after authorized=1 alone: $(basename "$(readlink "$IF_HID/driver" 2>/dev/null)" 2>/dev/null)"
echo "$N2:1.1" >/sys/bus/usb/drivers_probe
check "hid interface bound after drivers_probe" wait_for 5 test -e "$IF_HID/driver"
tg_info "hid driver: $(basename "$(readlink "$IF_HID/driver")")"
check "hid driver is usbhid" \
    sh -c "[ \"\$(basename \"\$(readlink '$IF_HID/driver')\")\" = usbhid ]"
check_not "storage interface still unbound" test -e "$IF_MS/driver"

# --- unplug ---------------------------------------------------------------------
tg_section "unplug"
check "stick1 unbound" gadget_unbind stick1
stick1_gone() { [ ! -e "$DEV1" ]; }
check "stick1 gone from host" wait_for 10 stick1_gone
check_not "stick1 disk gone" test -e "/sys/block/$DISK"

tg_summary
