# shellcheck shell=sh
# The raw doors around the USB gate (busybox sh inside the VM): usbfs, hidraw and SCSI
# pass-through, under a real systemd-udevd running Debian's own rules (50-udev-default,
# 60-fido-id, 60-cdrom_id, 70-uaccess, 71-seat, 73-seat-late) and termguard's installed ones.
#
# The seat user is staff (uid 1000). The VM has no logind; what it does is done here:
#  - at every udev event, 73-seat-late.rules' RUN{builtin}="uaccess" gives the active seat
#    user an ACL on nodes tagged uaccess. The builtin is udev's own and runs here for real: it
#    reads the seat's active user from /run/systemd/seats/seat0 (ACTIVE_UID), as written
#    below the way logind writes it;
#  - at seat changes logind gives that ACL on every node whose udev record carries the tag in
#    its current event (logind-acl.c: sd_device_has_current_tag(d, "uaccess")); seat_change()
#    below does the same with setfacl on the records whose CURRENT_TAGS hold uaccess.
# Devices are played through FunctionFS (ffs-doors) or configfs mass_storage.
. /lib/tg/lib.sh

EVENTS=/tmp/termguard-events.log
CTL=/usr/bin/termguardctl
FFS=/usr/bin/ffs-doors
NO=0

say() { echo; echo "==> $*"; }
events_have() { grep -q "$1" "$EVENTS"; }
usb_node() { printf '/dev/bus/usb/%03d/%03d' "$(cat "$1/busnum")" "$(cat "$1/devnum")"; }
as_staff() { su -s /bin/sh staff -c "$*"; }
# staff_opens NODE : the seat user can open NODE read-write.
staff_opens() { as_staff "exec 3<>'$1'"; }
# raw_prop NODE VALUE : udev's record of NODE says TERMGUARD_RAW=VALUE.
raw_prop() { udevadm info -q property -n "$1" 2>/dev/null | grep -qx "TERMGUARD_RAW=$2"; }
has_prop() { udevadm info -q property -n "$1" 2>/dev/null | grep -qx "$2"; }
# current_uaccess NODE : udev's record of NODE carries the uaccess tag in its current event
# (udevadm info shows tags as the properties TAGS and CURRENT_TAGS).
current_uaccess() { udevadm info -q property -n "$1" 2>/dev/null | grep -q '^CURRENT_TAGS=.*:uaccess:'; }
staff_refused() { ! as_staff "/usr/bin/usbfs-raw $1" >/dev/null; }
root_only() { [ "$(stat -c '%a %u %g' "$1")" = "600 0 0" ]; }
no_acl_for_staff() { ! getfacl -n "$1" 2>/dev/null | grep -q '^user:1000:'; }
# raw_settled NODE VALUE : once udev is idle, its record of NODE says TERMGUARD_RAW=VALUE.
raw_settled() { udevadm settle -t 5; raw_prop "$1" "$2"; }
authorized_is() { [ "$(cat "$1/authorized" 2>/dev/null)" = "$2" ]; }
ro_disk_of() { _d=$(disk_of "$1"); [ -n "$_d" ] && [ "$(cat "/sys/block/$_d/ro")" = 1 ]; }
no_scsi_nodes() { [ -z "$(scsi_nodes "$1")" ]; }
cut_off_recorded() { grep -q -E "\"event\":\"(usb.driver-refused|storage.unexpected)\"[^}]*\"device\":\"$1\"" "$EVENTS"; }
decided() { grep '"event":"usb.decision"' "$EVENTS" | grep -q "\"serial\":\"$1\""; }

# seat_change UID : logind's ACLs at a seat change (see above): the previous user's entry goes,
# the new user's comes, on every node whose udev record has uaccess in CURRENT_TAGS.
SEAT_UID=1000
seat_change() {
    printf 'ACTIVE=c%s\nACTIVE_UID=%s\n' "$1" "$1" >/run/systemd/seats/.seat0
    mv /run/systemd/seats/.seat0 /run/systemd/seats/seat0
    udevadm info --export-db |
        awk '/^N: /{n=$2} /^E: CURRENT_TAGS=.*:uaccess:/{if (n) print "/dev/" n} /^$/{n=""}' |
        while read -r node; do
            [ "$SEAT_UID" = "$1" ] || setfacl -x "u:$SEAT_UID" "$node" 2>/dev/null
            setfacl -m "u:$1:rw" "$node"
        done
    SEAT_UID=$1
}
# uaccess_nodes : how many nodes seat_change would give the seat user.
uaccess_nodes() { udevadm info --export-db | grep -c '^E: CURRENT_TAGS=.*:uaccess:'; }

