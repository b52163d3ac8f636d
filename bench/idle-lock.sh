#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# bench/idle-lock.sh BUILD_DIR [--sessions N] [--window SECONDS] [--locks N]
# Idle lock figures, printed and never asserted: wakeups per minute with idle-tracked sessions,
# RSS, time from a deadline to logind's Lock call. Real termguardd, dbus-daemon and dbusmock's
# logind on an empty umockdev testbed. Needs root and what tests/integration/run.sh needs.
set -eu
[ $# -ge 1 ] || { sed -n '3,6p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
build=$(cd "$1" && pwd)
shift
here=$(cd "$(dirname "$0")" && pwd)
export TG_BUILD_DIR="$build"
# Test directories in a quiet place: while termguardd waits for the bus, sd-bus watches every
# directory on the socket's path (inotify), and /tmp on a shared machine changes all the time.
TMPDIR=$(mktemp -d /var/lib/termguard-bench.XXXXXX)
export TMPDIR
trap 'rm -rf "$TMPDIR"' EXIT
unshare --net /bin/sh -c 'echo 4096 >/proc/sys/net/unix/max_dgram_qlen && exec umockdev-wrapper "$@"' sh \
        /usr/bin/python3 "$here/idle-lock.py" "$@"
