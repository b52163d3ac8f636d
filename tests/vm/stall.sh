# shellcheck shell=sh
# A USB device that never answers must not stall termguardd (busybox sh inside the VM).
#
# The hostile device is played through FunctionFS by ffs-hid-stall: a HID interface (N:1.0)
# whose control requests are never answered, so usbhid's probe of it waits for its control
# timeouts; behind it, as N:1.1, a real keyboard. termguardd probes a device's interfaces in
# order, so the keyboard N:1.1 getting its driver is the kernel's own witness that the stalled
# probe of N:1.0 is over. Everything below is checked by order against that witness (and
# against the daemon's records), never by how long something took.
. /lib/tg/lib.sh

EVENTS=/tmp/termguard-events.log
CTL=/usr/bin/termguardctl
FFS=/usr/bin/ffs-hid-stall

say() { echo; echo "==> $*"; }
start_daemon() {
    check "audit journal created as an administrator does (termguardctl journal init)" tg_journal_init
    /usr/sbin/termguardd >>"$EVENTS" 2>&1 &
    DAEMON_PID=$!
    wait_for 20 test -S /run/termguard/control.socket
}
events_have() { grep -q "$1" "$EVENTS"; }
iface_has_driver() { [ -e "$1/driver" ]; }
mounted() { grep -q " $1 " /proc/mounts; }
has_disk() { [ -n "$(usb_disks_for_dev "$1")" ]; }
alive() { kill -0 "$1" 2>/dev/null; }
# line_of PATTERN : number of the first event-log line matching PATTERN (extended regex).
line_of() { grep -n -E "$1" "$EVENTS" | head -n 1 | cut -d: -f1; }
# op_record TARGET STATES : pattern of a usb.operation record of TARGET in one of STATES.
op_record() { echo "\"event\":\"usb.operation\"[^}]*\"target\":\"$1\"[^}]*\"state\":\"($2)\""; }
op_recorded() { grep -q -E "$(op_record "$1" "$2")" "$EVENTS"; }

# plug_hostile NAME UDC [hid] : hostile device on UDC; returns once its first control request
# reached the device, i.e. usbhid's probe of NAME's N:1.0 is under way. Sets HDEV.
plug_hostile() {
    gadget_create_ffs "$1" 0x1209 0x57a1 "STALL-$1" "${3:-}" || return 1
    "$FFS" "/dev/ffs-$1" >"/tmp/ffs-$1.log" 2>&1 &
    wait_for 20 grep -q ready "/tmp/ffs-$1.log" || { cat "/tmp/ffs-$1.log"; return 1; }
    gadget_bind "$1" "$2" || return 1
    wait_for 60 usb_dev_present "$2" || return 1
    HDEV=$(usb_dev_for_udc "$2")
    if ! wait_for 60 grep -q setup "/tmp/ffs-$1.log"; then
        cat "/tmp/ffs-$1.log"; dmesg | tail -n 20
        return 1
    fi
    sed 's/^/# /' "/tmp/ffs-$1.log"
}

tg_section "termguard with a USB device that never answers, on $(uname -r)"
mkdir -p /etc/termguard/termguard.conf.d
printf '[Daemon]\nAdminGroup=tgadmin\n[Exceptions]\nMaxDuration=1h\n' >/etc/termguard/termguard.conf.d/50-site.conf
start_daemon
check "daemon is up" $CTL status
tg_load_dummy_hcd 5
for hub in /sys/devices/platform/dummy_hcd.*/usb*; do
    wait_for 10 test "$(cat "$hub/interface_authorized_default")" = 0
done

say "A registered stick is writable under an exception and mounted read-write"
$CTL media add --vid 0951 --pid 1666 --serial STALL-EXC-1 --label kikaku-09 >/dev/null
UNTIL_S=$(($(date +%s) + 1800))
$CTL exception grant kikaku-09 --until "$(date -u -d "@$UNTIL_S" +%Y-%m-%dT%H:%M:%SZ)" \
    --approver "CISO" --reason "stall test" >/dev/null
