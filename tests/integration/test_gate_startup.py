# SPDX-License-Identifier: GPL-2.0-or-later
"""termguardd's start and restart: every root hub locked (and those that appear later),
devices already present judged, stale decision files cleared, the register kept across a
restart.

Run with run.sh (see gate_testbed.py and README.md in this folder)."""

import os
import unittest

from gate_testbed import GateTestCase, HUB_PATH, keyboard, stick


class StartupTest(GateTestCase):
    def test_every_root_hub_is_locked_at_start_and_as_it_appears(self):
        hub2 = self.add_root_hub("usb2", "/sys/devices/pci0000:00/0000:00:14.0/usb2")
        self.start_daemon()
        for hub in (HUB_PATH, hub2):
            self.assertEqual(self.attr(hub, "authorized_default"), "0", hub)
            self.assertEqual(self.attr(hub, "interface_authorized_default"), "0", hub)
        locked = {e["controller"] for e in self.events("usb.controller-locked", result="ok")}
        self.assertEqual(locked, {"usb1", "usb2"})
        st = self.barrier()
        self.assertEqual(st["controllers_locked"], 2)
        # A root hub is a controller, not a device to judge.
        self.assertEqual(self.events("usb.decision"), [])
        self.assertEqual(self.ctl_json("devices"), [])
        # A controller that appears later (a dock, a PCIe card) is locked as it appears.
        hub3 = self.add_root_hub("usb3", "/sys/devices/pci0000:00/0000:00:1c.0/0000:3a:00.0/usb3")
        self.wait_attr(hub3, "authorized_default", "0")
        self.wait_attr(hub3, "interface_authorized_default", "0")
        self.wait_event("usb.controller-locked", controller="usb3", result="ok")
        self.assertEqual(self.barrier()["controllers_locked"], 3)

    def test_stale_decision_files_are_cleared_at_start(self):
        os.makedirs(os.path.join(self.rundir, "devices"), exist_ok=True)
        with open(os.path.join(self.rundir, "devices", "3-9"), "w") as f:
            f.write("BUSNUM=3\nDEVNUM=9\nMODE=read-write\nLABEL=gone\n")
        s = stick()
        self.plug(s)
        self.start_daemon()
        self.wait_for(lambda: self.decision_file(s.name) is not None, "the live decision file")
        self.assertIsNone(self.decision_file("3-9"), "a device that is gone has no decision")

    # Devices present before the daemon starts, and a restart with a persisted register.
    def test_startup_judges_present_devices_and_register_persists(self):
        # The controller was open before termguardd ran: a stick got in and was configured.
        early = stick(authorized=True, interfaces_authorized=True)
        other = stick(name="1-3", serial="KST-0002", devnum=4)
        kbd = keyboard()
        for d in (early, other, kbd):
            self.plug(d)
        self.start_daemon()
        for d in (early, other, kbd):
            self.assertEqual(self.events("usb.decision", device=d.name)[-1]["trigger"], "startup")
        self.barrier()
        # (Deauthorizing the device is enough: the kernel then unconfigures it and its
        # interfaces go away, which the testbed does not emulate.)
        self.assertEqual(self.attr(early.syspath, "authorized"), "0", "a stick that got in early is cut off")
        self.assertEqual(self.probes(), "1-2:1.0")
        self.assertEqual(self.attr(kbd.syspath, "authorized"), "1")
        self.assertEqual(self.attr(kbd.interface_path(0), "authorized"), "1")

        self.register(other, "USB-SOUMU-02")
        self.wait_attr(other.syspath, "authorized", "1")
        self.stop_daemon()
        self.assertFalse(os.path.exists(self.socket), "the control socket is removed on exit")
        # Storage that lost its daemon stays as it was; a new start judges it from the register.
        self.tb.set_attribute(other.syspath, "authorized", "0\n")
        self.start_daemon()
        self.wait_attr(other.syspath, "authorized", "1")
        self.assertEqual(self.decision_file(other.name)["MODE"], "read-only")
        self.assertEqual(self.decision_file(other.name)["LABEL"], "USB-SOUMU-02")
        self.barrier()
        self.assertEqual(self.attr(early.syspath, "authorized"), "0")
        self.assertEqual(len(self.events("usb.controller-locked", controller="usb1")), 2)


if __name__ == "__main__":
    unittest.main(verbosity=2)
