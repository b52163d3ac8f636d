# shellcheck shell=sh
# The degraded mode (busybox sh inside the VM): with usbcore.authorized_default=0 the kernel
# authorizes no USB device, keyboards included. When termguardd cannot start, systemd starts
# termguard-hid-fallback.service (termguardd.service's OnFailure=), which admits the HID boot
# keyboards and mice present and nothing else. The VM has no systemd: the scenario checks that
# the installed termguardd.service names the fallback unit, and runs that unit's ExecStart=.
. /lib/tg/lib.sh

EVENTS=/tmp/termguard-events.log
NO=0

sysattr() { cat "$1/$2" 2>/dev/null; }
has_disk() { [ -n "$(usb_disks_for_dev "$1")" ]; }
driver_of() { basename "$(readlink "$1/driver" 2>/dev/null)"; }
record() { grep "\"event\":\"$1\"" "$EVENTS" | grep -q "\"serial\":\"$2\""; }

# plug_on_next NAME : binds gadget NAME to the next UDC and waits until it is enumerated; sets DEV.
plug_on_next() {
    _udc=dummy_udc.$NO
    NO=$((NO + 1))
    gadget_bind "$1" "$_udc" || return 1
    check "$1 enumerated" wait_for 60 usb_dev_present "$_udc" || return 1
    DEV=$(usb_dev_for_udc "$_udc")
}

tg_section "termguard degraded mode on $(uname -r)"
# What usbcore.authorized_default=0 on the kernel command line sets.
echo 0 >/sys/module/usbcore/parameters/authorized_default
check "usbcore.authorized_default=0" test "$(cat /sys/module/usbcore/parameters/authorized_default)" = 0
tg_load_dummy_hcd 5
# A termguardd that ran before and then failed leaves the controllers locked for interfaces too.
for hub in /sys/devices/platform/dummy_hcd.*/usb*; do
    echo 0 >"$hub/interface_authorized_default"
done

TG_GADGET_PRODUCT="$(printf 'Key\033[2Jboard')" gadget_create_hid kbd 0x046d 0xc31c KBD-0001 1
gadget_create_hid mouse 0x046d 0xc077 MOUSE-0001 2
gadget_create_hid fido 0x1050 0x0407 HID-NOBOOT 0 0
tg_make_image /tmp/img-stick 8 TGTEST
gadget_create stick 0x0951 0x1666 STICK-0001 /tmp/img-stick
tg_make_image /tmp/img-combo 8 TGTEST
gadget_create combo 0x1d6b 0x0104 COMBO-0001 /tmp/img-combo hid
plug_on_next kbd && KBD=$DEV
plug_on_next mouse && MOUSE=$DEV
plug_on_next fido && FIDO=$DEV
plug_on_next stick && STICK=$DEV
plug_on_next combo && COMBO=$DEV
for d in "$KBD" "$MOUSE" "$FIDO" "$STICK" "$COMBO"; do
    check "$(basename "$d") held unauthorized by the boot parameter" test "$(sysattr "$d" authorized)" = 0
done

tg_section "termguardd cannot start"
mkdir -p /etc/termguard/termguard.conf.d
printf '[Daemon]\nNoSuchKey=1\n' >/etc/termguard/termguard.conf.d/90-broken.conf
check_not "termguardd refuses to start with a broken configuration" timeout 30 /usr/sbin/termguardd
UNITS=
for d in /lib/systemd/system /usr/lib/systemd/system; do
    [ -f "$d/termguardd.service" ] && UNITS=$d
done
check "termguardd.service starts the degraded mode when it fails" \
    grep -qx 'OnFailure=termguard-hid-fallback.service' "$UNITS/termguardd.service"
CMD=$(sed -n 's/^ExecStart=//p' "$UNITS/termguard-hid-fallback.service")
check "the degraded mode's program is installed" test -x "$CMD"
check "the degraded mode runs" sh -c "$CMD 2>>$EVENTS"

tg_section "keyboards and mice only"
check "keyboard authorized" test "$(sysattr "$KBD" authorized)" = 1
check "... its interface bound to usbhid" wait_for 20 test "$(driver_of "$KBD/$(basename "$KBD"):1.0")" = usbhid
check "mouse authorized" test "$(sysattr "$MOUSE" authorized)" = 1
check "... its interface bound to usbhid" wait_for 20 test "$(driver_of "$MOUSE/$(basename "$MOUSE"):1.0")" = usbhid
check "HID that is not a boot keyboard or mouse stays blocked" test "$(sysattr "$FIDO" authorized)" = 0
check "storage stays blocked" test "$(sysattr "$STICK" authorized)" = 0
check "storage + keyboard stays blocked" test "$(sysattr "$COMBO" authorized)" = 0
check "no block device at all" sh -c '! ls /sys/block/sd* >/dev/null 2>&1'
check "keyboard recorded as admitted" record fallback.hid-admitted KBD-0001
check "mouse recorded as admitted" record fallback.hid-admitted MOUSE-0001
check "stick recorded as blocked" record fallback.blocked STICK-0001
check "composite recorded as blocked" record fallback.blocked COMBO-0001
check "the start of the degraded mode is recorded" grep -q '"event":"fallback.started"' "$EVENTS"
check "control characters from the device are escaped" grep -q 'Key\\\\x1b\[2Jboard' "$EVENTS"
check_not "no raw escape byte in the records" grep -q "$(printf '\033')" "$EVENTS"

tg_section "only what was present"
# The keyboard unplugged and plugged again (usb_f_hid has four instances, all in use): a new
# attachment, after the degraded mode ran.
gadget_unbind kbd
gadget_unbind stick
gadget_bind kbd dummy_udc.3
check "a keyboard plugged later is enumerated" wait_for 60 usb_dev_present dummy_udc.3
check "... and stays blocked (the degraded mode ran once)" test "$(sysattr "$(usb_dev_for_udc dummy_udc.3)" authorized)" = 0

tg_section "not while termguardd runs"
# termguardd judges every device itself; here its policy blocks HID, so the keyboard plugged
# later stays blocked, and the degraded mode started by hand must not admit it.
rm -f /etc/termguard/termguard.conf.d/90-broken.conf
printf '[USB]\nAllowInterfaceClasses=09\n' >/etc/termguard/termguard.conf.d/80-no-hid.conf
check "audit journal created as an administrator does (termguardctl journal init)" tg_journal_init
/usr/sbin/termguardd >>"$EVENTS" 2>&1 &
DAEMON=$!
check "termguardd up" wait_for 20 test -S /run/termguard/control.socket
check "termguardd judged the later keyboard: blocked by its policy" \
    wait_for 20 sh -c "grep '\"event\":\"usb.decision\"' $EVENTS | grep '\"serial\":\"KBD-0001\"' | grep -q '\"decision\":\"blocked\"'"
check "the degraded mode does nothing" sh -c "$CMD 2>>$EVENTS"
check "... says why" grep -q "degraded mode not needed" "$EVENTS"
check "... the keyboard stays blocked" test "$(sysattr "$(usb_dev_for_udc dummy_udc.3)" authorized)" = 0
kill "$DAEMON"
wait "$DAEMON" 2>/dev/null

grep '"event"' "$EVENTS"
tg_summary
