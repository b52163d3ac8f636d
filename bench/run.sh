#!/bin/bash
# bench/run.sh [BUILD_DIR] [-n PLUGS] [--idle SECONDS] [--log FILE] [--keep DIR]
#
# Benchmarks termguardd against USBGuard (usbguard-daemon from the Debian package on
# this host) in ONE boot of the QEMU test VM and prints a side-by-side table:
#   RSS after start, CPU wakeups per minute while idle, and the time from the kernel's
#   uevent for a new USB device to the moment its authorization took effect.
# Without BUILD_DIR, termguard is configured and built (Release) in build-bench/.
# The result is printed, never asserted: the exit status only says whether the
# benchmark could run (0), not whether the targets were met. See bench/README.md.
# Needs root (initramfs ownership), qemu-system-x86, busybox-static, usbguard, cc.
# The kernel is cached in ${TG_VM_CACHE:-/var/cache/termguard-vm}.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
top=$(cd "$here/.." && pwd)
vm=$top/tests/vm
cache=${TG_VM_CACHE:-/var/cache/termguard-vm}

usage() {
    sed -n '2p' "$0" | sed 's/^# \{0,1\}//' >&2
    exit 2
}

build='' plugs=10 idle=30 log='' keep=''
while [ $# -gt 0 ]; do
    case $1 in
    -n) plugs=${2:?}; shift 2 ;;
    --idle) idle=${2:?}; shift 2 ;;
    --log) log=${2:?}; shift 2 ;;
    --keep) keep=${2:?}; shift 2 ;;
    -h | --help) usage ;;
    -*) echo "bench: unknown option $1" >&2; usage ;;
    *) [ -z "$build" ] || usage; build=$1; shift ;;
    esac
done
case $plugs$idle in *[!0-9]*) echo "bench: -n and --idle take whole numbers" >&2; exit 2 ;; esac
if [ "$plugs" -lt 1 ] || [ "$idle" -lt 1 ]; then
    echo "bench: -n and --idle must be >= 1" >&2
    exit 2
fi
[ "$(id -u)" -eq 0 ] || { echo "bench: must run as root (the VM image is built with root-owned files)" >&2; exit 2; }

for tool in qemu-system-x86_64 busybox cc cmake; do
    command -v "$tool" >/dev/null || { echo "bench: $tool not found" >&2; exit 2; }
done
ug_daemon=/usr/sbin/usbguard-daemon
ug_cli=/usr/bin/usbguard
for f in "$ug_daemon" "$ug_cli"; do
    [ -x "$f" ] || { echo "bench: $f not found (apt-get install usbguard)" >&2; exit 2; }
done

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# ---- termguard build ---------------------------------------------------------------
if [ -z "$build" ]; then
    build=$top/build-bench
    echo "bench: building termguard (Release) in $build" >&2
    if ! { cmake -S "$top" -B "$build" -DCMAKE_BUILD_TYPE=Release -DBUILD_TESTING=OFF \
               >>"$work/cmake.log" 2>&1 && cmake --build "$build" -j"$(nproc)" >>"$work/cmake.log" 2>&1; }; then
        tail -n 30 "$work/cmake.log" >&2
        echo "bench: building termguard failed (log above)" >&2
        exit 1
    fi
fi
[ -f "$build/CMakeCache.txt" ] || { echo "bench: $build is not a CMake build dir" >&2; exit 2; }
if ! grep -q '^CMAKE_BUILD_TYPE:STRING=Release$' "$build/CMakeCache.txt"; then
    echo "bench: warning: $build is not a Release build; numbers are not representative" >&2
fi
DESTDIR="$work/destdir" cmake --install "$build" >/dev/null

# ---- listener, VM image ------------------------------------------------------------
cc -O2 -Wall -Wextra -Werror -o "$work/uevent-latency" "$here/uevent-latency.c"
printf 'N=%s\nIDLE=%s\n' "$plugs" "$idle" >"$work/bench.env"