# settled NODE : udev has run its rules for NODE's latest event, termguard's included.
settled() { udevadm settle -t 30 && udevadm info -q property -n "$1" 2>/dev/null | grep -q '^TERMGUARD_RAW='; }

# plug_ffs NAME VID PID SERIAL KIND [SCSI_TYPE] : a FunctionFS device on the next UDC; sets DEV.
plug_ffs() {
    _udc=dummy_udc.$NO
    NO=$((NO + 1))
    DEV=/nonexistent
    gadget_create_ffs "$1" "$2" "$3" "$4" || return 1
    "$FFS" "/dev/ffs-$1" "$5" ${6:+"$6"} >"/tmp/ffs-$1.log" 2>&1 &
    wait_for 20 grep -q ready "/tmp/ffs-$1.log" || { cat "/tmp/ffs-$1.log"; return 1; }
    gadget_bind "$1" "$_udc" || return 1
    check "$1 enumerated" wait_for 60 usb_dev_present "$_udc" || return 1
    DEV=$(usb_dev_for_udc "$_udc")
    check "$1: decision recorded" wait_for 20 decided "$4"
}

# plug_storage NAME VID PID SERIAL EXTRA : a mass_storage gadget on the next UDC, and as its
# second part EXTRA: "reader" (a FunctionFS card reader interface) or "cdrom" (a CD-ROM LUN).
plug_storage() {
    _udc=dummy_udc.$NO
    NO=$((NO + 1))
    DEV=/nonexistent
    _g=$TG_CONFIGFS/$1
    tg_make_image "/tmp/img-$1" 16 TGTEST || return 1
    mkdir "$_g" "$_g/strings/0x409" "$_g/configs/c.1" || return 1
    echo "$2" >"$_g/idVendor"
    echo "$3" >"$_g/idProduct"
    printf '%s' "$4" >"$_g/strings/0x409/serialnumber"
    mkdir "$_g/functions/mass_storage.0" || return 1
    echo 1 >"$_g/functions/mass_storage.0/lun.0/removable"
    echo "/tmp/img-$1" >"$_g/functions/mass_storage.0/lun.0/file"
    if [ "$5" = cdrom ]; then
        tg_make_image "/tmp/iso-$1" 4 || return 1
        mkdir "$_g/functions/mass_storage.0/lun.1" || return 1
        echo 1 >"$_g/functions/mass_storage.0/lun.1/cdrom"
        echo 1 >"$_g/functions/mass_storage.0/lun.1/removable"
        echo "/tmp/iso-$1" >"$_g/functions/mass_storage.0/lun.1/file"
    fi
    ln -s "$_g/functions/mass_storage.0" "$_g/configs/c.1/" || return 1
    if [ "$5" = reader ]; then
        mkdir "$_g/functions/ffs.$1" "/dev/ffs-$1" || return 1
        mount -t functionfs "$1" "/dev/ffs-$1" || return 1
        ln -s "$_g/functions/ffs.$1" "$_g/configs/c.1/" || return 1
        "$FFS" "/dev/ffs-$1" reader >"/tmp/ffs-$1.log" 2>&1 &
        wait_for 20 grep -q ready "/tmp/ffs-$1.log" || { cat "/tmp/ffs-$1.log"; return 1; }
    fi
    gadget_bind "$1" "$_udc" || return 1
    check "$1 enumerated" wait_for 60 usb_dev_present "$_udc" || return 1
    DEV=$(usb_dev_for_udc "$_udc")
    check "$1: decision recorded" wait_for 20 decided "$4"
}

