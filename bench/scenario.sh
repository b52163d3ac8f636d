# shellcheck shell=sh
# Benchmark scenario: runs inside the test VM (busybox sh, PID 1's child), started by
# bench/run.sh. Measures termguardd and usbguard-daemon one after the other in this
# same VM boot, plus a kernel-only floor for the latency. Prints machine-readable
# result lines "BENCH <who> <key> <value...>" that run.sh turns into a table;
# everything else on the console is diagnostics. It asserts nothing: a failed step
# is reported as "BENCH <who> error <text>" and the run goes on.
. /lib/tg/lib.sh

# Knobs written by run.sh; defaults for a manual run.
N=10          # plugs per daemon
IDLE=30       # idle window in seconds
SETTLE=2      # seconds between "ready" and the RSS sample
[ -f /etc/bench.env ] && . /etc/bench.env

STICK_SERIAL=BENCH-0001     # allowed by both daemons
PRESENT_SERIAL=BENCH-PRESENT # plugged before each daemon starts; blocked by both
VID=0951
PID=1666
STICK_UDC=dummy_udc.0
PRESENT_UDC=dummy_udc.1
LOGDIR=/tmp/bench
mkdir -p "$LOGDIR"

say() { echo "# bench: $*"; }
result() { echo "BENCH $*"; }
err() { result "$1 error $2"; say "ERROR ($1): $2"; }

sysattr() { cat "$1/$2" 2>/dev/null; }
has_disk() { [ -n "$(usb_disks_for_dev "$1")" ]; }
attr_is() { [ "$(sysattr "$1" "$2")" = "$3" ]; }
alive() { [ -d "/proc/$1" ] && ! grep -q '^State:.*Z' "/proc/$1/status" 2>/dev/null; }

