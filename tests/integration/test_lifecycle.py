# SPDX-License-Identifier: GPL-2.0-or-later
"""termguardd under a service manager: sd_notify READY/WATCHDOG/RELOADING/STOPPING.

The daemon runs against an empty umockdev testbed (so it never touches the real USB
controllers of the machine running the tests) and reports to a notify socket that this
test binds, as systemd would.
"""
import os
import select
import shutil
import signal
import socket
import struct
import subprocess
import tempfile
import time
import unittest

import gi

gi.require_version("UMockdev", "1.0")
from gi.repository import UMockdev  # noqa: E402

BUILD = os.environ["TG_BUILD_DIR"]
DAEMON = os.path.join(BUILD, "agent", "termguardd")
TIMEOUT = float(os.environ.get("TG_IT_TIMEOUT", "20"))
# The kernel stamps each datagram with the time it was sent (<asm-generic/socket.h>; Python
# does not name the option).
SO_TIMESTAMPNS = 35
# The watchdog interval the tests give termguardd (systemd's WatchdogSec=): short, with room
# for how sd-event pings (every 1/2 to 3/4 of it, whenever the loop is not stuck).
WATCHDOG_USEC = 1000000


class LifecycleTest(unittest.TestCase):
    def setUp(self):
        self.testbed = UMockdev.Testbed.new()  # empty /sys for the daemon
        self.tmp = tempfile.mkdtemp(prefix="tg-life-")
        conf = os.path.join(self.tmp, "conf")
        os.makedirs(os.path.join(conf, "termguard.conf.d"))
        self.conf = os.path.join(conf, "termguard.conf")
        with open(self.conf, "w") as f:
            f.write("[Daemon]\nStateDirectory=%s/state\nRuntimeDirectory=%s/run\n" % (self.tmp, self.tmp))
        self.notify_path = os.path.join(self.tmp, "notify")
        self.notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.notify.bind(self.notify_path)
        self.notify.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
        self.notify.setblocking(False)
        self.proc = None
        self.confdir = conf

    def tearDown(self):
        if self.proc:
            if self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait()
            self.proc.stderr.close()
        self.notify.close()
        shutil.rmtree(self.tmp)

    def start(self, watchdog_usec=None):
        # Testbed.new() sets UMOCKDEV_DIR with setenv(), which os.environ does not see: without
        # it here the daemon would see, and lock, the real USB controllers of this machine.
        env = dict(os.environ, NOTIFY_SOCKET=self.notify_path, UMOCKDEV_DIR=self.testbed.get_root_dir(),
                   DBUS_SYSTEM_BUS_ADDRESS="unix:path=%s/no-bus/socket" % self.tmp)  # never the host's bus
        env.pop("JOURNAL_STREAM", None)
        if watchdog_usec:
            env["WATCHDOG_USEC"] = str(watchdog_usec)
        self.proc = subprocess.Popen([DAEMON, "--config", self.confdir], env=env,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    def receive(self, wait):
        """Waits up to `wait` seconds for a notify message. Returns its lines and the time
        termguardd sent it (the kernel's stamp: a test that reads late does not make the daemon
        look late), or None and a time up to which termguardd had sent nothing more."""
        select.select([self.notify], [], [], wait)
        checked = time.time()
        try:
            data, ancillary, _, _ = self.notify.recvmsg(4096, socket.CMSG_SPACE(16))
        except BlockingIOError:
            return None, checked
        stamps = [struct.unpack("qq", d[:16]) for level, kind, d in ancillary
                  if level == socket.SOL_SOCKET and kind == SO_TIMESTAMPNS]
        self.assertTrue(stamps, "the kernel stamped the notify message")
        return data.decode().split("\n"), stamps[0][0] + stamps[0][1] / 1e9

    def messages(self, until):
        """Collects notify messages up to the first with the line `until`: [(lines, sent)]."""
        got = []
        deadline = time.monotonic() + TIMEOUT
        while time.monotonic() < deadline:
            lines, sent = self.receive(0.2)
            if lines is None:
                continue
            got.append((lines, sent))
            if until in lines:
                return got
        self.fail("no %r from termguardd within %ss; got %r" % (until, TIMEOUT, [m for m, _ in got]))

    def test_watchdog_pings_never_pause_for_an_interval(self):
        interval = WATCHDOG_USEC / 1e6
        self.start(watchdog_usec=WATCHDOG_USEC)
        _, ready_at = self.messages("READY=1")[-1]
        # Three whole intervals from READY=1 on, measured between the times termguardd sent its
        # messages: never an interval without WATCHDOG=1 (systemd would kill it for that).
        last, pings = ready_at, 0
        while last - ready_at < 3 * interval:
            lines, t = self.receive(interval / 4)
            late = "%d pings in, %.3f s since the last (or READY=1): more than the %.1f s interval"
            if lines is None:
                self.assertIsNone(self.proc.poll(), "termguardd exited")
                # A ping that comes late is judged by its stamp; this only ends waiting for none.
                self.assertLess(t - last, 2 * interval, "no WATCHDOG=1: " + late % (pings, t - last, interval))
            elif "WATCHDOG=1" in lines:
                self.assertLessEqual(t - last, interval, "WATCHDOG=1 late: " + late % (pings, t - last, interval))
                last, pings = t, pings + 1
        self.assertGreaterEqual(pings, 3)

    def test_no_watchdog_pings_without_watchdog(self):
        self.start()
        _, ready_at = self.messages("READY=1")[-1]
        # For as long as a watchdog of WATCHDOG_USEC would have needed at least one ping.
        while True:
            lines, t = self.receive(0.1)
            if lines is not None:
                self.assertNotIn("WATCHDOG=1", lines)
            elif t - ready_at > WATCHDOG_USEC / 1e6:
                break

    def test_reload_and_stop(self):
        self.start()
        self.messages("READY=1")
        self.proc.send_signal(signal.SIGHUP)
        got = self.messages("READY=1")
        self.assertTrue(any("RELOADING=1" in lines for lines, _ in got), got)
        # A bad reload still returns to READY, keeping the old policy.
        with open(self.conf, "a") as f:
            f.write("Bogus=1\n")
        self.proc.send_signal(signal.SIGHUP)
        self.messages("READY=1")
        self.assertIsNone(self.proc.poll(), "a bad reload must not stop the daemon")
        self.proc.send_signal(signal.SIGTERM)
        self.messages("STOPPING=1")
        self.assertEqual(self.proc.wait(timeout=TIMEOUT), 0, "SIGTERM exits cleanly")
        err = self.proc.stderr.read().decode()
        self.assertIn("termguard.conf:4: Daemon.Bogus: unknown key", err)
        self.assertIn('"event":"daemon.stopping"', err)


if __name__ == "__main__":
    unittest.main()