disk_of() { usb_disks_for_dev "$1" | head -n 1; }
has_disk() { [ -n "$(usb_disks_for_dev "$1")" ]; }
# scsi_nodes DEV : /dev nodes of sg and sr devices below DEV.
scsi_nodes() {
    for _c in /sys/class/scsi_generic/sg* /sys/block/sr*; do
        [ -e "$_c" ] || continue
        case "$(readlink -f "$_c")" in "$(readlink -f "$1")"/*) echo "/dev/$(basename "$_c")" ;; esac
    done
}
no_scsi_device_of_type() { # DEV TYPE : no SCSI device of that type below DEV
    find "$(readlink -f "$1")" -name type -path '*/[0-9]*:[0-9]*:[0-9]*:[0-9]*/type' 2>/dev/null | {
        while read -r _t; do [ "$(cat "$_t" 2>/dev/null)" = "$2" ] && exit 1; done
        exit 0
    }
}
# hidraw_of DEV : the first hidraw node below DEV.
hidraw_of() {
    for _h in "$1"/*/*/hidraw/hidraw*; do
        [ -e "$_h" ] && { echo "/dev/${_h##*/}"; return 0; }
    done
    return 1
}
staff_opens_none_of() { # NODES... : staff can open none of them
    for _n in "$@"; do staff_opens "$_n" 2>/dev/null && return 1; done
    return 0
}

tg_section "termguard's raw doors (usbfs, hidraw, SCSI pass-through) on $(uname -r)"
mkdir -p /run/systemd/seats /etc/termguard/termguard.conf.d
printf 'ACTIVE=c1000\nACTIVE_UID=1000\n' >/run/systemd/seats/seat0
# The allowed reader and key models: an IC card reader (0b) and a FIDO key.
printf '[Daemon]\nAdminGroup=tgadmin\n[USB]\nRawAccess=1209:0b01\nRawAccess=1209:f1d1/KEY-OK\n' \
    >/etc/termguard/termguard.conf.d/50-site.conf
check "systemd-udevd starts" /lib/systemd/systemd-udevd --daemon --resolve-names=never
check "udev control socket" wait_for 10 test -e /run/udev/control
for r in 61-termguard.rules 72-termguard-raw.rules 74-termguard-raw-late.rules 70-uaccess.rules 73-seat-late.rules 60-fido-id.rules; do
    check "rule $r installed" test -f "/lib/udev/rules.d/$r"
done
check "audit journal created as an administrator does (termguardctl journal init)" tg_journal_init
/usr/sbin/termguardd >>"$EVENTS" 2>&1 &
DAEMON=$!
check "termguardd up" wait_for 20 test -S /run/termguard/control.socket
tg_load_dummy_hcd 8
$CTL media add --vid 0951 --pid 1666 --serial DOOR-RO-1 --label door-ro-1 >/dev/null
$CTL media add --vid 0951 --pid 1666 --serial DOOR-RO-2 --label door-ro-2 >/dev/null

say "Bulk-Only storage behind a smart-card interface, unregistered: authorized, usbfs root's"
plug_ffs bot 0x1209 0x0b0b DOOR-BOT bot0b
BOT_NODE=$(usb_node "$DEV")
check "its interfaces pass (class 0b is allowed)" wait_for 20 authorized_is "$DEV/$(basename "$DEV"):1.0" 1
check "udev ran the rules" wait_for 30 settled "$BOT_NODE"
check "Debian's rules see a smart-card reader" has_prop "$BOT_NODE" ID_SMARTCARD_READER=1
seat_change 1000
check "termguard grants no raw access" raw_prop "$BOT_NODE" 0
check_not "no uaccess tag left in the current event" current_uaccess "$BOT_NODE"
check "usbfs node is root's, 0600" root_only "$BOT_NODE"
check "no ACL entry for the seat user" no_acl_for_staff "$BOT_NODE"
check_not "the seat user sends no control request (usbfs-raw)" as_staff "/usr/bin/usbfs-raw $BOT_NODE"
check_not "the seat user cannot open it for writing" staff_opens "$BOT_NODE"
check_not "no vendor request reached the device" grep -q vendor "/tmp/ffs-bot.log"
check "root still can (pcscd runs as root)" /usr/bin/usbfs-raw "$BOT_NODE"

say "Clone of a registered read-only stick with one more, empty, smart-card interface"
plug_storage roclone 0x0951 0x1666 DOOR-RO-1 reader
check "its disk appears, read-only" wait_for 30 ro_disk_of "$DEV"
RO_NODE=$(usb_node "$DEV")
check "udev ran the rules" wait_for 30 settled "$RO_NODE"
seat_change 1000
check "termguard grants no raw access" raw_prop "$RO_NODE" 0
check "usbfs node is root's, 0600" root_only "$RO_NODE"
check_not "the seat user cannot claim the storage interface (detach, claim, WRITE)" \
    as_staff "/usr/bin/usbfs-claim $RO_NODE 0 1"
