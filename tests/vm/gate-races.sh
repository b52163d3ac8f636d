# shellcheck shell=sh
# Races of the USB gate on the real kernel (busybox sh inside the VM), in one boot:
#  - repeated plugs on one port: registered sticks of both modes and an unregistered one take
#    turns, so every attachment reuses the sysfs path, the device name and, often, the block
#    device name of the one before, while the kernel events of the one before may still be on
#    their way to termguardd. Every plug of a registered stick must come up in its own mode
#    with no cut-off; every plug of the unregistered stick stays blocked;
#  - kernel events lost (termguardd's receive buffer overflows): the resync judges every device.
. /lib/tg/lib.sh

EVENTS=/tmp/termguard-events.log
CTL=/usr/bin/termguardctl
UDC=dummy_udc.0
ROUNDS=${TG_REPLUG_ROUNDS:-15}

say() { echo; echo "==> $*"; }
sysattr() { cat "$1/$2" 2>/dev/null; }
disk_for() { usb_disks_for_dev "$1" | head -n 1; }
# disk_ro_is DEV 0|1 : the disk below DEV exists and has that read-only flag.
disk_ro_is() { _d=$(disk_for "$1"); [ -n "$_d" ] && [ "$(cat /sys/block/"$_d"/ro 2>/dev/null)" = "$2" ]; }
no_disk_for() { [ -z "$(usb_disks_for_dev "$1")" ]; }
count() { grep -c -E "$1" "$EVENTS"; }
count_above() { [ "$(count "$1")" -gt "$2" ]; }
decisions() { count "\"event\":\"usb.decision\"[^}]*\"serial\":\"$1\""; }
storage_bound() { [ "$(basename "$(readlink "$1/driver" 2>/dev/null)")" = usb-storage ]; }
CUTOFF='"event":"(storage.unexpected|storage.error|usb.driver-refused|storage.cut-off-failed)"'

# plug NAME SERIAL EXPECT : binds gadget NAME to the port and checks the attachment: EXPECT is
# rw or ro (registered: a disk with that flag, still attached once its mode is set) or blocked.
# Each check names the round, so a failure says which plug went wrong.
plug() {
    _before=$(decisions "$2")
    gadget_bind "$1" "$UDC" || { echo "plug $1: bind failed" >&2; return 1; }
    if ! check "$R $1: enumerated" wait_for 60 usb_dev_present "$UDC"; then
        dmesg | tail -n 20 | sed 's/^/#   /'
        return 1
    fi
    DEV=$(usb_dev_for_udc "$UDC")
    check "$R $1: judged" wait_for 30 count_above "\"event\":\"usb.decision\"[^}]*\"serial\":\"$2\"" "$_before"
    case $3 in
    rw) check "$R $1: comes up writable" wait_for 30 disk_ro_is "$DEV" 0 ;;
    ro) check "$R $1: comes up read-only" wait_for 30 disk_ro_is "$DEV" 1 ;;
    blocked)
        check "$R $1: stays unauthorized" test "$(sysattr "$DEV" authorized)" = 0
        check "$R $1: no disk" no_disk_for "$DEV"
        ;;
    esac
    if [ "$3" != blocked ]; then
        B=$(basename "$DEV")
        check "$R $1: storage interface still authorized" test "$(sysattr "$DEV/$B:1.0" authorized)" = 1
        check "$R $1: usb-storage holds it" storage_bound "$DEV/$B:1.0"
    fi
}

unplug() {
    gadget_unbind "$1" || check "$R $1: unplugged" false
}

tg_section "termguard: repeated plugs on one port, on $(uname -r)"
mkdir -p /etc/termguard/termguard.conf.d
printf '[Daemon]\nAdminGroup=tgadmin\n' >/etc/termguard/termguard.conf.d/50-site.conf
# staff holds the seat (the seat state sd-login reads; logind renames it into place).
mkdir -p /run/systemd/seats
printf 'ACTIVE=c1000\nACTIVE_UID=1000\n' >/run/systemd/seats/seat0
check "audit journal created as an administrator does (termguardctl journal init)" tg_journal_init
/usr/sbin/termguardd >>"$EVENTS" 2>&1 &
DAEMON_PID=$!
check "daemon is up" wait_for 20 test -S /run/termguard/control.socket
tg_load_dummy_hcd 2
HUB=$(usb_roothub_for_udc "$UDC")
check "port locked" wait_for 10 test "$(sysattr "$HUB" interface_authorized_default)" = 0
$CTL media add --vid 0951 --pid 1666 --serial REPLUG-RW --label replug-rw --mode read-write >/dev/null
$CTL media add --vid 0951 --pid 1666 --serial REPLUG-RO --label replug-ro >/dev/null
for g in rw ro no; do
    tg_make_image "/tmp/img-$g" 8 TGTEST
done
gadget_create rw 0x0951 0x1666 REPLUG-RW /tmp/img-rw
gadget_create ro 0x0951 0x1666 REPLUG-RO /tmp/img-ro
gadget_create no 0x0951 0x1666 REPLUG-NO /tmp/img-no

say "$ROUNDS rounds: read-write, read-only, and every third round the unregistered stick"
i=1
while [ "$i" -le "$ROUNDS" ]; do
    R="round $i"
    plug rw REPLUG-RW rw
    unplug rw
    plug ro REPLUG-RO ro
    unplug ro
    if [ $((i % 3)) -eq 0 ]; then
        plug no REPLUG-NO blocked
        unplug no
    fi
    i=$((i + 1))
done