tg_make_image /tmp/img-exc 16 TGTEST
gadget_create exc 0x0951 0x1666 STALL-EXC-1 /tmp/img-exc
gadget_bind exc dummy_udc.0
check "stick enumerated" wait_for 60 usb_dev_present dummy_udc.0
EXC_DEV=$(usb_dev_for_udc dummy_udc.0)
check "stick gets its disk" wait_for 30 has_disk "$EXC_DEV"
mkdir -p /mnt/exc
check "mounted read-write" mount -o rw "/dev/$(usb_disks_for_dev "$EXC_DEV" | head -n 1)" /mnt/exc
check "written" sh -c 'echo before >/mnt/exc/before.txt && sync'

say "A HID device that never answers is plugged: its probe is stalled in the kernel"
check "hostile device's probe is under way" plug_hostile hostile dummy_udc.1 hid
HB=$(basename "$HDEV")
HOSTILE_KBD=$HDEV/$HB:1.1
check_not "its keyboard interface waits behind the stalled probe" iface_has_driver "$HOSTILE_KBD"
tg_info "termguardd $(grep VmRSS /proc/$DAEMON_PID/status) during the stall"

say "The exception expires while the probe is stalled (the clock jumps past its end)"
date -s "@$((UNTIL_S + 5))" >/dev/null
check "at expiry the read-write mount is gone" wait_for 20 sh -c "! grep -q ' /mnt/exc ' /proc/mounts"
check_not "... while the stalled probe is still running" iface_has_driver "$HOSTILE_KBD"
check "the expiry is recorded" events_have '"event":"exception.expired"'

say "termguardctl status answers while the probe is stalled"
check "status answers" $CTL status
check_not "... while the stalled probe is still running" iface_has_driver "$HOSTILE_KBD"

say "A keyboard plugged after the hostile device gets its driver"
tg_make_image /tmp/img-kbd 16 TGTEST
gadget_create kbd 0x1d6b 0x0104 STALL-KBD-1 /tmp/img-kbd hid
gadget_bind kbd dummy_udc.2
check "keyboard enumerated" wait_for 60 usb_dev_present dummy_udc.2
KDEV=$(usb_dev_for_udc dummy_udc.2)
check "its keyboard interface is bound to a driver" wait_for 30 iface_has_driver "$KDEV/$(basename "$KDEV"):1.1"
check_not "... while the stalled probe is still running" iface_has_driver "$HOSTILE_KBD"

say "The administrator sees the misbehaving device"
check "the slow probe is recorded" wait_for 30 op_recorded "$HB:1.0" slow
check "after the stalled probe the device's next interface is probed" wait_for 120 iface_has_driver "$HOSTILE_KBD"
check "the end of the stalled probe is recorded" wait_for 30 op_recorded "$HB:1.0" "done|failed"
EXPIRED_AT=$(line_of '"event":"exception.expired"')
PROBE_END_AT=$(line_of "$(op_record "$HB:1.0" "done|failed")")
check "the expiry was recorded before the stalled probe ended" test "${EXPIRED_AT:-999999}" -lt "${PROBE_END_AT:-0}"
grep -E '"event":"(usb.operation|exception.expired)"' "$EVENTS"
umount /mnt/exc 2>/dev/null

say "A device unplugged while its probe is stalled"
check "second hostile device's probe is under way" plug_hostile gone dummy_udc.3
GB=$(basename "$HDEV")
check "its slow probe is recorded" wait_for 30 op_recorded "$GB:1.0" slow
echo "" >"$TG_CONFIGFS/gone/UDC"
check "its removal is recorded" wait_for 60 events_have "\"event\":\"usb.detach\"[^}]*\"device\":\"$GB\""
check "the end of its probe is recorded" wait_for 60 op_recorded "$GB:1.0" "done|failed"
check "the daemon still answers" $CTL status

say "SIGTERM while a probe is stalled: the daemon stops without waiting for the kernel"
check "third hostile device's probe is under way" plug_hostile term dummy_udc.4 hid
TB=$(basename "$HDEV")
kill -TERM "$DAEMON_PID"
check "the stop is recorded" wait_for 20 events_have '"event":"daemon.stopping"'
check_not "... while the stalled probe is still running" iface_has_driver "$HDEV/$TB:1.1"
check "the process ends once the kernel returns" wait_for 120 sh -c "! kill -0 $DAEMON_PID 2>/dev/null"
wait "$DAEMON_PID" 2>/dev/null
check_not "work queued behind the stalled probe was dropped, not done" iface_has_driver "$HDEV/$TB:1.1"
check "what the exit left in the kernel is said" events_have 'still in the kernel; exiting without waiting'

tg_summary
