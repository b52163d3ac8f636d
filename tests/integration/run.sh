#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Device-integration tier: the real termguardd and termguardctl against a umockdev testbed.
#   tests/integration/run.sh BUILD_DIR [unittest arguments, e.g. test_gate_devices or
#   test_gate_control.ControlTest.test_vid_must_be_four_hex_digits]
# Needs root and the Debian packages umockdev, gir1.2-umockdev-1.0, python3-gi, util-linux, and for
# the idle lock dbus-daemon, python3-dbus, python3-dbusmock, pcscd, vsmartcard-vpcd and iproute2, for
# the session helper xvfb and xdotool.
set -eu

if [ $# -lt 1 ]; then
        echo "usage: $0 BUILD_DIR [TEST...]" >&2
        exit 2
fi
build=$(cd "$1" && pwd)
shift
here=$(cd "$(dirname "$0")" && pwd)
# The system Python: gi (python3-gi) is a Debian package, not in other interpreters.
python=${PYTHON:-/usr/bin/python3}

missing=""
for b in agent/termguardd ctl/termguardctl session/termguard-session tests/pam-login; do
        [ -x "$build/$b" ] || missing="$missing $build/$b"
done
command -v umockdev-wrapper >/dev/null 2>&1 || missing="$missing umockdev-wrapper(umockdev)"
command -v dbus-daemon >/dev/null 2>&1 || missing="$missing dbus-daemon(dbus-daemon)"
"$python" -c 'import dbus, dbusmock' 2>/dev/null || missing="$missing $python:dbusmock(python3-dbus,python3-dbusmock)"
for t in pcscd ip; do
        command -v $t >/dev/null 2>&1 || missing="$missing $t(pcscd/iproute2)"
done
for t in Xvfb xdotool; do
        command -v $t >/dev/null 2>&1 || missing="$missing $t(xvfb/xdotool)"
done
[ -e /usr/lib/pcsc/drivers/serial/libifdvpcd.so ] || missing="$missing libifdvpcd.so(vsmartcard-vpcd)"
for t in setpriv unshare mount; do
        command -v $t >/dev/null 2>&1 || missing="$missing $t(util-linux/mount)"
done
"$python" -c 'import gi; gi.require_version("UMockdev", "1.0"); from gi.repository import UMockdev' 2>/dev/null ||
        missing="$missing $python:gi.repository.UMockdev(python3-gi,gir1.2-umockdev-1.0)"
if [ -n "$missing" ]; then
        echo "$0: missing:$missing" >&2
        exit 2
fi
if [ "$(id -u)" != 0 ]; then
        echo "$0: must run as root" >&2
        exit 2
fi

if [ $# -eq 0 ]; then
        set -- test_gate_devices test_gate_startup test_gate_config test_gate_register \
                test_gate_control test_gate_storage test_gate_drivers test_lifecycle test_ctl_mfa test_records test_retention \
                test_idle_lock \
                test_udev_helper test_session_helper test_notifications
fi
cd "$here"
# umockdev carries uevents over a Unix datagram socket, where a receiver may have at most
# net.unix.max_dgram_qlen datagrams queued (10 by default) and umockdev aborts on the next;
# the kernel's netlink socket, which libudev sizes to 128 MiB, holds thousands. A burst of
# plugs while the daemon is busy (a sanitizer build, a loaded machine) would end the whole
# run. In a network namespace of its own the limit is raised without touching the host's.
export TG_BUILD_DIR="$build"
exec unshare --net /bin/sh -c 'echo 4096 >/proc/sys/net/unix/max_dgram_qlen && exec umockdev-wrapper "$@"' sh \
        "$python" -m unittest -v "$@"