say "Unplugged before termguardd is done with it, then the other mode at once"
i=1
while [ "$i" -le 5 ]; do
    R="quick $i"
    gadget_bind rw "$UDC"
    wait_for 60 usb_dev_present "$UDC"
    unplug rw
    plug ro REPLUG-RO ro
    unplug ro
    gadget_bind ro "$UDC"
    wait_for 60 usb_dev_present "$UDC"
    unplug ro
    plug rw REPLUG-RW rw
    unplug rw
    i=$((i + 1))
done

# While termguardd is held up (SIGSTOP: it reads no event), one stick is plugged and unplugged
# and the next plugged on the same port; termguardd then reads the first one's events when the
# next one has the path, the device name and the sysfs attributes the first one had. The next
# one must come up as itself, recorded once; the first is recorded as gone before it was judged.
say "termguardd reads the events of an unplugged stick late, when the next one has the port"
i=1
while [ "$i" -le 6 ]; do
    R="late $i"
    case $((i % 3)) in
    1) set -- ro rw REPLUG-RW rw ;;
    2) set -- rw no REPLUG-NO blocked ;;
    0) set -- no ro REPLUG-RO ro ;;
    esac
    _missed=$(count '"event":"usb.missed"')
    _new_before=$(decisions "$3")
    kill -STOP "$DAEMON_PID"
    gadget_bind "$1" "$UDC"
    check "$R $1: enumerated while termguardd is held up" wait_for 60 usb_dev_present "$UDC"
    unplug "$1"
    gadget_bind "$2" "$UDC"
    check "$R $2: enumerated while termguardd is held up" wait_for 60 usb_dev_present "$UDC"
    DEV=$(usb_dev_for_udc "$UDC")
    check "$R $2: not authorized by anyone meanwhile" test "$(sysattr "$DEV" authorized)" = 0
    kill -CONT "$DAEMON_PID"
    check "$R $2: judged" wait_for 30 count_above "\"event\":\"usb.decision\"[^}]*\"serial\":\"$3\"" "$_new_before"
    case $4 in
    rw) check "$R $2: comes up writable" wait_for 30 disk_ro_is "$DEV" 0 ;;
    ro) check "$R $2: comes up read-only" wait_for 30 disk_ro_is "$DEV" 1 ;;
    blocked) check "$R $2: stays unauthorized" test "$(sysattr "$DEV" authorized)" = 0 ;;
    esac
    # Judging the late event of $1 would have read $2's attributes: $2 recorded twice.
    check "$R $2: recorded once, as itself" test "$(decisions "$3")" -eq $((_new_before + 1))
    check "$R $1: recorded as gone before it was judged" count_above '"event":"usb.missed"' "$_missed"
    unplug "$2"
    i=$((i + 1))
done

say "Nothing was cut off"
check "no storage.unexpected, storage.error, driver refusal or failed cut-off" test "$(count "$CUTOFF")" = 0
grep -E "$CUTOFF" "$EVENTS" | head -n 20

# daemon_uevent_drops : datagrams the kernel dropped on termguardd's uevent socket (netlink
# protocol 15), from /proc/net/netlink (columns: ... Drops Inode).
daemon_uevent_drops() {
    for _ino in $(ls -l "/proc/$DAEMON_PID/fd" 2>/dev/null | sed -n 's/.*socket:\[\([0-9]*\)\].*/\1/p'); do
        awk -v ino="$_ino" '$2 == 15 && $10 == ino { print $9 }' /proc/net/netlink
    done | head -n 1
}
resync_judged() { grep '"event":"usb.decision"' "$EVENTS" | grep "\"serial\":\"$1\"" | grep -q '"trigger":"resync"'; }

say "Kernel events are lost while termguardd is held up: the resync judges every device"
R="lost events"
plug rw REPLUG-RW rw
RW_DEV=$DEV
kill -STOP "$DAEMON_PID"
check "termguardd's uevent socket found" test -n "$(daemon_uevent_drops)"
# A burst of events (change of the stick) until the kernel drops some: the socket is full.
n=0
while [ "$(daemon_uevent_drops)" = 0 ] && [ "$n" -lt 500 ]; do
    i=0
    while [ "$i" -lt 100 ]; do
        echo change >"$RW_DEV/uevent"
        i=$((i + 1))
    done
    n=$((n + 1))
done
DROPS=$(daemon_uevent_drops)
check "the socket overflowed" test "$DROPS" -gt 0
# A stick plugged on the second port now: its events are lost too, only a resync finds it.
gadget_bind ro dummy_udc.1
check "$R: read-only stick enumerated on the second port" wait_for 60 usb_dev_present dummy_udc.1
RO_DEV=$(usb_dev_for_udc dummy_udc.1)
check "$R: its events were dropped too" test "$(daemon_uevent_drops)" -gt "$DROPS"
kill -CONT "$DAEMON_PID"
check "$R: the resync is recorded" wait_for 60 grep -q '"event":"usb.resync"' "$EVENTS"
check "$R: the stick whose events were lost comes up read-only" wait_for 60 disk_ro_is "$RO_DEV" 1
check "$R: the resync judged the read-write stick" resync_judged REPLUG-RW
check "$R: ... and the read-only one" resync_judged REPLUG-RO
check "$R: the read-write stick is still writable" disk_ro_is "$RW_DEV" 0

check "daemon still running" kill -0 "$DAEMON_PID"
kill "$DAEMON_PID"
wait "$DAEMON_PID" 2>/dev/null
grep -c '"event":"usb.attach"' "$EVENTS" | sed 's/^/# attachments recorded: /'
tg_summary