"$vm/fetch-kernel.sh" "$cache" >&2
"$vm/build-initramfs.sh" --kernel-dir "$cache" --destdir "$work/destdir" \
    --scenario "$here/scenario.sh" --out "$work/initrd.gz" \
    --add "$work/uevent-latency:/usr/bin/uevent-latency" \
    --add "$ug_daemon:/usr/sbin/usbguard-daemon" \
    --add "$ug_cli:/usr/bin/usbguard" \
    --add "$work/bench.env:/etc/bench.env" \
    $(for lib in $("$vm/dlopen-libs.sh"); do printf -- '--add %s:%s ' "$lib" "$lib"; done) >&2

# ---- run ---------------------------------------------------------------------------
[ -n "$log" ] || log=$work/vm.log
# Boot ~10 s, 3 x plugs x ~3 s, 2 x idle, daemon start/stop; generous margin.
timeout_s=$((120 + 3 * plugs * 8 + 2 * idle))
echo "bench: booting the VM (about $((30 + 3 * plugs * 2 + 2 * idle)) s; console log: $log)" >&2
set +e
"$vm/run-vm.sh" --kernel-dir "$cache" --initrd "$work/initrd.gz" \
    --timeout "$timeout_s" --log "$log" | grep --line-buffered -E '^# bench:|^BENCH .* error ' >&2
vm_rc=${PIPESTATUS[0]}
set -e
[ -z "$keep" ] || { mkdir -p "$keep" && cp "$log" "$work/initrd.gz" "$keep/"; }

if ! grep -q '^BENCH done' "$log"; then
    echo "bench: the scenario did not finish (run-vm exit $vm_rc); see $log" >&2
    [ "$log" != "$work/vm.log" ] || tail -n 40 "$log" >&2
    exit 1
fi

# ---- report ------------------------------------------------------------------------
grep '^BENCH ' "$log" >"$work/results"

# val WHO KEY : first value of that key, or empty.
val() { awk -v w="$1" -v k="$2" '$2 == w && $3 == k { print $4; exit }' "$work/results"; }
# lat_stat WHO min|median|max|count
lat_stat() {
    awk -v w="$1" '$2 == w && $3 == "lat" { print $4 }' "$work/results" | sort -n |
        awk -v what="$2" '{ v[NR] = $1 }
            END {
                if (NR == 0) { print (what == "count") ? 0 : ""; exit }
                if (what == "count") print NR
                else if (what == "min") print v[1]
                else if (what == "max") print v[NR]
                else if (NR % 2) print v[(NR + 1) / 2]
                else printf "%d\n", (v[NR / 2] + v[NR / 2 + 1]) / 2
            }'
}
per_min() { # WHO
    local c ms
    c=$(val "$1" idle_ctxsw) ms=$(val "$1" idle_ms)
    [ -n "$c" ] && [ -n "$ms" ] && [ "$ms" -gt 0 ] || return 0
    awk -v c="$c" -v ms="$ms" 'BEGIN { v = c * 60000 / ms; printf (v == int(v)) ? "%d\n" : "%.1f\n", v }'
}
anon_file() { # WHO: "anon/file+shmem" from the status lines
    local a f sh
    a=$(val "$1" RssAnon) f=$(val "$1" RssFile) sh=$(val "$1" RssShmem)
    [ -n "$a" ] && [ -n "$f" ] && [ -n "$sh" ] && echo "$a/$((f + sh))"
    return 0
}
or_na() { if [ -n "$1" ]; then echo "$1"; else echo n/a; fi; }
row() { printf '%-34s %-12s %-12s %s\n' "$1" "$(or_na "$2")" "$(or_na "$3")" "${4:-}"; }

for w in termguardd usbguard floor; do
    eval "min_$w=\$(lat_stat $w min) med_$w=\$(lat_stat $w median) max_$w=\$(lat_stat $w max) cnt_$w=\$(lat_stat $w count)"
