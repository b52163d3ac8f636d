#!/bin/bash
# bench/media-audit.sh [BUILD_DIR] [-n FILES]
#
# Carry-out records under load: FILES (default 10,000) small files copied to a writable
# stick in one boot of the QEMU test VM while termguardd records them. Prints how many file
# events were captured of those expected, how long the copy and its records took, and
# termguardd's resident memory with the watch on. Figures only, never asserted: exit 0 means
# it ran. BUILD_DIR defaults to build/ (configure it with -DCMAKE_BUILD_TYPE=Release for
# representative figures). Needs root. See bench/README.md.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
top=$(cd "$here/.." && pwd)
build='' files=10000
while [ $# -gt 0 ]; do
    case $1 in
    -n) files=${2:?}; shift 2 ;;
    -h | --help) sed -n '2p' "$0" | sed 's/^# //' >&2; exit 2 ;;
    -*) echo "bench: unknown option $1" >&2; exit 2 ;;
    *) build=$1; shift ;;
    esac
done
case $files in '' | *[!0-9]*) echo "bench: -n takes a whole number" >&2; exit 2 ;; esac
build=${build:-$top/build}
[ -f "$build/CMakeCache.txt" ] || { echo "bench: $build is not a CMake build dir" >&2; exit 2; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
printf 'N=%s\n' "$files" >"$work/env"
set +e
TG_VM_TIMEOUT=${TG_VM_TIMEOUT:-3000} "$top/tests/vm/run-scenario.sh" "$build" "$here/media-scenario.sh" \
    --add "$work/env:/etc/tg-bench-media.env" >"$work/vm.log" 2>&1
rc=$?
set -e
grep -E '^(BENCH|# )' "$work/vm.log" || true
if [ "$rc" -ne 0 ]; then
    tail -n 30 "$work/vm.log" >&2
    echo "bench: the VM run failed (status $rc)" >&2
    exit 1
fi
v() { sed -n "s/^BENCH $1 //p" "$work/vm.log"; }
echo
printf '%-44s %s\n' "files copied" "$(v files)"
printf '%-44s %s / %s\n' "written files recorded / expected" "$(v written_captured)" "$(v files)"
printf '%-44s %s / %s\n' "created names recorded / expected" "$(v created_captured)" "$(($(v files) + 1))"
printf '%-44s %s\n' "... with SHA-256" "$(v hashed)"
printf '%-44s %s\n' "... with the copying program's name" "$(v comm_known)"
printf '%-44s %s\n' "digests checked against sha256sum" "$(v digests_checked)"
printf '%-44s %s\n' "media.audit-overflow records" "$(v overflow_events)"
printf '%-44s %s ms\n' "copy (cp -r)" "$(v copy_ms)"
printf '%-44s %s ms\n' "copy until its last record" "$(v recorded_ms)"
printf '%-44s %s KiB (exact %s)\n' "termguardd RSS, watch on, idle" "$(v rss_watch_idle_kib)" "$(v rss_watch_idle_exact_kib)"
printf '%-44s %s KiB (exact %s, peak %s)\n' "termguardd RSS after the copy" "$(v rss_after_copy_kib)" \
    "$(v rss_after_copy_exact_kib)" "$(v rss_peak_kib)"