check_not "... nor send control requests" as_staff "/usr/bin/usbfs-raw $RO_NODE"
udevadm settle -t 30
check "the disk node is root's, 0600 (group disk sends no SG_IO)" root_only "/dev/$(disk_of "$DEV")"
# shellcheck disable=SC2046 # one node a word
check "the disk's nodes are not the seat user's" staff_opens_none_of "/dev/$(disk_of "$DEV")" $(scsi_nodes "$DEV")

say "A PTP camera, unregistered: blocked, and its control endpoint root's"
plug_ffs ptp 0x1209 0x0606 DOOR-PTP ptp
PTP_NODE=$(usb_node "$DEV")
check "device stays unauthorized" authorized_is "$DEV" 0
check "udev ran the rules" wait_for 30 settled "$PTP_NODE"
seat_change 1000
check "Debian's rules would give it to the seat user (060101)" \
    sh -c "udevadm info -q property -n $PTP_NODE | grep -q '^ID_USB_INTERFACES=.*:060101:'"
check "usbfs node is root's, 0600" root_only "$PTP_NODE"
check_not "the seat user's vendor requests are refused" as_staff "/usr/bin/usbfs-raw $PTP_NODE"
check_not "none reached the device" grep -q vendor "/tmp/ffs-ptp.log"

say "A device claiming to be a FIDO key, not allowed: hidraw root's"
plug_ffs fido 0x1209 0xf1d0 DOOR-FIDO fido
check "usbhid gives it a hidraw node" wait_for 30 hidraw_of "$DEV"
FIDO_HID=$(hidraw_of "$DEV")
check "udev ran the rules" wait_for 30 settled "$FIDO_HID"
seat_change 1000
check "Debian's fido_id sees a security token" has_prop "$FIDO_HID" ID_SECURITY_TOKEN=1
check "hidraw is root's, 0600" root_only "$FIDO_HID"
check_not "the seat user cannot open its hidraw" staff_opens "$FIDO_HID"
check "usbfs node root's too" root_only "$(usb_node "$DEV")"

say "An allowed FIDO key and an allowed card reader keep their user access"
plug_ffs key 0x1209 0xf1d1 KEY-OK fido
check "hidraw node" wait_for 30 hidraw_of "$DEV"
KEY_HID=$(hidraw_of "$DEV")
check "termguard grants raw access to its hidraw" wait_for 30 raw_settled "$KEY_HID" 1
check "the seat user opens the key's hidraw" wait_for 10 staff_opens "$KEY_HID"
plug_ffs reader 0x1209 0x0b01 READER-1 reader
READER_NODE=$(usb_node "$DEV")
READER_SYS=$(basename "$DEV")
check "termguard grants raw access (after its decision)" wait_for 30 raw_settled "$READER_NODE" 1
check "the seat user talks to the reader through usbfs" as_staff "/usr/bin/usbfs-raw $READER_NODE"
check "its node carries uaccess in its current event" current_uaccess "$READER_NODE"
check "seat changes have nodes to give (the emulation is not idle)" test "$(uaccess_nodes)" -gt 0
seat_change 1001
check "another user takes the seat: the reader is theirs" su -s /bin/sh admin -c "/usr/bin/usbfs-raw $READER_NODE"
check_not "... and no longer staff's" as_staff "/usr/bin/usbfs-raw $READER_NODE"
check_not "... while the devices termguard keeps root's stay so" su -s /bin/sh admin -c "/usr/bin/usbfs-raw $BOT_NODE"
seat_change 1000
check "staff back on the seat: the reader is theirs again" as_staff "/usr/bin/usbfs-raw $READER_NODE"

say "Fail closed: the helper cannot learn the decision"
mv "/run/termguard/devices/$READER_SYS" /tmp/reader.decision
udevadm trigger --settle --action=change "$(readlink -f "/sys/bus/usb/devices/$READER_SYS")"
udevadm settle -t 30
check "no decision: no raw access" raw_prop "$READER_NODE" 0
check "... the seat user loses the reader" wait_for 10 staff_refused "$READER_NODE"
sed 's/^DEVNUM=.*/DEVNUM=999/' /tmp/reader.decision >"/run/termguard/devices/$READER_SYS"
udevadm trigger --settle --action=change "$(readlink -f "/sys/bus/usb/devices/$READER_SYS")"
udevadm settle -t 30
check "a stale decision (another attachment) grants nothing" staff_refused "$READER_NODE"
printf 'garbage\n' >"/run/termguard/devices/$READER_SYS"
udevadm trigger --settle --action=change "$(readlink -f "/sys/bus/usb/devices/$READER_SYS")"
udevadm settle -t 30
check_not "a malformed decision grants nothing" as_staff "/usr/bin/usbfs-raw $READER_NODE"

