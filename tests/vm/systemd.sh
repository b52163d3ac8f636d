# shellcheck shell=sh
# termguardd.service as shipped, under systemd as PID 1 (run-systemd-scenario.sh): the unit's
# confinement is in force, and everything termguardd must do still works inside it: the gate,
# BLKROSET, unmounting the users' mounts at an exception's expiry (from its own mount
# namespace), the control socket, restarts. Its exposure is compared with usbguard.service's.
. /lib/tg/lib.sh

CTL=/usr/bin/termguardctl
UNIT=termguardd.service
NO=0

prop() { systemctl show -P "$2" "$1"; }
active() { [ "$(prop "$UNIT" ActiveState)" = active ]; }
main_pid() { prop "$UNIT" MainPID; }
# event_has TYPE TEXT : the journal holds a termguard event of TYPE whose record contains TEXT.
event_has() { journalctl -q --no-pager -o verbose "TERMGUARD_EVENT=$1" | grep -q -- "$2"; }
event_count() { journalctl -q --no-pager -o cat "TERMGUARD_EVENT=$1" | wc -l; }
disk_for() { usb_disks_for_dev "$1" | head -n 1; }
has_disk() { [ -n "$(usb_disks_for_dev "$1")" ]; }
no_disk_for() { [ -z "$(usb_disks_for_dev "$1")" ]; }
disk_ro_is() { _d=$(disk_for "$1"); [ -n "$_d" ] && [ "$(cat /sys/block/"$_d"/ro)" = "$2" ]; }
host_mounted() { grep -q " $1 " /proc/1/mountinfo; }
# in_daemon CMD... : CMD in termguardd's mount namespace (what the daemon sees), as root.
in_daemon() { nsenter -t "$(main_pid)" -m -- "$@"; }
exposure() { systemd-analyze security "$1" 2>/dev/null | sed -n 's/^→ Overall exposure level for .*: \([0-9.]*\) .*/\1/p'; }
# holds_host_ns PID : PID has a descriptor of PID 1's mount namespace open.
holds_host_ns() {
    for _fd in /proc/"$1"/fd/*; do
        [ "$(readlink "$_fd")" = "$(readlink /proc/1/ns/mnt)" ] && return 0
    done
    return 1
}
not_above() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a != "" && b != "" && a + 0 <= b + 0) }'; }

# plug NAME VID PID SERIAL : a gadget stick on the next free UDC; sets DEV.
plug() {
    _img=/tmp/img-$1
    _udc=dummy_udc.$NO
    NO=$((NO + 1))
    DEV=/nonexistent
    tg_make_image "$_img" 16 TGTEST && gadget_create "$1" "$2" "$3" "$4" "$_img" &&
        gadget_bind "$1" "$_udc" || { echo "plug $1 failed" >&2; return 1; }
    check "$1 ($4) enumerated on $_udc" wait_for 60 usb_dev_present "$_udc" || return 1
    DEV=$(usb_dev_for_udc "$_udc")
}

tg_section "termguardd.service under $(systemctl --version | head -n 1) on $(uname -r)"
if ! check "the unit is active: termguardd sent READY=1" wait_for 120 active; then
    # Nothing else can be checked: say why, and stop.
    systemctl status --no-pager -l "$UNIT" | sed 's/^/#   /'
    journalctl -b --no-pager -o short-monotonic | grep -i -e termguard -e 'fd store' | tail -n 60 | sed 's/^/#   /'
    # Which directive keeps it from starting: each relaxed alone in a drop-in.
    mkdir -p /run/systemd/system/$UNIT.d
    for relax in "SystemCallFilter=" "CapabilityBoundingSet=CAP_DAC_OVERRIDE CAP_NET_ADMIN CAP_SYS_PTRACE CAP_FOWNER CAP_CHOWN" \
        "ProtectProc=default" "ProtectKernelTunables=no" "DevicePolicy=auto|DeviceAllow=" "RestrictNamespaces=no" \
        "MemoryDenyWriteExecute=no" "ProtectSystem=no" "ProtectHome=no" "RestrictAddressFamilies=" "ExecStartPre=" \
        "NotifyAccess=all" "PrivateMounts=no" "ProtectKernelModules=no|ProtectKernelLogs=no|ProtectControlGroups=no|ProtectClock=no|ProtectHostname=no"; do
        printf '[Service]\n%s\n' "$relax" | tr '|' '\n' >/run/systemd/system/$UNIT.d/zz-probe.conf
        systemctl daemon-reload
        systemctl reset-failed "$UNIT"
        timeout 60 systemctl restart "$UNIT" 2>/dev/null
        tg_info "with $relax: $(prop "$UNIT" ActiveState)"
    done
    rm -f /run/systemd/system/$UNIT.d/zz-probe.conf
    tg_summary
    exit 1
fi
check "with its status text" test "$(prop "$UNIT" StatusText)" = "Guarding USB storage"
PID=$(main_pid)
check "termguardd holds the host's mount namespace, handed over through the fd store" holds_host_ns "$PID"
tg_info "termguardd is PID $PID; After=$(prop "$UNIT" After)"
# The confinement must not push the gate later in boot: until it runs, the kernel's defaults
# decide about USB devices.
check "it still starts before local file systems (early boot)" \
    sh -c "! systemctl show -P After $UNIT | grep -qw -e local-fs.target -e systemd-tmpfiles-setup.service"

tg_section "the confinement is in force"
check "termguardd has a mount namespace of its own" test "$(readlink "/proc/$PID/ns/mnt")" != "$(readlink /proc/1/ns/mnt)"
tg_info "$(grep -e '^Cap' -e '^NoNewPrivs' -e '^Seccomp' "/proc/$PID/status" | tr '\t\n' '  ')"
# CAP_DAC_READ_SEARCH (2), CAP_SYS_CHROOT (18), CAP_SYS_ADMIN (21).
check "capability bounding set: DAC_READ_SEARCH, SYS_CHROOT, SYS_ADMIN" \
    grep -q '^CapBnd:[[:space:]]*0000000000240004$' "/proc/$PID/status"
check "no new privileges" grep -q '^NoNewPrivs:[[:space:]]*1$' "/proc/$PID/status"
check "a seccomp filter" grep -q '^Seccomp:[[:space:]]*2$' "/proc/$PID/status"
check_not "/usr is read-only for it" in_daemon touch /usr/tg-probe
check_not "/etc is read-only for it" in_daemon touch /etc/tg-probe
check "/home is hidden from it" in_daemon sh -c '[ -z "$(ls -A /home)" ]'
check_not "kernel tunables are read-only for it" in_daemon sh -c 'echo 1 >/proc/sys/kernel/sysrq'
check "/sys/devices stays writable for it" in_daemon sh -c 'grep " /sys/devices " /proc/self/mountinfo | grep -q " rw,"'
check "/sys/bus/usb stays writable for it" in_daemon sh -c 'grep " /sys/bus/usb " /proc/self/mountinfo | grep -q " rw,"'
check "/sys/kernel is read-only for it" in_daemon sh -c 'grep " /sys " /proc/self/mountinfo | grep -q " ro,"'
check "its state directory is writable" in_daemon sh -c 'grep " /var/lib/termguard " /proc/self/mountinfo | grep -q " rw,"'
check_not "the helper outside the sandbox refuses to run without systemd" \
    env -u NOTIFY_SOCKET /usr/sbin/termguardd --pass-host-namespace
# A confined termguardd that was handed no namespace must not start: it would unmount only its
# own copies of the users' mounts.
check_not "confined without the hand-over, termguardd refuses to start" \
    systemd-run --wait --quiet --unit=tg-no-handover -p ProtectSystem=strict -p PrivateTmp=yes \
    -p "CapabilityBoundingSet=CAP_SYS_ADMIN CAP_SYS_CHROOT" /usr/sbin/termguardd
check "and says why" sh -c 'journalctl -q --no-pager -u tg-no-handover | grep -q "No host mount namespace was handed over"'

tg_section "termguardctl through the control socket"
check "termguardctl status works" $CTL status
check "and sees udev" sh -c "$CTL --json status | grep -q '\"udev_running\":true'"

tg_section "the gate"
modprobe configfs && modprobe libcomposite
mountpoint -q /sys/kernel/config || mount -t configfs configfs /sys/kernel/config
check "dummy_hcd loads" modprobe dummy_hcd num=4
check "its UDCs appear" wait_for 20 _tg_udc_count_is 4
for hub in /sys/devices/platform/dummy_hcd.*/usb*; do
    check "$(basename "$hub") locked by termguardd (authorized_default=0)" \
        wait_for 20 test "$(cat "$hub/authorized_default")" = 0
done

plug unreg 0x0951 0x1666 SYSD-UNREG
check "the unregistered stick is decided on" wait_for 20 event_has usb.decision SYSD-UNREG
check "and stays unauthorized" test "$(cat "$DEV/authorized")" = 0
check "no block device appears" no_disk_for "$DEV"

tg_section "a registered read-only stick"
$CTL media add --vid 0951 --pid 1666 --serial SYSD-RO --label sysd-ro >/dev/null
plug ro 0x0951 0x1666 SYSD-RO
check "it gets a block device" wait_for 30 has_disk "$DEV"
D=$(disk_for "$DEV")
check "the disk is read-only" wait_for 20 disk_ro_is "$DEV" 1
check "termguardd set it read-only itself (BLKROSET from inside its confinement)" \
    wait_for 20 event_has storage.read-only "/dev/$D"
check_not "and reported no storage error" event_has storage.error "/dev/$D"
mkdir -p /mnt/ro
mount -o rw "/dev/$D" /mnt/ro 2>/dev/null || mount "/dev/$D" /mnt/ro
check_not "writing a file fails" sh -c 'echo data >/mnt/ro/new.txt' 2>/dev/null
check_not "raw writes to the disk fail" dd if=/dev/zero of="/dev/$D" bs=512 count=1 conv=notrunc 2>/dev/null
umount /mnt/ro

tg_section "an exception's expiry unmounts the user's mount in the host's namespace"
$CTL media add --vid 0951 --pid 1666 --serial SYSD-EXC --label sysd-exc >/dev/null
until=$(date -u -d "@$(($(date +%s) + 40))" +%Y-%m-%dT%H:%M:%SZ)
check "exception granted" $CTL exception grant sysd-exc --until "$until" --approver "CISO" --reason "VM test"
plug exc 0x0951 0x1666 SYSD-EXC
check "the stick under exception gets a block device" wait_for 30 has_disk "$DEV"
check "and is writable" wait_for 20 disk_ro_is "$DEV" 0
EXC_DEV=$DEV
D=$(disk_for "$DEV")
mkdir -p /mnt/exc
check "mounted read-write in the host's namespace" mount -o rw "/dev/$D" /mnt/exc
check "a file can be written" sh -c 'echo minutes >/mnt/exc/minutes.txt && sync'
check "the mount shows in termguardd's namespace too (propagated)" in_daemon grep -q " /mnt/exc " /proc/self/mountinfo
check "at expiry the host's mount is gone" wait_for 90 sh -c '! grep -q " /mnt/exc " /proc/1/mountinfo'
check "the unmount is recorded" event_has storage.unmounted /mnt/exc
check "and termguardd's namespace followed" in_daemon sh -c '! grep -q " /mnt/exc " /proc/self/mountinfo'
check "the disk is read-only after the expiry" wait_for 30 disk_ro_is "$EXC_DEV" 1
check "termguardd is still running and confined (same PID, own namespace)" \
    sh -c "[ \"\$(systemctl show -P MainPID $UNIT)\" = $PID ] && [ \"\$(readlink /proc/$PID/ns/mnt)\" != \"\$(readlink /proc/1/ns/mnt)\" ]"
check_not "no unmount failure was recorded" event_has storage.cut-off-failed unmount

tg_section "after a crash the restarted termguardd still reaches the users' mounts"
restarts=$(prop "$UNIT" NRestarts)
kill -KILL "$PID"
check "systemd restarts it" wait_for 60 sh -c "[ \"\$(systemctl show -P NRestarts $UNIT)\" -gt $restarts ] && [ \"\$(systemctl show -P ActiveState $UNIT)\" = active ]"
PID=$(main_pid)
check "with the host's namespace again" holds_host_ns "$PID"
until=$(date -u -d "@$(($(date +%s) + 30))" +%Y-%m-%dT%H:%M:%SZ)
$CTL exception grant sysd-exc --until "$until" --approver "CISO" --reason "VM test 2" >/dev/null
check "writable again under a new exception" wait_for 30 disk_ro_is "$EXC_DEV" 0
D=$(disk_for "$EXC_DEV")
mkdir -p /mnt/exc2
check "mounted read-write" mount -o rw "/dev/$D" /mnt/exc2
# A user's shell sitting in the mount keeps it busy: termguardd detaches it.
(cd /mnt/exc2 && exec sleep 600) &
BUSY=$!
check "at expiry the busy mount is detached from the host's namespace" \
    wait_for 90 sh -c '! grep -q " /mnt/exc2 " /proc/1/mountinfo'
check "recorded as detached" event_has storage.unmounted "detached"
kill "$BUSY" 2>/dev/null

tg_section "exposure (systemd-analyze security)"
systemd-analyze security "$UNIT" | sed 's/^/#   /' | grep -v '✓'
ours=$(exposure "$UNIT")
theirs=$(exposure usbguard.service)
tg_info "termguardd.service: $ours   usbguard.service (Debian's unit): $theirs"
check "termguardd.service is rated" test -n "$ours"
check "usbguard.service is rated" test -n "$theirs"
check "termguardd.service is not more exposed than usbguard.service" not_above "$ours" "$theirs"

tg_summary