# Sum of voluntary + nonvoluntary context switches over all threads of PID.
ctxsum() {
    cat /proc/"$1"/task/*/status 2>/dev/null |
        awk '/^(voluntary|nonvoluntary)_ctxt_switches:/ { s += $2 } END { print s + 0 }'
}
# utime+stime of the whole process, in clock ticks.
cputicks() {
    # Field 2 (comm) may hold spaces; cut it off at the last ')'.
    sed 's/.*) //' "/proc/$1/stat" | awk '{ print $12 + $13 }'
}
uptime_ms() { awk '{ printf "%d\n", $1 * 1000 }' /proc/uptime; }

# Both root hubs back to the kernel's defaults, as on a machine without any policy daemon.
hubs_default() {
    for h in /sys/bus/usb/devices/usb*; do
        echo 1 >"$h/authorized_default" 2>/dev/null
        echo 1 >"$h/interface_authorized_default" 2>/dev/null
    done
}
hubs_locked() {
    for h in /sys/bus/usb/devices/usb*; do
        [ "$(sysattr "$h" authorized_default)" = 0 ] || return 1
    done
}

# Re-plug the "present" stick with default-allow hubs, so it is authorized and has its
# disk when the daemon starts: the daemon must judge it and take it away.
replug_present() {
    [ -n "$(cat "$TG_CONFIGFS/present/UDC" 2>/dev/null)" ] && gadget_unbind present
    gadget_bind present "$PRESENT_UDC"
    wait_for 20 usb_dev_present "$PRESENT_UDC" || return 1
    PRESENT_DEV=$(usb_dev_for_udc "$PRESENT_UDC")
    wait_for 20 has_disk "$PRESENT_DEV"
}

# memory WHO PID TAG: RSS figures of PID. VmRSS is what the issue asks for; the
# kernel updates it lazily (per-thread counters folded in every 64 faults), so the exact
# page-table walk of smaps_rollup is reported next to it. Files in the VM's initramfs
# live on tmpfs, so library pages count as RssShmem here, not RssFile.
memory() {
    _w=$1 _p=$2 _t=$3
    for _k in VmRSS RssAnon RssFile RssShmem Threads; do
        result "$_w $_k$_t $(awk -v k="$_k:" '$1 == k { print $2 }' "/proc/$_p/status")"
    done
    for _k in Rss Pss; do
        result "$_w smaps_$_k$_t $(awk -v k="$_k:" '$1 == k { print $2 }' "/proc/$_p/smaps_rollup" 2>/dev/null)"
    done
}

# top_maps WHO PID: largest mappings by Rss (KiB), summed per file / [heap] / [anon];
# the per-segment split (r--p, r-xp, rw-p ...) goes to the console log.
top_maps() {
    awk '
        /^[0-9a-f]+-[0-9a-f]+ / { name = (NF >= 6) ? $6 : "[anon]"; perm = $2; next }
        /^Rss:/ { rss[name] += $2; if ($2 >= 64) print "# smaps", $2, perm, name }
        END { for (n in rss) if (rss[n] > 0) print "TOP", rss[n], n }
    ' "/proc/$2/smaps" >"$LOGDIR/maps-$1"
    grep '^# smaps' "$LOGDIR/maps-$1" | sed "s/^# smaps/# smaps $1/"
    grep '^TOP' "$LOGDIR/maps-$1" | sort -k2,2rn | head -n 8 | while read -r _ kib name; do
        result "$1 map $kib $name"
    done
}

# latency WHO : N plug/unplug cycles of the allowed stick with the uevent listener.
latency() {
    _w=$1
    _out=$LOGDIR/lat-$_w.txt
    rm -f "$_out" "$LOGDIR/listener.ready"
    /usr/bin/uevent-latency -n "$N" -t $((N * 30)) -r "$LOGDIR/listener.ready" >"$_out" 2>>"$LOGDIR/listener.err" &
    _lpid=$!
    if ! wait_for 10 test -e "$LOGDIR/listener.ready"; then
        err "$_w" "uevent listener did not start"
        kill "$_lpid" 2>/dev/null
        return 1
    fi
    _i=0 _nodisk=0 _noauth=0
    while [ "$_i" -lt "$N" ]; do
        _i=$((_i + 1))
        gadget_bind stick "$STICK_UDC"
        # Stay quiet while the daemon decides: on a single vCPU, polling would compete.
        sleep 1
        if ! wait_for 20 usb_dev_present "$STICK_UDC"; then
            err "$_w" "plug $_i: device never enumerated"
            gadget_unbind stick
            continue
        fi
        _dev=$(usb_dev_for_udc "$STICK_UDC")
        if ! wait_for 15 attr_is "$_dev" authorized 1; then
            _noauth=$((_noauth + 1))
        elif ! wait_for 15 has_disk "$_dev"; then
            _nodisk=$((_nodisk + 1))
        fi
        gadget_unbind stick || err "$_w" "plug $_i: unplug did not complete"
    done
    # The listener exits by itself after N measurements.
    wait_for 5 sh -c "! kill -0 $_lpid 2>/dev/null" || kill "$_lpid" 2>/dev/null
    wait "$_lpid" 2>/dev/null
    [ "$_noauth" -eq 0 ] || err "$_w" "$_noauth of $N plugs were never authorized"
    [ "$_nodisk" -eq 0 ] || err "$_w" "$_nodisk of $N plugs authorized but no disk appeared"
    result "$_w plugs $N"
    awk -v w="$_w" '$1 == "LAT" { print "BENCH " w " lat " $3 } $1 == "NOAUTH" { print "BENCH " w " noauth " $2 }' "$_out"
}

# thread_cs PID: "TID NAME CTXSW" per thread.
thread_cs() {
    for _f in /proc/"$1"/task/*/status; do
        awk '/^Name:/ { n = $2 } /^Pid:/ { t = $2 }
             /^(voluntary|nonvoluntary)_ctxt_switches:/ { s += $2 }
             END { if (t) print t, n, s + 0 }' "$_f" 2>/dev/null
    done
}

# idle WHO PID : context switches and CPU ticks over IDLE seconds of quiet.
idle() {
    thread_cs "$2" >"$LOGDIR/cs0-$1"
    _c0=$(ctxsum "$2") _k0=$(cputicks "$2") _t0=$(uptime_ms)
    sleep "$IDLE"
    _c1=$(ctxsum "$2") _k1=$(cputicks "$2") _t1=$(uptime_ms)
    thread_cs "$2" >"$LOGDIR/cs1-$1"
    result "$1 idle_ms $((_t1 - _t0))"
    result "$1 idle_ctxsw $((_c1 - _c0))"
    result "$1 idle_ticks $((_k1 - _k0))"
    # Which thread woke up: per-thread deltas (threads born or gone count from/to 0).
    awk -v w="$1" 'FNR == NR { a[$1] = $3; next }
        { print "BENCH " w " thread " $1 " " $2 " " $3 - a[$1] }' \
        "$LOGDIR/cs0-$1" "$LOGDIR/cs1-$1"
    # Where each thread sleeps: syscall number and arguments (7 poll, 232 epoll_wait,
    # 202 futex, 271 ppoll, 23 select); a timeout argument explains periodic wakeups.
    for _t in /proc/"$2"/task/*; do
        echo "# thread-syscall $1 ${_t##*/} $(cat "$_t/syscall" 2>/dev/null)"
    done
}

stop_daemon() {
    kill "$1" 2>/dev/null
    wait_for 10 sh -c "! kill -0 $1 2>/dev/null" || kill -9 "$1" 2>/dev/null
    wait "$1" 2>/dev/null
}

