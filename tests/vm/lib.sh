# shellcheck shell=sh
# Helpers for scenarios running inside the termguard test VM.
#
# Sourced by busybox sh (ash), NOT bash: stay POSIX (no arrays, no [[ ]],
# no "local -a"; "local" itself is supported by ash).
#
#   . /lib/tg/lib.sh
#
# Counters for check/check_not/tg_summary.
TG_PASS=0
TG_FAIL=0
TG_CONFIGFS=/sys/kernel/config/usb_gadget

# Standard 63-byte boot keyboard report descriptor (USB HID 1.11, appendix
# E.6) as printf octal escapes: busybox has xxd but not "xxd -r".
TG_KBD_REPORT_DESC='\005\001\011\006\241\001\005\007\031\340\051\347\025\000\045\001\165\001\225\010\201\002\225\001\165\010\201\003\225\005\165\001\005\010\031\001\051\005\221\002\225\001\165\003\221\003\225\006\165\010\025\000\045\145\005\007\031\000\051\145\201\000\300'

# tg_section TEXT... : print a heading so logs are easy to scan.
tg_section() {
    echo "# --- $* ---"
}

# tg_journal_init : creates the audit journal as an administrator does before termguardd's
# first start (termguardctl journal init, the seed written for escrow); without it termguardd
# keeps USB storage blocked. Nothing when it exists.
tg_journal_init() {
    [ -d /var/lib/termguard/journal ] && return 0
    mkdir -p /var/lib/termguard && chmod 0700 /var/lib/termguard &&
        /usr/bin/termguardctl journal init --seed-out /root/journal-seed.txt >/dev/null
}

# tg_info TEXT... : diagnostic line that is neither a pass nor a fail.
tg_info() {
    echo "# $*"
}

# check NAME CMD... : run CMD, print TAP-like "ok - NAME"/"not ok - NAME".
check() {
    _tg_name=$1
    shift
    if "$@"; then
        TG_PASS=$((TG_PASS + 1))
        echo "ok - $_tg_name"
    else
        TG_FAIL=$((TG_FAIL + 1))
        echo "not ok - $_tg_name"
    fi
}

# check_not NAME CMD... : like check, but CMD must fail.
check_not() {
    _tg_name=$1
    shift
    if "$@"; then
        TG_FAIL=$((TG_FAIL + 1))
        echo "not ok - $_tg_name"
    else
        TG_PASS=$((TG_PASS + 1))
        echo "ok - $_tg_name"
    fi
}

# tg_summary : print "N passed, M failed"; non-zero if anything failed or if
# nothing was checked at all (a scenario that asserts nothing is a failure).
tg_summary() {
    echo "$TG_PASS passed, $TG_FAIL failed"
    [ "$TG_FAIL" -eq 0 ] && [ "$TG_PASS" -gt 0 ]
}

# wait_for SECONDS CMD... : poll CMD every 0.1 s; 0 once it succeeds, 1 on
# timeout. SECONDS is an integer.
wait_for() {
    _tg_left=$(($1 * 10))
    shift
    while :; do
        if "$@"; then
            return 0
        fi
        [ "$_tg_left" -le 0 ] && return 1
        _tg_left=$((_tg_left - 1))
        sleep 0.1
    done
}

# _tg_udc_count : number of dummy_udc.* entries in /sys/class/udc.
_tg_udc_count() {
    _tg_n=0
    for _tg_u in /sys/class/udc/dummy_udc.*; do
        [ -e "$_tg_u" ] && _tg_n=$((_tg_n + 1))
    done
    echo "$_tg_n"
}

_tg_udc_count_is() {
    [ "$(_tg_udc_count)" -ge "$1" ]
}

# tg_load_dummy_hcd N : load dummy_hcd with N host/UDC pairs (module param
# "num"); wait until N dummy_udc.* show up. /init skips this module so that a
# scenario can start the daemon before any controller exists.
tg_load_dummy_hcd() {
    _tg_mod=$(grep '/dummy_hcd\.ko' /etc/tg-modules.list | head -n 1)
    if [ -z "$_tg_mod" ]; then
        echo "tg_load_dummy_hcd: dummy_hcd not in /etc/tg-modules.list" >&2
        return 1
    fi
    insmod "$_tg_mod" "num=$1" || return 1
    if ! wait_for 10 _tg_udc_count_is "$1"; then
        echo "tg_load_dummy_hcd: only $(_tg_udc_count) of $1 UDCs appeared" >&2
        return 1
    fi
}

# tg_make_image PATH SIZE_MB [LABEL] : sparse file + vfat filesystem.
tg_make_image() {
    rm -f "$1"
    truncate -s "${2}M" "$1" || return 1
    if [ -n "${3:-}" ]; then
        mkdosfs -n "$3" "$1" >/dev/null
    else
        mkdosfs "$1" >/dev/null
    fi
}

