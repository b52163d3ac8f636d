#!/bin/bash
# run-vm.sh --kernel-dir KDIR --initrd INITRD [--append "ARGS"]
#           [--timeout SECONDS] [--log FILE] [--qemu-arg ARG ...]
#
# Boot the test VM under QEMU (TCG: KVM fails on these machines), copy the
# serial console to stdout and to FILE, and exit with the scenario's status
# taken from the "TG-VM-EXIT=<rc>" line /init prints. 125 if that line is
# missing (boot failure, panic, timeout).
# --qemu-arg passes one extra argument to QEMU, e.g. for hotplug sticks:
#   --qemu-arg -device --qemu-arg qemu-xhci,id=xhci
set -euo pipefail

usage() {
    sed -n '2,3p' "$0" | sed 's/^# \{0,1\}//' >&2
    exit 2
}

kdir='' initrd='' append='' timeout_s=300 log=''
qemu_extra=()
while [ $# -gt 0 ]; do
    case $1 in
    --kernel-dir) kdir=${2:?}; shift 2 ;;
    --initrd) initrd=${2:?}; shift 2 ;;
    --append) append=${2?}; shift 2 ;;
    --timeout) timeout_s=${2:?}; shift 2 ;;
    --log) log=${2:?}; shift 2 ;;
    --qemu-arg) qemu_extra+=("${2?}"); shift 2 ;;
    -h | --help) usage ;;
    *) echo "run-vm: unknown argument: $1" >&2; usage ;;
    esac
done
if [ -z "$kdir" ] || [ -z "$initrd" ]; then
    usage
fi
for f in "$kdir/vmlinuz" "$initrd"; do
    if [ ! -e "$f" ]; then
        echo "run-vm: $f not found" >&2
        exit 2
    fi
done

tmplog=''
where="log: $log"
if [ -z "$log" ]; then
    where="console output above"
    tmplog=$(mktemp)
    log=$tmplog
fi
trap '[ -z "$tmplog" ] || rm -f "$tmplog"' EXIT

# quiet/loglevel=3 keep kernel chatter off the console; panic=-1 plus
# -no-reboot turns a kernel panic into a QEMU exit instead of a hang.
cmdline="console=ttyS0 quiet loglevel=3 panic=-1${append:+ $append}"

# -cpu max: the default qemu64 model lacks PCLMULQDQ, so crct10dif-pclmul
# (pulled in by sd_mod) would fail to load on every boot.
# sed strips \r and the BIOS's terminal escapes (live: -u, no buffering).
# stdin from /dev/null: QEMU must not put a calling terminal into raw mode
# or wait for input. -k makes timeout SIGKILL a QEMU that ignores SIGTERM.
set +e
timeout -k 10 "$timeout_s" qemu-system-x86_64 \
    -accel tcg -cpu max -m 1024 -smp 1 -nographic -no-reboot \
    -kernel "$kdir/vmlinuz" -initrd "$initrd" -append "$cmdline" \
    "${qemu_extra[@]}" </dev/null 2>&1 |
    sed -u -e 's/\r//g' -e 's/\x1b\[[0-9;?]*[A-Za-z]//g' -e 's/\x1bc//g' |
    tee "$log"
statuses=("${PIPESTATUS[@]}")
set -e
qemu_rc=${statuses[0]}

rc=$(sed -n 's/.*TG-VM-EXIT=\([0-9][0-9]*\).*/\1/p' "$log" | tail -n 1)
if [ -z "$rc" ]; then
    if [ "$qemu_rc" -eq 124 ] || [ "$qemu_rc" -eq 137 ]; then
        echo "run-vm: TIMEOUT after ${timeout_s}s: no TG-VM-EXIT marker ($where)" >&2
    elif grep -q 'TG-VM: booted' "$log"; then
        echo "run-vm: VM booted but the scenario never reported TG-VM-EXIT (qemu exit $qemu_rc, $where)" >&2
    else
        echo "run-vm: VM did not boot: no TG-VM-EXIT marker (qemu exit $qemu_rc, $where)" >&2
    fi
    exit 125
fi
exit "$rc"
