# SPDX-License-Identifier: GPL-2.0-or-later
"""termguard-udev-helper --raw, as 72-termguard-raw.rules runs it: for a usbfs, hidraw, SCSI
generic or block node below a USB device, TERMGUARD_RAW=1 only where the decision file of that
very attachment grants it (RAW=yes for usbfs and hidraw, MODE=read-write for sg, sr and sd);
anything else, a missing, stale, malformed or planted file included, is TERMGUARD_RAW=0.

What is real: the built helper and libudev; sysfs is the umockdev testbed. The decision files
are written here as termguardd writes them (lib/decision-file.c).

Run with run.sh (see gate_testbed.py and README.md in this folder)."""

import os
import subprocess
import unittest

from gate_testbed import BUILD_DIR, GateTestCase, MASS_STORAGE, UsbDevice

HELPER = os.path.join(BUILD_DIR, "udev", "termguard-udev-helper")
READER = (0x0B, 0x00, 0x00)


class UdevHelperRawTest(GateTestCase):
    def setUp(self):
        super().setUp()
        self.devdir = os.path.join(self.rundir, "devices")
        os.makedirs(self.devdir, mode=0o700)
        # A reader (usbfs and a hidraw-like child) and a stick with a SCSI device, sg and disk.
        self.reader = UsbDevice("1-3", 0x04E6, 0x5116, "R1", [(0,) + READER], 7, authorized=True)
        self.plug(self.reader)
        self.hidraw = self.add_child(self.reader.interface_path(0) + "/0003:04E6:5116.0001/hidraw/hidraw0",
                                     "hidraw", "hidraw0", 244, 0)
        self.stick = UsbDevice("1-4", 0x0951, 0x1666, "S1", [(0,) + MASS_STORAGE], 9, authorized=True)
        self.plug(self.stick)
        lun = self.stick.interface_path(0) + "/host6/target6:0:0/6:0:0:1"
        self.sg = self.add_child(lun + "/scsi_generic/sg1", "scsi_generic", "sg1", 21, 1)
        self.disk = self.add_block(self.stick, "sdn", 208)

    def add_child(self, path, subsystem, name, major, minor):
        self.tb.add_from_string("\n".join([
            "P: " + path[len("/sys"):],
            "N: " + name,
            "E: SUBSYSTEM=" + subsystem,
            "E: DEVNAME=/dev/" + name,
            "E: MAJOR=%d" % major,
            "E: MINOR=%d" % minor,
            "A: dev=%d:%d\\n" % (major, minor),
        ]) + "\n\n")
        return path

    def decide(self, dev, text):
        path = os.path.join(self.devdir, dev.name)
        with open(path, "w") as f:
            f.write(text)
        os.chmod(path, 0o600)

    def record(self, dev, mode="blocked", raw="no", devnum=None):
        return "BUSNUM=1\nDEVNUM=%d\nMODE=%s\nLABEL=\nRAW=%s\n" % (devnum or dev.devnum, mode, raw)

    def raw(self, syspath):
        out = subprocess.run([HELPER, "--runtime-dir", self.rundir, "--raw", syspath], env=self.daemon_env(),
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=30, check=False)
        self.assertEqual(out.returncode, 0, out.stderr)
        lines = out.stdout.decode().splitlines()
        self.assertEqual(len(lines), 1, "one property, and only it: %r" % lines)
        self.assertRegex(lines[0], "^TERMGUARD_RAW=[01]$")
        return lines[0].split("=", 1)[1]

    def test_usbfs_and_hidraw_follow_raw(self):
        self.decide(self.reader, self.record(self.reader, raw="yes"))
        self.assertEqual(self.raw(self.reader.syspath), "1")
        self.assertEqual(self.raw(self.hidraw), "1")
        self.decide(self.reader, self.record(self.reader, raw="no"))
        self.assertEqual(self.raw(self.reader.syspath), "0")
        self.assertEqual(self.raw(self.hidraw), "0")

    def test_storage_nodes_follow_read_write_not_raw(self):
        # Raw access alone never opens sg or a disk: SG_IO writes whatever BLKROSET says.
        self.decide(self.stick, self.record(self.stick, mode="read-only", raw="yes"))
        self.assertEqual(self.raw(self.sg), "0")
        self.assertEqual(self.raw(self.disk), "0")
        self.decide(self.stick, self.record(self.stick, mode="read-write", raw="no"))
        self.assertEqual(self.raw(self.sg), "1")
        self.assertEqual(self.raw(self.disk), "1")
        self.assertEqual(self.raw(self.stick.syspath), "0")

    def test_no_valid_decision_for_this_attachment_means_none(self):
        good = self.record(self.reader, raw="yes")
        cases = {
            "missing": None,
            "stale": self.record(self.reader, raw="yes", devnum=8),
            "older format without RAW": "BUSNUM=1\nDEVNUM=7\nMODE=blocked\nLABEL=\n",
            "malformed": good.replace("RAW=yes", "RAW=1"),
            "repeated": good + "RAW=yes\n",
            "empty": "",
        }
        for what, text in cases.items():
            with self.subTest(what):
                path = os.path.join(self.devdir, self.reader.name)
                if os.path.lexists(path):
                    os.unlink(path)
                if text is not None:
                    self.decide(self.reader, text)
                self.assertEqual(self.raw(self.reader.syspath), "0")
                self.assertEqual(self.raw(self.hidraw), "0")
        # A symbolic link to a granting decision is not followed.
        os.unlink(os.path.join(self.devdir, self.reader.name))
        self.decide(self.stick, self.record(self.reader, raw="yes"))
        os.symlink(os.path.join(self.devdir, self.stick.name), os.path.join(self.devdir, self.reader.name))
        self.assertEqual(self.raw(self.reader.syspath), "0")
        # Nor is a runtime directory that is not there.
        os.rename(self.devdir, self.devdir + ".gone")
        self.assertEqual(self.raw(self.reader.syspath), "0")

    def test_nodes_not_below_a_usb_device(self):
        self.assertEqual(self.raw("/sys/devices/pci0000:00/0000:00:14.0/usb1"), "0")  # root hub: no decision


if __name__ == "__main__":
    unittest.main()