# gadget_create NAME VID PID SERIAL IMAGE [hid]
# Mass-storage gadget (lun.0 backed by IMAGE, removable) in configfs; with
# "hid" a boot keyboard function is added as the second interface.
# Optional environment overrides (e.g. for hostile-string tests; written with
# printf %s, so embed raw bytes in the variable):
#   TG_GADGET_MANUFACTURER (default "termguard-test")
#   TG_GADGET_PRODUCT      (default "Test Stick")
gadget_create() {
    _tg_g=$TG_CONFIGFS/$1
    mkdir "$_tg_g" || return 1
    echo "$2" >"$_tg_g/idVendor" || return 1
    echo "$3" >"$_tg_g/idProduct" || return 1
    echo 0x0200 >"$_tg_g/bcdUSB"
    mkdir "$_tg_g/strings/0x409" || return 1
    printf '%s' "$4" >"$_tg_g/strings/0x409/serialnumber" || return 1
    printf '%s' "${TG_GADGET_MANUFACTURER:-termguard-test}" \
        >"$_tg_g/strings/0x409/manufacturer" || return 1
    printf '%s' "${TG_GADGET_PRODUCT:-Test Stick}" \
        >"$_tg_g/strings/0x409/product" || return 1
    mkdir "$_tg_g/configs/c.1" || return 1
    mkdir "$_tg_g/configs/c.1/strings/0x409" || return 1
    echo "termguard test config" >"$_tg_g/configs/c.1/strings/0x409/configuration"
    echo 100 >"$_tg_g/configs/c.1/MaxPower"
    # Link order defines interface numbers: storage is 0, hid is 1.
    mkdir "$_tg_g/functions/mass_storage.0" || return 1
    echo 1 >"$_tg_g/functions/mass_storage.0/lun.0/removable" || return 1
    echo "$5" >"$_tg_g/functions/mass_storage.0/lun.0/file" || return 1
    ln -s "$_tg_g/functions/mass_storage.0" "$_tg_g/configs/c.1/" || return 1
    if [ "${6:-}" = hid ]; then
        mkdir "$_tg_g/functions/hid.0" || return 1
        echo 1 >"$_tg_g/functions/hid.0/protocol" || return 1
        echo 1 >"$_tg_g/functions/hid.0/subclass" || return 1
        echo 8 >"$_tg_g/functions/hid.0/report_length" || return 1
        # shellcheck disable=SC2059 # the format IS the octal-escaped data
        printf "$TG_KBD_REPORT_DESC" >"$_tg_g/functions/hid.0/report_desc" || return 1
        ln -s "$_tg_g/functions/hid.0" "$_tg_g/configs/c.1/" || return 1
    fi
}

# gadget_bind NAME UDC : attach the gadget to a UDC (the "plug in").
gadget_bind() {
    echo "$2" >"$TG_CONFIGFS/$1/UDC"
}

# gadget_unbind NAME : detach from its UDC (the "unplug") and wait (10 s)
# until the host side has removed the device, so that a following bind
# cannot be mistaken for the stale device.
gadget_unbind() {
    _tg_udc=$(cat "$TG_CONFIGFS/$1/UDC") || return 1
    _tg_old=
    [ -n "$_tg_udc" ] && _tg_old=$(usb_dev_for_udc "$_tg_udc")
    echo "" >"$TG_CONFIGFS/$1/UDC" || return 1
    [ -z "$_tg_old" ] || wait_for 10 test ! -e "$_tg_old"
}

