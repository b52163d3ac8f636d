# SPDX-License-Identifier: GPL-2.0-or-later
"""Configuration at start and on reload (SIGHUP): a bad file is refused naming file and line,
the last good policy stays in force, a good reload applies to present devices.

Run with run.sh (see gate_testbed.py and README.md in this folder)."""

import os
import signal
import subprocess
import unittest

from gate_testbed import GateTestCase, HUB_PATH, TERMGUARDD, TIMEOUT, keyboard


class ConfigTest(GateTestCase):
    def test_bad_config_at_start_is_refused(self):
        self.write_dropin("10-site.conf", "[USB]\nAllowInterfaceClasses=hid\n")
        bad = self.write_dropin("50-local.conf", "# local additions\n[USB]\nAllowInterfaceClasses=hid mass-storage\n")
        r = subprocess.run([TERMGUARDD, "--config", self.confdir], env=self.daemon_env(),
                           stdin=subprocess.DEVNULL, capture_output=True, timeout=TIMEOUT)
        err = r.stderr.decode("utf-8", "replace")
        self.assertEqual(r.returncode, 1, err)
        self.assertIn("%s:3: USB.AllowInterfaceClasses:" % bad, err)
        self.assertFalse(os.path.exists(self.socket))
        # It refused before touching the USB gate.
        self.assertEqual(self.attr(HUB_PATH, "authorized_default"), "1")

        # An unknown key in the main file names that file and line.
        os.unlink(bad)
        main = self.write_config("[Exceptions]\nMaxDuraton=8h\n")
        r = subprocess.run([TERMGUARDD, "--config", self.confdir], env=self.daemon_env(),
                           stdin=subprocess.DEVNULL, capture_output=True, timeout=TIMEOUT)
        err = r.stderr.decode("utf-8", "replace")
        self.assertEqual(r.returncode, 1, err)
        self.assertIn("%s:5: Exceptions.MaxDuraton:" % main, err)

    def test_bad_config_on_reload_keeps_old_policy(self):
        kbd = keyboard(authorized=True, interfaces_authorized=True)
        self.plug(kbd)
        self.start_daemon()
        self.wait_attr(kbd.syspath, "authorized", "1")
        # Line 2 alone would block keyboards; line 3 is an error, so none of it may apply.
        bad = self.write_dropin("50-local.conf", "[USB]\nAllowInterfaceClasses=printer\nBogusKey=1\n")
        self.daemon.send_signal(signal.SIGHUP)
        ev = self.wait_event("config.reload-failed")
        self.assertIn("%s:3: USB.BogusKey:" % bad, ev["error"])
        st = self.barrier()
        self.assertIsNone(self.daemon.poll())
        self.assertIn("%s:3: USB.BogusKey:" % bad, st["last_reload_error"])
        self.assertEqual(self.attr(kbd.syspath, "authorized"), "1")
        self.assertIs(self.device_json(kbd.name)["authorized"], True)
        # A keyboard plugged after the refused reload is judged by the old policy.
        kbd2 = keyboard(name="1-3", devnum=4)
        self.plug(kbd2)
        self.wait_attr(kbd2.syspath, "authorized", "1")
        self.wait_attr(kbd2.interface_path(0), "authorized", "1")

        # The same file without the error reloads, and the new policy applies to present devices.
        # The runtime directory holds the live socket and decision files: it cannot move.
        os.unlink(bad)
        n_failed = len(self.events("config.reload-failed"))
        self.write_config("RuntimeDirectory=%s/elsewhere\n" % self.tmp)
        self.daemon.send_signal(signal.SIGHUP)
        self.wait_for(lambda: len(self.events("config.reload-failed")) > n_failed, "a refused reload")
        self.assertIn("RuntimeDirectory", self.events("config.reload-failed")[-1]["error"])
        self.assertEqual(self.attr(kbd.syspath, "authorized"), "1")
        self.write_config()

        self.write_dropin("50-local.conf", "[USB]\nAllowInterfaceClasses=printer\n")
        self.daemon.send_signal(signal.SIGHUP)
        self.wait_event("config.reloaded")
        self.wait_attr(kbd.syspath, "authorized", "0")
        self.wait_attr(kbd2.syspath, "authorized", "0")
        self.assertEqual(self.barrier()["last_reload_error"], "")


if __name__ == "__main__":
    unittest.main(verbosity=2)
