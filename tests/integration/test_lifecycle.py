# SPDX-License-Identifier: GPL-2.0-or-later
"""termguardd under a service manager: sd_notify READY/WATCHDOG/RELOADING/STOPPING.

The daemon runs against an empty umockdev testbed (so it never touches the real USB
controllers of the machine running the tests) and reports to a notify socket that this
test binds, as systemd would.
"""
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import unittest

import gi

gi.require_version("UMockdev", "1.0")
from gi.repository import UMockdev  # noqa: E402

BUILD = os.environ["TG_BUILD_DIR"]
DAEMON = os.path.join(BUILD, "agent", "termguardd")


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
        self.notify.settimeout(0.2)
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
        env = dict(os.environ, NOTIFY_SOCKET=self.notify_path)
        env.pop("JOURNAL_STREAM", None)
        if watchdog_usec:
            env["WATCHDOG_USEC"] = str(watchdog_usec)
        self.proc = subprocess.Popen([DAEMON, "--config", self.confdir], env=env,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    def messages(self, until, timeout=10.0):
        """Collects notify messages until one contains `until` (or times out)."""
        got = []
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                msg = self.notify.recv(4096).decode()
            except socket.timeout:
                continue
            got.append(msg)
            if until in msg.split("\n"):
                return got
        self.fail("no %r from termguardd within %ss; got %r" % (until, timeout, got))

    def test_ready_then_watchdog_pings(self):
        self.start(watchdog_usec=400000)
        first = self.messages("READY=1")
        self.assertIn("READY=1", first[-1].split("\n"))
        # sd-event pings at half the interval: several within two seconds.
        pings = 0
        deadline = time.monotonic() + 2.0
        while time.monotonic() < deadline:
            try:
                if "WATCHDOG=1" in self.notify.recv(4096).decode().split("\n"):
                    pings += 1
            except socket.timeout:
                pass
        self.assertGreaterEqual(pings, 2, "watchdog keep-alives while WATCHDOG_USEC is set")

    def test_no_watchdog_pings_without_watchdog(self):
        self.start()
        self.messages("READY=1")
        with self.assertRaises(socket.timeout):
            while True:
                msg = self.notify.recv(4096).decode()
                self.assertNotIn("WATCHDOG=1", msg.split("\n"))

    def test_reload_and_stop(self):
        self.start()
        self.messages("READY=1")
        self.proc.send_signal(signal.SIGHUP)
        got = self.messages("READY=1")
        self.assertTrue(any("RELOADING=1" in m.split("\n") for m in got), got)
        # A bad reload still returns to READY, keeping the old policy.
        with open(self.conf, "a") as f:
            f.write("Bogus=1\n")
        self.proc.send_signal(signal.SIGHUP)
        self.messages("READY=1")
        self.assertIsNone(self.proc.poll(), "a bad reload must not stop the daemon")
        self.proc.send_signal(signal.SIGTERM)
        self.messages("STOPPING=1")
        self.assertEqual(self.proc.wait(timeout=10), 0, "SIGTERM exits cleanly")
        err = self.proc.stderr.read().decode()
        self.assertIn("termguard.conf:4: Daemon.Bogus: unknown key", err)
        self.assertIn('"event":"daemon.stopping"', err)


if __name__ == "__main__":
    unittest.main()
