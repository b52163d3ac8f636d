# shellcheck shell=sh
# Runs in the VM for bench/media-audit.sh: N small files copied to a writable stick while
# termguardd records them; prints "BENCH key value" lines. Figures only, nothing asserted.
. /lib/tg/lib.sh
. /etc/tg-bench-media.env

EVENTS=/tmp/events.log
CTL=/usr/bin/termguardctl
bench() { echo "BENCH $1 $2"; }
uptime_ms() { awk '{ printf "%d\n", $1 * 1000 }' /proc/uptime; }
status_kib() { sed -n "s/^$2:[[:space:]]*\([0-9]*\) kB/\1/p" "/proc/$1/status"; }
rollup_kib() { sed -n 's/^Rss:[[:space:]]*\([0-9]*\) kB/\1/p' "/proc/$1/smaps_rollup"; }
count() { grep -c "\"event\":\"media.$1\"" "$EVENTS"; }

mkdir -p /etc/termguard
# As an administrator does before the first start: without it storage stays blocked.
tg_journal_init || { echo "BENCH error journal-init-failed"; exit 1; }
/usr/sbin/termguardd >>"$EVENTS" 2>&1 &
PID=$!
wait_for 20 test -S /run/termguard/control.socket || { echo "BENCH error daemon-did-not-start"; exit 1; }
tg_load_dummy_hcd 1 || exit 1
$CTL media add --vid 0951 --pid 1666 --serial MEDIA-BENCH --label bench >/dev/null
$CTL exception grant bench --until "$(date -u -d "@$(($(date +%s) + 3000))" +%Y-%m-%dT%H:%M:%SZ)" \
    --approver bench --reason bench >/dev/null
tg_make_image /tmp/stick.img 128 BENCH
gadget_create bench 0x0951 0x1666 MEDIA-BENCH /tmp/stick.img || exit 1
gadget_bind bench dummy_udc.0 || exit 1
wait_for 60 usb_dev_present dummy_udc.0 || { echo "BENCH error stick-not-enumerated"; exit 1; }
DEV=$(usb_dev_for_udc dummy_udc.0)
wait_for 30 sh -c "[ -n \"\$(ls $DEV/*/host*/target*/*/block 2>/dev/null)\" ]"
D=$(ls "$DEV"/*/host*/target*/*/block | head -n 1)
wait_for 20 sh -c "[ \"\$(cat /sys/block/$D/ro)\" = 0 ]"
mkdir -p /mnt/b
mount -o rw "/dev/$D" /mnt/b || { echo "BENCH error mount-failed"; exit 1; }
wait_for 10 grep -q '"event":"media.watch-started"' "$EVENTS"
sleep 2
bench rss_watch_idle_kib "$(status_kib "$PID" VmRSS)"
bench rss_watch_idle_exact_kib "$(rollup_kib "$PID")"

# N files of 100 to 1,100 bytes, each different, in tmpfs; copied into one folder (FAT's
# root directory holds 512 entries).
mkdir -p /tmp/src
i=0
while [ "$i" -lt "$N" ]; do
    head -c $((100 + i % 1000)) /dev/urandom >/tmp/src/f$i.dat
    i=$((i + 1))
done
EXPECT_BYTES=$(find /tmp/src -type f -exec cat {} + | wc -c)
T0=$(uptime_ms)
cp -r /tmp/src /mnt/b/src
T1=$(uptime_ms)
# Until every close is recorded, or nothing more comes for 10 s.
last=-1 same=0
while [ "$(count file-written)" -lt "$N" ] && [ "$same" -lt 10 ]; do
    n=$(count file-written)
    if [ "$n" = "$last" ]; then same=$((same + 1)); else same=0; last=$n; fi
    sleep 1
done
T2=$(uptime_ms)
bench files "$N"
bench copy_ms $((T1 - T0))
bench recorded_ms $((T2 - T0))
bench written_captured "$(count file-written)"
bench created_captured "$(count file-created)"
bench hashed "$(grep '"event":"media.file-written"' "$EVENTS" | grep -c '"sha256":')"
bench comm_known "$(grep '"event":"media.file-written"' "$EVENTS" | grep -c '"comm":"cp"')"
bench overflow_events "$(count audit-overflow)"
bench rss_after_copy_kib "$(status_kib "$PID" VmRSS)"
bench rss_after_copy_exact_kib "$(rollup_kib "$PID")"
bench rss_peak_kib "$(status_kib "$PID" VmHWM)"
# A sample of digests against sha256sum.
ok=0
for i in 0 1 17 999 $((N - 1)); do
    h=$(sha256sum "/mnt/b/src/f$i.dat" | cut -d' ' -f1)
    grep -q "\"path\":\"/src/f$i.dat\",\"size\":\"[0-9]*\",\"sha256\":\"$h\"" "$EVENTS" && ok=$((ok + 1))
done
bench digests_checked "$ok/5"
umount /mnt/b
wait_for 30 grep -q '"event":"media.watch-ended"' "$EVENTS"
grep '"event":"media.watch-ended"' "$EVENTS" | sed 's/^/# /'
grep '"event":"media.audit-overflow"' "$EVENTS" | head -n 3 | sed 's/^/# /'
bench expected_bytes "$EXPECT_BYTES"
kill "$PID"
wait "$PID" 2>/dev/null
exit 0