# ---- setup -----------------------------------------------------------------------
say "kernel $(uname -r), N=$N, IDLE=${IDLE}s"
tg_load_dummy_hcd 2 || err setup "dummy_hcd did not load"
# usb-storage waits delay_use seconds (default 1) before scanning a new disk.
echo 0 >/sys/module/usb_storage/parameters/delay_use 2>/dev/null
tg_make_image /tmp/stick.img 8 BENCH
tg_make_image /tmp/present.img 8 PRESENT
gadget_create stick "0x$VID" "0x$PID" "$STICK_SERIAL" /tmp/stick.img || err setup "gadget stick"
gadget_create present "0x$VID" "0x$PID" "$PRESENT_SERIAL" /tmp/present.img || err setup "gadget present"

# ---- kernel floor: no daemon, hubs authorize everything ---------------------------
say "floor: no policy daemon, authorized_default=1"
hubs_default
latency floor

# ---- termguardd -----------------------------------------------------------------
say "termguardd"
hubs_default
replug_present || err termguardd "present stick did not come up"
# As an administrator does before the first start: without it storage stays blocked.
tg_journal_init || err termguardd "termguardctl journal init failed"
/usr/sbin/termguardd >"$LOGDIR/termguardd.log" 2>&1 &
TGPID=$!
if wait_for 30 test -S /run/termguard/control.socket &&
    wait_for 30 attr_is "$PRESENT_DEV" authorized 0; then
    termguardctl status >/dev/null 2>&1 || err termguardd "control socket does not answer"
    hubs_locked || err termguardd "a root hub is not at authorized_default=0"
    sleep "$SETTLE"
    memory termguardd "$TGPID" ""
    top_maps termguardd "$TGPID"
    idle termguardd "$TGPID"
    termguardctl media add --vid "$VID" --pid "$PID" --serial "$STICK_SERIAL" --label bench-stick >/dev/null ||
        err termguardd "media add failed"
    latency termguardd
    memory termguardd "$TGPID" _after
else
    err termguardd "not ready within 30 s (alive: $(alive "$TGPID" && echo yes || echo no))"
fi
alive "$TGPID" || err termguardd "daemon died"
stop_daemon "$TGPID"
say "termguardd log (tail):"
tail -n 5 "$LOGDIR/termguardd.log" | sed 's/^/#   /'

# ---- usbguard-daemon ------------------------------------------------------------
say "usbguard-daemon"
mkdir -p /etc/usbguard/IPCAccessControl.d /var/log/usbguard
cat >/etc/usbguard/rules.conf <<EOF
allow id $VID:$PID serial "$STICK_SERIAL"
EOF
cat >/etc/usbguard/usbguard-daemon.conf <<'EOF'
RuleFile=/etc/usbguard/rules.conf
ImplicitPolicyTarget=block
PresentDevicePolicy=apply-policy
PresentControllerPolicy=keep
InsertedDevicePolicy=apply-policy
AuthorizedDefault=none
RestoreControllerDeviceState=false
DeviceManagerBackend=uevent
IPCAllowedUsers=root
IPCAllowedGroups=root
IPCAccessControlFiles=/etc/usbguard/IPCAccessControl.d/
DeviceRulesWithPort=false
AuditBackend=FileAudit
AuditFilePath=/var/log/usbguard/usbguard-audit.log
HidePII=false
EOF
chmod 0600 /etc/usbguard/rules.conf /etc/usbguard/usbguard-daemon.conf
hubs_default
replug_present || err usbguard "present stick did not come up"
# -k: log to the console, here a file; its chatter never reaches the result lines.
/usr/sbin/usbguard-daemon -k -c /etc/usbguard/usbguard-daemon.conf >"$LOGDIR/usbguard.log" 2>&1 &
UGPID=$!
if wait_for 30 attr_is "$PRESENT_DEV" authorized 0 &&
    wait_for 30 sh -c 'usbguard list-devices >/dev/null 2>&1'; then
    hubs_locked || err usbguard "a root hub is not at authorized_default=0"
    sleep "$SETTLE"
    memory usbguard "$UGPID" ""
    top_maps usbguard "$UGPID"
    idle usbguard "$UGPID"
    latency usbguard
    memory usbguard "$UGPID" _after
else
    err usbguard "not ready within 30 s (alive: $(alive "$UGPID" && echo yes || echo no))"
fi
alive "$UGPID" || err usbguard "daemon died"
stop_daemon "$UGPID"
say "usbguard-daemon log (tail):"
tail -n 5 "$LOGDIR/usbguard.log" | sed 's/^/#   /'
[ -s "$LOGDIR/listener.err" ] && sed 's/^/# listener: /' "$LOGDIR/listener.err"

result "done"
exit 0
