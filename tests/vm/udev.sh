# shellcheck shell=sh
# The udev path of the write-ban, under a real systemd-udevd with the installed rule: the
# helper runs during rule processing, so every listener (udisks) gets the block device's
# event already carrying read-only mount options, after BLKROSET; without a decision it
# fails closed to read-only.
. /lib/tg/lib.sh

EVENTS=/tmp/termguard-events.log
CTL=/usr/bin/termguardctl
NO=0

sysattr() { cat "$1/$2" 2>/dev/null; }
disk_for() { usb_disks_for_dev "$1" | head -n 1; }
has_disk() { [ -n "$(usb_disks_for_dev "$1")" ]; }
prop() { udevadm info -q property -n "/dev/$1" | grep -q "^$2\$"; }
ro_is() { [ "$(cat /sys/block/"$1"/ro)" = "$2" ]; }

plug() {
    _img=/tmp/img-$1
    _udc=dummy_udc.$NO
    NO=$((NO + 1))
    DEV=/nonexistent
    tg_make_image "$_img" 16 TGTEST && gadget_create "$1" 0x0951 0x1666 "$2" "$_img" &&
        gadget_bind "$1" "$_udc" || { echo "plug $1 failed" >&2; return 1; }
    check "$1 enumerated" wait_for 60 usb_dev_present "$_udc" || return 1
    DEV=$(usb_dev_for_udc "$_udc")
}

tg_section "termguard write-ban under systemd-udevd"
check "systemd-udevd starts" /lib/systemd/systemd-udevd --daemon --resolve-names=never
check "udev control socket" wait_for 10 test -e /run/udev/control
check "termguard rule installed" test -f /lib/udev/rules.d/61-termguard.rules
# What every listener (udisks among them) receives for block devices.
udevadm monitor --udev --property --subsystem-match=block >/tmp/udev-monitor.log 2>&1 &
MON=$!

check "audit journal created as an administrator does (termguardctl journal init)" tg_journal_init
/usr/sbin/termguardd >>"$EVENTS" 2>&1 &
DAEMON=$!
check "termguardd up" wait_for 20 test -S /run/termguard/control.socket
check "termguardd sees udev" sh -c "$CTL --json status | grep -q '\"udev_running\":true'"
tg_load_dummy_hcd 3
$CTL media add --vid 0951 --pid 1666 --serial UDEV-RO --label udev-ro >/dev/null
$CTL media add --vid 0951 --pid 1666 --serial UDEV-RW --label udev-rw --mode read-write >/dev/null

tg_section "registered read-only stick"
plug ro UDEV-RO
check "block device" wait_for 30 has_disk "$DEV"
D=$(disk_for "$DEV")
udevadm settle -t 30
check "udev database: TERMGUARD_MODE=read-only" prop "$D" TERMGUARD_MODE=read-only
check "udisks told to mount read-only" prop "$D" UDISKS_MOUNT_OPTIONS_DEFAULTS=ro
check "udisks may not mount rw" sh -c "udevadm info -q property -n /dev/$D | grep '^UDISKS_MOUNT_OPTIONS_ALLOW=' | grep -qv '[=,]rw\(,\|$\)'"
check "disk is read-only" ro_is "$D" 1
check "the add event listeners receive already carries the read-only options" \
    sh -c "awk '/^ACTION=add/{a=1} a&&/^DEVNAME=\/dev\/$D\$/{d=1} a&&d&&/^UDISKS_MOUNT_OPTIONS_DEFAULTS=ro/{f=1} /^\$/{a=0;d=0} END{exit !f}' /tmp/udev-monitor.log"

tg_section "registered read-write stick"
plug rw UDEV-RW
check "block device" wait_for 30 has_disk "$DEV"
RW_DEV=$DEV
D=$(disk_for "$DEV")
udevadm settle -t 30
check "udev database: TERMGUARD_MODE=read-write" prop "$D" TERMGUARD_MODE=read-write
check_not "no read-only mount options" prop "$D" UDISKS_MOUNT_OPTIONS_DEFAULTS=ro
check "disk is writable" ro_is "$D" 0

tg_section "fail closed: the helper cannot learn the decision"
kill "$DAEMON"
wait "$DAEMON" 2>/dev/null
B=$(basename "$RW_DEV")
# A stale decision (another attachment's DEVNUM) must not grant read-write.
sed -i 's/^DEVNUM=.*/DEVNUM=999/' "/run/termguard/devices/$B"
udevadm trigger --action=change "/sys/block/$D"
udevadm settle -t 30
check "stale decision: read-only" ro_is "$D" 1
check "stale decision: TERMGUARD_MODE=read-only" prop "$D" TERMGUARD_MODE=read-only
blockdev --setrw "/dev/$D"
rm -f "/run/termguard/devices/$B"
udevadm trigger --action=change "/sys/block/$D"
udevadm settle -t 30
check "no decision (daemon down): read-only" ro_is "$D" 1
blockdev --setrw "/dev/$D"
rm -rf /run/termguard
udevadm trigger --action=change "/sys/block/$D"
udevadm settle -t 30
check "no runtime directory at all: read-only" ro_is "$D" 1

tg_section "the helper looks for decisions where the configuration puts them"
# RuntimeDirectory= moved by a drop-in: the daemon writes its decisions there, and the helper,
# reading the same configuration, finds them (a path compiled into the helper would not).
mkdir -p /run/tg-alt
printf '[Daemon]\nRuntimeDirectory=/run/tg-alt\n' >/etc/termguard/termguard.conf.d/60-runtime.conf
check "audit journal created as an administrator does (termguardctl journal init)" tg_journal_init
/usr/sbin/termguardd >>"$EVENTS" 2>&1 &
DAEMON=$!
check "termguardd up with RuntimeDirectory=/run/tg-alt" wait_for 20 test -S /run/tg-alt/control.socket
plug rw2 UDEV-RW
check "block device" wait_for 30 has_disk "$DEV"
D=$(disk_for "$DEV")
udevadm settle -t 30
check "decision written in the configured directory" test -f "/run/tg-alt/devices/$(basename "$DEV")"
check "helper found it: TERMGUARD_MODE=read-write" prop "$D" TERMGUARD_MODE=read-write
check "disk is writable" ro_is "$D" 0
# A configuration the helper cannot load: it cannot know where the decisions are.
printf '[Daemon]\nRuntimeDirectory=relative/path\n' >/etc/termguard/termguard.conf.d/70-broken.conf
udevadm trigger --action=change "/sys/block/$D"
udevadm settle -t 30
check "configuration that does not load: read-only" ro_is "$D" 1
check "... TERMGUARD_MODE=read-only" prop "$D" TERMGUARD_MODE=read-only
rm -f /etc/termguard/termguard.conf.d/70-broken.conf
kill "$DAEMON"
wait "$DAEMON" 2>/dev/null

kill "$MON" 2>/dev/null
udevadm control --exit 2>/dev/null
tg_summary