# gadget_remove NAME : unbind and delete the whole configfs tree.
gadget_remove() {
    _tg_g=$TG_CONFIGFS/$1
    [ -d "$_tg_g" ] || return 0
    [ -n "$(cat "$_tg_g/UDC" 2>/dev/null)" ] && gadget_unbind "$1"
    for _tg_l in "$_tg_g"/configs/c.1/*.0; do
        [ -L "$_tg_l" ] && rm "$_tg_l"
    done
    rmdir "$_tg_g/configs/c.1/strings/0x409" "$_tg_g/configs/c.1" \
        "$_tg_g"/functions/* "$_tg_g/strings/0x409" "$_tg_g"
}

# usb_roothub_for_udc UDC : sysfs path of the root hub of the dummy_hcd host
# paired with UDC (dummy_udc.K <-> dummy_hcd.K), e.g.
# /sys/devices/platform/dummy_hcd.0/usb1. Write authorized_default /
# interface_authorized_default there BEFORE gadget_bind.
usb_roothub_for_udc() {
    _tg_k=${1#dummy_udc.}
    for _tg_h in /sys/devices/platform/dummy_hcd."$_tg_k"/usb*; do
        if [ -e "$_tg_h/busnum" ]; then
            echo "$_tg_h"
            return 0
        fi
    done
    return 1
}

# usb_dev_for_udc UDC : sysfs path of the device enumerated on the host side
# of UDC, e.g. /sys/devices/platform/dummy_hcd.0/usb1/1-1. Fails (no output)
# while nothing is enumerated; use with wait_for.
usb_dev_for_udc() {
    _tg_h=$(usb_roothub_for_udc "$1") || return 1
    _tg_b=$(cat "$_tg_h/busnum")
    for _tg_d in "$_tg_h/$_tg_b"-*; do
        # Interfaces are named N-1:1.0; devices have idVendor.
        if [ -e "$_tg_d/idVendor" ]; then
            echo "$_tg_d"
            return 0
        fi
    done
    return 1
}

# usb_dev_present UDC : success once a device is enumerated behind UDC.
usb_dev_present() {
    usb_dev_for_udc "$1" >/dev/null
}

# usb_disks_for_dev DEVPATH : names of sd* block disks below a USB device.
usb_disks_for_dev() {
    for _tg_b in /sys/block/sd*; do
        [ -e "$_tg_b" ] || continue
        case "$(readlink -f "$_tg_b")" in
        "$(readlink -f "$1")"/*) basename "$_tg_b" ;;
        esac
    done
}

# any_sd_disk : success if any /sys/block/sd* exists.
any_sd_disk() {
    for _tg_b in /sys/block/sd*; do
        [ -e "$_tg_b" ] && return 0
    done
    return 1
}

# gadget_create_ffs NAME VID PID SERIAL [hid]
# Gadget whose first interface is a FunctionFS function "ffs.NAME" (a test program plays that
# interface through /dev/ffs-NAME, mounted here); with "hid" a boot keyboard follows as the
# second interface. Start the program and let it write its descriptors before gadget_bind.
gadget_create_ffs() {
    _tg_g=$TG_CONFIGFS/$1
    mkdir "$_tg_g" || return 1
    echo "$2" >"$_tg_g/idVendor" || return 1
    echo "$3" >"$_tg_g/idProduct" || return 1
    echo 0x0200 >"$_tg_g/bcdUSB"
    mkdir "$_tg_g/strings/0x409" || return 1
    printf '%s' "$4" >"$_tg_g/strings/0x409/serialnumber" || return 1
    printf 'termguard-test' >"$_tg_g/strings/0x409/manufacturer"
    printf 'Hostile Device' >"$_tg_g/strings/0x409/product"
    mkdir "$_tg_g/configs/c.1" || return 1
    echo 100 >"$_tg_g/configs/c.1/MaxPower"
    mkdir "$_tg_g/functions/ffs.$1" || return 1
    mkdir -p "/dev/ffs-$1"
    mount -t functionfs "$1" "/dev/ffs-$1" || return 1
    ln -s "$_tg_g/functions/ffs.$1" "$_tg_g/configs/c.1/" || return 1
    if [ "${5:-}" = hid ]; then
        mkdir "$_tg_g/functions/hid.0" || return 1
        echo 1 >"$_tg_g/functions/hid.0/protocol" || return 1
        echo 1 >"$_tg_g/functions/hid.0/subclass" || return 1
        echo 8 >"$_tg_g/functions/hid.0/report_length" || return 1
        # shellcheck disable=SC2059 # the format IS the octal-escaped data
        printf "$TG_KBD_REPORT_DESC" >"$_tg_g/functions/hid.0/report_desc" || return 1
        ln -s "$_tg_g/functions/hid.0" "$_tg_g/configs/c.1/" || return 1
    fi
}

# gadget_create_hid NAME VID PID SERIAL PROTOCOL [SUBCLASS]
# A gadget that is only a HID device: one interface, class 03, SUBCLASS (default 1, boot),
# PROTOCOL (1 keyboard, 2 mouse). TG_GADGET_PRODUCT overrides the product string.
gadget_create_hid() {
    _tg_g=$TG_CONFIGFS/$1
    mkdir "$_tg_g" || return 1
    echo "$2" >"$_tg_g/idVendor" || return 1
    echo "$3" >"$_tg_g/idProduct" || return 1
    echo 0x0200 >"$_tg_g/bcdUSB"
    mkdir "$_tg_g/strings/0x409" || return 1
    printf '%s' "$4" >"$_tg_g/strings/0x409/serialnumber" || return 1
    printf 'termguard-test' >"$_tg_g/strings/0x409/manufacturer"
    printf '%s' "${TG_GADGET_PRODUCT:-Test Keyboard}" >"$_tg_g/strings/0x409/product"
    mkdir "$_tg_g/configs/c.1" || return 1
    echo 100 >"$_tg_g/configs/c.1/MaxPower"
    mkdir "$_tg_g/functions/hid.0" || return 1
    echo "$5" >"$_tg_g/functions/hid.0/protocol" || return 1
    echo "${6:-1}" >"$_tg_g/functions/hid.0/subclass" || return 1
    echo 8 >"$_tg_g/functions/hid.0/report_length" || return 1
    # shellcheck disable=SC2059 # the format IS the octal-escaped data
    printf "$TG_KBD_REPORT_DESC" >"$_tg_g/functions/hid.0/report_desc" || return 1
    ln -s "$_tg_g/functions/hid.0" "$_tg_g/configs/c.1/" || return 1
}
