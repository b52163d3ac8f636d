# shellcheck shell=sh
# End-to-end scenario on the real kernel USB stack (busybox sh inside the VM).
# It is also the demonstration: every step says what it shows.
. /lib/tg/lib.sh

EVENTS=/tmp/termguard-events.log
CTL=/usr/bin/termguardctl
NO=0 # gadget counter

say() { echo; echo "==> $*"; }
run() { echo "\$ $*"; "$@"; }

start_daemon() {
    check "audit journal created as an administrator does (termguardctl journal init)" tg_journal_init
    /usr/sbin/termguardd >>"$EVENTS" 2>&1 &
    DAEMON_PID=$!
    wait_for 20 test -S /run/termguard/control.socket
}
events_have() { grep -q "$1" "$EVENTS"; }
sysattr() { cat "$1/$2" 2>/dev/null; }
is_ro_disk() { [ "$(cat /sys/block/"$1"/ro)" = 1 ]; }
mounted_ro() { grep " $1 " /proc/mounts | grep -q " ro[ ,]"; }
mounted() { grep -q " $1 " /proc/mounts; }
no_disk_for() { [ -z "$(usb_disks_for_dev "$1")" ]; }
disk_for() { usb_disks_for_dev "$1" | head -n 1; }
has_disk() { [ -n "$(usb_disks_for_dev "$1")" ]; }
decided() { grep "\"event\":\"usb.decision\"" "$EVENTS" | grep -q "\"serial\":\"$1\""; }
decided_n() { [ "$(grep "\"event\":\"usb.decision\"" "$EVENTS" | grep -c "\"serial\":\"$1\"")" -ge "$2" ]; }
iface_has_driver() { [ -e "$1/driver" ]; }
# disk_ro_is DEV 0|1 : the disk currently below DEV exists and has that read-only flag.
disk_ro_is() { _d=$(disk_for "$1"); [ -n "$_d" ] && [ "$(cat /sys/block/"$_d"/ro)" = "$2" ]; }
# seat_user UID : what logind does when the active session changes (atomic rename).
seat_user() { printf 'ACTIVE=c%s\nACTIVE_UID=%s\n' "$1" "$1" >/run/systemd/seats/.seat0; mv /run/systemd/seats/.seat0 /run/systemd/seats/seat0; }

# plug NAME VID PID SERIAL [hid] : new gadget on the next free UDC; sets DEV. Every
# step is checked: a stick that never enumerates must fail loudly, not pass vacuously.
plug() {
    _img=/tmp/img-$1
    _udc=dummy_udc.$NO
    NO=$((NO + 1))
    DEV=/nonexistent
    tg_make_image "$_img" 16 TGTEST || { echo "plug $1: image failed" >&2; return 1; }
    gadget_create "$1" "$2" "$3" "$4" "$_img" "${5:-}" || { echo "plug $1: gadget_create failed" >&2; return 1; }
    gadget_bind "$1" "$_udc" || { echo "plug $1: bind to $_udc failed" >&2; return 1; }
    if ! check "$1 ($4) enumerated on $_udc" wait_for 60 usb_dev_present "$_udc"; then
        tg_info "kernel log tail:"; dmesg | tail -n 25 | sed 's/^/#   /'
        return 1
    fi
    DEV=$(usb_dev_for_udc "$_udc")
}

tg_section "termguard end-to-end on $(uname -r)"
mkdir -p /etc/termguard/termguard.conf.d
printf '[Daemon]\nAdminGroup=tgadmin\n[Exceptions]\nMaxDuration=1h\n[MediaAudit]\nHashMaxSize=1M\n' >/etc/termguard/termguard.conf.d/50-site.conf
# A staff member is logged in on the seat (the seat state sd-login reads).
mkdir -p /run/systemd/seats
seat_user 1000

say "termguardd starts before any USB controller exists"
start_daemon
check "daemon is up and answers" $CTL status

say "USB controllers appear later: each is set to deny new devices"
tg_load_dummy_hcd 9
for hub in /sys/devices/platform/dummy_hcd.*/usb*; do
    check "$(basename "$hub") authorized_default=0" wait_for 10 test "$(sysattr "$hub" authorized_default)" = 0
    check "$(basename "$hub") interface_authorized_default=0" wait_for 10 test "$(sysattr "$hub" interface_authorized_default)" = 0
done

say "An unregistered stick is blocked in the kernel (hostile product string included)"
TG_GADGET_PRODUCT="$(printf 'Evil\033[2J\001Stick')" plug unreg 0x0951 0x1666 UNREG-0001
check "decision recorded" wait_for 15 decided UNREG-0001
check "device stays unauthorized" test "$(sysattr "$DEV" authorized)" = 0
sleep 2
check "no block device appears" no_disk_for "$DEV"
check "control characters from the device are escaped in the log" events_have 'Evil\\\\x1b\[2J\\\\x01Stick'
check_not "no raw escape byte reaches the log" grep -q "$(printf '\033')" "$EVENTS"
check "the seat user is recorded with the decision" events_have '"serial":"UNREG-0001".*"user":"staff"'
run $CTL devices

say "Only administrators may change the register"
check_not "staff cannot register media" su -s /bin/sh staff -c "$CTL media add --vid 0951 --pid 1666 --serial X --label nope"
check "staff see the refusal in Japanese" sh -c "su -s /bin/sh staff -c 'LANGUAGE=ja LC_ALL=C.UTF-8 $CTL media remove x' 2>&1 | grep -q 権限がありません"
check "member of the admin group can" su -s /bin/sh admin -c "$CTL media add --vid 0951 --pid 1666 --serial ADMIN-1 --label by-admin"
check "the change is recorded with who made it" events_have '"event":"register.media-added".*"label":"by-admin".*"actor":"admin"'

say "A registered stick comes up read-only"
run $CTL media add --vid 0951 --pid 1666 --serial REG-0001 --label soumu-01 --department 総務課
run $CTL media list
plug reg 0x0951 0x1666 REG-0001
REG_DEV=$DEV
check "registered stick gets a block device" wait_for 20 has_disk "$DEV"
D=$(disk_for "$DEV")
check "the whole disk is read-only (BLKROSET) before anyone mounts it" wait_for 10 is_ro_disk "$D"
mkdir -p /mnt/reg
mount -o rw "/dev/$D" /mnt/reg 2>/dev/null || mount "/dev/$D" /mnt/reg
check "a read-write mount request comes up read-only" mounted_ro /mnt/reg
check_not "writing a file fails" sh -c 'echo data >/mnt/reg/new.txt' 2>/dev/null
check_not "raw writes to the disk fail" dd if=/dev/zero of="/dev/$D" bs=512 count=1 conv=notrunc 2>/dev/null
umount /mnt/reg

say "A write exception makes a registered stick writable until it expires"
run $CTL media add --vid 0951 --pid 1666 --serial EXC-0001 --label kikaku-02 --department 企画課
UNTIL=$(date -u -d "@$(($(date +%s) + 30))" +%Y-%m-%dT%H:%M:%SZ)
run $CTL exception grant kikaku-02 --until "$UNTIL" --approver "CISO 山田" --reason "議事録の提出" --ticket SR-1024
run $CTL exception list
plug exc 0x0951 0x1666 EXC-0001
check "stick under exception gets a block device" wait_for 20 has_disk "$DEV"
D=$(disk_for "$DEV")
check "the disk is writable" test "$(cat /sys/block/"$D"/ro)" = 0
mkdir -p /mnt/exc
check "mounts read-write" mount -o rw "/dev/$D" /mnt/exc
# Files are recorded from the moment the watch starts, a few milliseconds after the mount.
check "the read-write mount is watched" wait_for 10 events_have '"event":"media.watch-started".*"label":"kikaku-02"'
check "a file can be written" sh -c 'echo minutes >/mnt/exc/minutes.txt && sync'
check "the file written is recorded with its SHA-256" wait_for 10 events_have "\"event\":\"media.file-written\".*\"label\":\"kikaku-02\".*\"path\":\"/minutes.txt\",\"size\":\"8\",\"sha256\":\"$(sha256sum /mnt/exc/minutes.txt | cut -d' ' -f1)\""
say "... waiting for the exception to expire at $UNTIL"
check "at expiry the medium is unmounted" wait_for 60 sh -c "! grep -q ' /mnt/exc ' /proc/mounts"
check "the expiry is recorded" events_have '"event":"exception.expired"'
check "expiry ends the watch, with its summary" wait_for 10 events_have '"event":"media.watch-ended".*"label":"kikaku-02".*"why":"exception-expired","files_written":"1","bytes_written":"8","files_created":"1"'
check "the stick returns read-only" wait_for 20 sh -c "D=\$(ls $DEV/*/host*/target*/*/block 2>/dev/null | head -n 1); [ -n \"\$D\" ] && [ \"\$(cat /sys/block/\$D/ro)\" = 1 ]"
D=$(disk_for "$DEV")
mount "/dev/$D" /mnt/exc 2>/dev/null
check "the file written under the exception was kept" grep -q minutes /mnt/exc/minutes.txt
check "after expiry writing fails" sh -c '! echo more >/mnt/exc/more.txt 2>/dev/null'
umount /mnt/exc 2>/dev/null

say "Revoking an exception takes effect at once"
UNTIL=$(date -u -d "@$(($(date +%s) + 600))" +%Y-%m-%dT%H:%M:%SZ)
run $CTL exception grant kikaku-02 --until "$UNTIL" --approver "CISO 山田" --reason "再提出"
check "writable again under the new exception" wait_for 20 sh -c "D=\$(ls $DEV/*/host*/target*/*/block 2>/dev/null | head -n 1); [ -n \"\$D\" ] && [ \"\$(cat /sys/block/\$D/ro)\" = 0 ]"
ID=$($CTL --json exception list | grep '"id"' | tail -n 1 | tr -dc 0-9)
run $CTL exception revoke "$ID"
check "read-only again after revoke" wait_for 20 sh -c "D=\$(ls $DEV/*/host*/target*/*/block 2>/dev/null | head -n 1); [ -n \"\$D\" ] && [ \"\$(cat /sys/block/\$D/ro)\" = 1 ]"

say "An exception for one user applies only while that user holds the seat"
run $CTL exception grant kikaku-02 --until "$UNTIL" --approver "CISO 山田" --reason "個人宛" --user staff
check "writable while staff is on the seat" wait_for 20 disk_ro_is "$DEV" 0
seat_user 1001
check "the seat change is recorded" wait_for 10 events_have '"event":"seat.user-changed".*"user":"admin"'
check "read-only as soon as another user holds the seat" wait_for 20 disk_ro_is "$DEV" 1
seat_user 1000
check "writable again when staff returns" wait_for 20 disk_ro_is "$DEV" 0
ID=$($CTL --json exception list | grep '"id"' | tail -n 1 | tr -dc 0-9)
$CTL exception revoke "$ID" >/dev/null

say "A composite device (storage + keyboard) gets exactly its keyboard"
plug combo 0x1d6b 0x0104 COMBO-0001 hid
check "device authorized for its keyboard" wait_for 15 test "$(sysattr "$DEV" authorized)" = 1
B=$(basename "$DEV")
check "keyboard interface bound to a driver" wait_for 15 iface_has_driver "$DEV/$B:1.1"
check "storage interface not authorized" test "$(sysattr "$DEV/$B:1.0" authorized)" = 0
check_not "storage interface has no driver" iface_has_driver "$DEV/$B:1.0"
check "no block device for the composite" no_disk_for "$DEV"

say "Driver swaps: only usb-storage may hold a read-only stick's interface"
RI=$(basename "$REG_DEV"):1.0
usb_node() { printf '/dev/bus/usb/%03d/%03d' "$(cat "$1/busnum")" "$(cat "$1/devnum")"; }
storage_bound() { [ "$(basename "$(readlink "$1/driver")")" = usb-storage ]; }
check_not "usbhid on the composite's keyboard was not refused" events_have '"event":"usb.driver-refused"'
run sh -c "echo $RI >/sys/bus/usb/drivers/usb-storage/unbind"
check "usb-storage leaving the read-only stick is recorded" wait_for 10 events_have "\"event\":\"usb.driver-unbound\",[^}]*\"interface\":\"$RI\",[^}]*\"action\":\"re-admitted\""
check "termguardd binds usb-storage again" wait_for 20 storage_bound "$REG_DEV/$RI"
check "the stick has its disk again, read-only" wait_for 20 disk_ro_is "$REG_DEV" 1
# libusb's detach and claim: the claim sends no uevent; usbfs would hold the interface, SCSI
# writes one ioctl away.
N_READMIT=$(grep -c '"event":"usb.driver-unbound"' "$EVENTS")
/usr/bin/usbfs-claim "$(usb_node "$REG_DEV")" 0 30 >/tmp/claim-reg.log 2>&1 &
CLAIM=$!
check "the detach is recorded and the interface re-admitted" wait_for 10 sh -c "[ \$(grep -c '\"event\":\"usb.driver-unbound\"' $EVENTS) -gt $N_READMIT ]"
check "usb-storage holds the interface again, not usbfs" wait_for 20 storage_bound "$REG_DEV/$RI"
check "... the disk is read-only" wait_for 20 disk_ro_is "$REG_DEV" 1
cat /tmp/claim-reg.log
kill "$CLAIM" 2>/dev/null
wait "$CLAIM" 2>/dev/null

say "The daemon is killed while a medium is mounted read-write under a short exception"
EXC_DEV=$(usb_dev_for_udc dummy_udc.2)
UNTIL_S=$(($(date +%s) + 15))
run $CTL exception grant kikaku-02 --until "$(date -u -d "@$UNTIL_S" +%Y-%m-%dT%H:%M:%SZ)" --approver "CISO 山田" --reason "短時間"
LATE_ID=$($CTL --json exception list | grep '"id"' | tail -n 1 | tr -dc 0-9)
check "writable under the short exception" wait_for 20 disk_ro_is "$EXC_DEV" 0
mkdir -p /mnt/late
check "mounted read-write" mount -o rw "/dev/$(disk_for "$EXC_DEV")" /mnt/late
check "written" sh -c 'echo late >/mnt/late/late.txt && sync'
kill -9 "$DAEMON_PID"
wait "$DAEMON_PID" 2>/dev/null
plug late 0x0951 0x1666 LATE-0001
sleep 3
check "new unregistered stick stays unauthorized" test "$(sysattr "$DEV" authorized)" = 0
check "and has no block device" no_disk_for "$DEV"
LATE_DEV=$DEV
plug regdown 0x0951 0x1666 ADMIN-1
sleep 2
check "even a registered stick waits for the daemon" test "$(sysattr "$DEV" authorized)" = 0

# The state a controller is left in when it is locked between its uevent and the creation of
# its root hub interface: the hub interface unauthorized, no hub driver, dead ports.
SPARE_HUB=$(usb_roothub_for_udc dummy_udc.6)
SPARE_IF=$SPARE_HUB/$(cat "$SPARE_HUB/busnum")-0:1.0
echo 0 >"$SPARE_IF/authorized"
check_not "spare controller's hub interface is now unbound" iface_has_driver "$SPARE_IF"

say "... the exception expires while termguardd is down"
while [ "$(date +%s)" -le "$UNTIL_S" ]; do sleep 1; done
check_not "nothing changed while the daemon was down (still mounted)" sh -c "! grep -q ' /mnt/late ' /proc/mounts"

say "The daemon restarts: devices already present are judged like new ones"
start_daemon
check "the expiry that passed while it was down is recorded" wait_for 10 events_have "\"event\":\"exception.expired\",[^}]*\"exception\":\"$LATE_ID\""
check "the read-write mount is gone" wait_for 20 sh -c "! grep -q ' /mnt/late ' /proc/mounts"
check "the medium is back read-only" wait_for 20 disk_ro_is "$EXC_DEV" 1
mkdir -p /mnt/late2
mount "/dev/$(disk_for "$EXC_DEV")" /mnt/late2 2>/dev/null
check "what was written before the expiry was kept" grep -q late /mnt/late2/late.txt
umount /mnt/late2 2>/dev/null
check "a controller whose hub interface was left unauthorized is repaired" wait_for 10 iface_has_driver "$SPARE_IF"
check "registered stick plugged while down is admitted" wait_for 20 has_disk "$DEV"
check "... read-only" wait_for 10 is_ro_disk "$(disk_for "$DEV")"
check "unregistered stick stays blocked" test "$(sysattr "$LATE_DEV" authorized)" = 0
run $CTL devices

NO=6
plug spare 0x0951 0x1666 ADMIN-1
check "a stick on the repaired controller is admitted" wait_for 20 has_disk "$DEV"

NO=7
. /lib/tg/media-audit.sh

say "Unplugging is recorded"
gadget_unbind reg
check "detach event" wait_for 10 events_have '"event":"usb.detach".*"label":"soumu-01"'

say "Recorded events"
kill "$DAEMON_PID"
wait "$DAEMON_PID" 2>/dev/null
check "SIGTERM exits cleanly" events_have '"event":"daemon.stopping"'
grep '"event"' "$EVENTS" | grep -v '"event":"usb.controller-locked"'

tg_summary