done
# shellcheck disable=SC2154 # set by the eval above
{
    echo
    echo "termguard benchmark: $(cat "$cache/version") under QEMU TCG, 1 vCPU; $plugs plugs per daemon, ${idle} s idle window"
    echo
    row metric termguardd usbguard "kernel only"
    row "RSS after start (KiB)" "$(val termguardd VmRSS)" "$(val usbguard VmRSS)"
    row "   exact Rss, smaps_rollup (KiB)" "$(val termguardd smaps_Rss)" "$(val usbguard smaps_Rss)"
    row "   anon / file+shmem (KiB)" "$(anon_file termguardd)" "$(anon_file usbguard)"
    row "   PSS (KiB)" "$(val termguardd smaps_Pss)" "$(val usbguard smaps_Pss)"
    row "   threads" "$(val termguardd Threads)" "$(val usbguard Threads)"
    row "RSS after the plugs (KiB)" "$(val termguardd VmRSS_after)" "$(val usbguard VmRSS_after)"
    row "   exact Rss after the plugs (KiB)" "$(val termguardd smaps_Rss_after)" "$(val usbguard smaps_Rss_after)"
    row "wakeups/min idle" "$(per_min termguardd)" "$(per_min usbguard)"
    row "   context switches in window" "$(val termguardd idle_ctxsw)" "$(val usbguard idle_ctxsw)"
    row "   CPU ticks in window" "$(val termguardd idle_ticks)" "$(val usbguard idle_ticks)"
    row "uevent->authorized median (us)" "$med_termguardd" "$med_usbguard" "$med_floor"
    row "   min / max (us)" "$min_termguardd / $max_termguardd" "$min_usbguard / $max_usbguard" \
        "$min_floor / $max_floor"
    row "   samples" "$cnt_termguardd/$plugs" "$cnt_usbguard/$plugs" "$cnt_floor/$plugs"
    echo

    # RSS target on the larger of VmRSS and the exact Rss (VmRSS can lag behind).
    tg_rss=$(val termguardd VmRSS) tg_exact=$(val termguardd smaps_Rss)
    [ -z "$tg_exact" ] || [ -z "$tg_rss" ] || [ "$tg_exact" -le "$tg_rss" ] || tg_rss=$tg_exact
    tg_wpm=$(per_min termguardd)
    t1=unknown t2=unknown t3=unknown
    [ -z "$tg_rss" ] || { [ "$tg_rss" -lt 4096 ] && t1="met ($tg_rss KiB)" || t1="NOT met ($tg_rss KiB)"; }
    [ -z "$tg_wpm" ] || { [ "$tg_wpm" = 0 ] && t2=met || t2="NOT met ($tg_wpm/min)"; }
    if [ -n "$med_termguardd" ] && [ -n "$med_usbguard" ]; then
        [ "$med_termguardd" -lt "$med_usbguard" ] && t3=met || t3="NOT met"
        t3="$t3 ($med_termguardd vs $med_usbguard us)"
    fi
    echo "targets for termguardd (reported, not enforced):"
    echo "  RSS < 4 MiB: $t1"
    echo "  0 wakeups/min idle: $t2"
    echo "  decision faster than USBGuard (median): $t3"

    for w in termguardd usbguard; do
        echo
        echo "$w: largest mappings by RSS (KiB)"
        awk -v w="$w" '$2 == w && $3 == "map" { printf "  %8s  %s\n", $4, $5 }' "$work/results"
        if awk -v w="$w" '$2 == w && $3 == "thread" && $6 != 0 { f = 1 } END { exit !f }' "$work/results"; then
            echo "$w: threads that woke up in the idle window (context switches)"
            awk -v w="$w" '$2 == w && $3 == "thread" && $6 != 0 { printf "  %8s  tid %s %s\n", $6, $4, $5 }' "$work/results"
        fi
    done
    if grep -q '^BENCH [a-z]* error ' "$work/results"; then
        echo
        echo "problems during the run:"
        grep '^BENCH [a-z]* error ' "$work/results" | sed 's/^BENCH /  /'
    fi
    if grep -q '^BENCH [a-z]* noauth ' "$work/results"; then
        echo "devices removed before their interfaces appeared:"
        grep '^BENCH [a-z]* noauth ' "$work/results" | sed 's/^BENCH /  /'
    fi
}
exit 0