say "The model is taken off the allow-list: the reader's raw access ends on reload"
mv /tmp/reader.decision "/run/termguard/devices/$READER_SYS"
udevadm trigger --settle --action=change "$(readlink -f "/sys/bus/usb/devices/$READER_SYS")"
udevadm settle -t 30
check "raw access back with the daemon's decision" as_staff "/usr/bin/usbfs-raw $READER_NODE"
printf '[Daemon]\nAdminGroup=tgadmin\n[USB]\nRawAccess=1209:f1d1/KEY-OK\n' >/etc/termguard/termguard.conf.d/50-site.conf
kill -HUP "$DAEMON"
check "revoked: TERMGUARD_RAW=0" wait_for 30 raw_settled "$READER_NODE" 0
check_not "the seat user's ACL no longer opens it" as_staff "/usr/bin/usbfs-raw $READER_NODE"
check "the decision records raw access no" events_have '"serial":"READER-1".*"raw_access":"no".*"trigger":"reload"'

say "The token registry is the allow-list: a reader registered with termguardctl gets raw access"
check "RawAccess= models are ownerless entries of the registry" \
    sh -c "$CTL token list --json | grep -q 'RawAccess=1209:f1d1'"
check "the reader is registered for staff" \
    $CTL token add --kind card-reader --vid 1209 --pid 0b01 --serial READER-1 --owner staff --label reader-staff
check "granted at once: TERMGUARD_RAW=1" wait_for 30 raw_settled "$READER_NODE" 1
check "the seat user talks to the registered reader" wait_for 10 as_staff "/usr/bin/usbfs-raw $READER_NODE"
check "the decision records the registry change" \
    events_have '"serial":"READER-1".*"raw_access":"yes".*"trigger":"token-change"'
check "the registration is removed" $CTL token remove reader-staff
check "revoked again: TERMGUARD_RAW=0" wait_for 30 raw_settled "$READER_NODE" 0
check_not "the seat user's ACL no longer opens it" as_staff "/usr/bin/usbfs-raw $READER_NODE"
check "the node keeps no ACL entry for the seat user" no_acl_for_staff "$READER_NODE"

say "A registered read-only stick's clone with a CD-ROM LUN"
plug_storage cdclone 0x0951 0x1666 DOOR-RO-2 cdrom
check "its disk appears, read-only" wait_for 30 ro_disk_of "$DEV"
check "the CD-ROM LUN is removed" wait_for 30 no_scsi_device_of_type "$DEV" 5
check "its removal is recorded" wait_for 10 events_have '"event":"storage.lun-removed".*"scsi_type":"5"'
udevadm settle -t 30
check "no sr node is left" sh -c "! ls /sys/block/ | grep -q '^sr'"
# shellcheck disable=SC2046 # one node a word
check "the seat user opens none of the stick's nodes" staff_opens_none_of "/dev/$(disk_of "$DEV")" $(scsi_nodes "$DEV")
for n in $(scsi_nodes "$DEV"); do check "$n is root's, 0600" root_only "$n"; done

say "usb-storage bound by its unusual-devices table to a smart-card interface (SCSI type 8)"
plug_ffs changer 0x4971 0x8024 DOOR-CHANGER bot0b 8
CH_INTF=$DEV/$(basename "$DEV"):1.0
check "usb-storage bound to it (unusual-devices table) or it is cut off already" \
    wait_for 30 sh -c "test -e $CH_INTF/driver || test \"\$(cat $CH_INTF/authorized)\" = 0"
check "the interface is cut off" wait_for 30 authorized_is "$CH_INTF" 0
check "no sg node is left below it" wait_for 30 no_scsi_nodes "$DEV"
check "recorded" cut_off_recorded "$(basename "$DEV")"
check_not "nothing was written to it" grep -q wrote /tmp/ffs-changer.log
grep -E '"event":"(storage.lun-removed|storage.unexpected|usb.driver-refused)"' "$EVENTS"

kill "$DAEMON" 2>/dev/null
udevadm control --exit 2>/dev/null
tg_summary
