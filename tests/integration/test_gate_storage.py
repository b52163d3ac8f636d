# SPDX-License-Identifier: GPL-2.0-or-later
"""The write-ban on block devices (BLKROSET through umockdev's ioctl emulation): disks of
read-only media are set read-only, storage that cannot be is cut off, and an expiring
exception unmounts before the medium turns read-only.

Run with run.sh (see gate_testbed.py and README.md in this folder)."""

import os
import time
import unittest

from gate_testbed import GateTestCase, TIMEOUT, UsbDevice, iso_utc, stick


class StorageTest(GateTestCase):
    def registered_stick_ready(self, label="USB-KEIRI-01", **daemon_args):
        s = stick()
        self.plug(s, with_interfaces=False)
        self.start_daemon(**daemon_args)
        self.register(s, label)
        self.wait_attr(s.syspath, "authorized", "1")
        self.add_interfaces(s)
        self.wait_attr(s.interface_path(0), "authorized", "1")
        return s

    def test_block_devices_of_read_only_media_are_set_read_only(self):
        s = self.registered_stick_ready()
        disk = self.add_block(s, "sdn", 208)
        self.add_block(s, "sdn1", 209, parent=disk)
        self.wait_for(lambda: len(self.blk.blkroset_calls()) >= 2, "BLKROSET on the disk and its partition")
        self.assertEqual(self.blk.blkroset_calls(), [("/dev/sdn", 1), ("/dev/sdn1", 1)])
        ev = self.wait_event("storage.read-only", devnode="/dev/sdn")
        self.assertEqual((ev["device"], ev["label"]), (s.name, "USB-KEIRI-01"))
        self.wait_event("storage.read-only", devnode="/dev/sdn1")
        self.assertEqual(self.attr(s.interface_path(0), "authorized"), "1")

        # Under an exception the medium comes back (re-probed) writable: no BLKROSET.
        self.ctl_json("exception", "grant", "USB-KEIRI-01", "--until", iso_utc(time.time() + 3600),
                      "--approver", "kacho", "--reason", "year-end closing")
        self.wait_for(lambda: self.decision_file(s.name)["MODE"] == "read-write", "read-write")
        self.remove_block(disk + "/sdn1")
        self.remove_block(disk)
        self.add_block(s, "sdo", 224)
        self.barrier()
        self.assertEqual(self.blk.blkroset_calls(), [("/dev/sdn", 1), ("/dev/sdn1", 1)])
        self.assertEqual(self.events("storage.read-only", devnode="/dev/sdo"), [])

    # Drivers bind by more than the declared class (usb-storage's unusual-devices table
    # matches vendor/product only): a disk below an interface admitted as audio is cut off.
    def test_disk_from_an_interface_not_admitted_as_storage_is_cut_off(self):
        dev = UsbDevice("1-3", 0x0D49, 0x7310, b"AUD-1", [(0, 0x01, 0x06, 0x50)], 4,
                        manufacturer=b"Maxtor", product=b"Audio?")
        self.plug(dev, with_interfaces=False)
        self.start_daemon()
        self.wait_attr(dev.syspath, "authorized", "1")  # audio passes by class
        self.add_interfaces(dev)
        self.wait_attr(dev.interface_path(0), "authorized", "1")
        self.add_block(dev, "sdq", 240)
        ev = self.wait_event("storage.unexpected", devnode="/dev/sdq")
        self.assertEqual(ev["interface"], "1-3:1.0")
        self.wait_attr(dev.interface_path(0), "authorized", "0")
        self.assertEqual(self.blk.blkroset_calls(), [], "not made read-only: cut off")

    # Fail closed
    def test_medium_that_cannot_be_made_read_only_is_cut_off(self):
        s = self.registered_stick_ready()
        self.blk.blkroset_errno = 13  # EACCES
        self.add_block(s, "sdn", 208)
        ev = self.wait_event("storage.error", devnode="/dev/sdn")
        self.assertIn("denied", ev["error"].lower())
        self.wait_attr(s.interface_path(0), "authorized", "0")
        self.assertEqual(self.events("storage.read-only"), [])

    # "Expiring exceptions unmount, then deauthorize."
    def test_expiring_exception_unmounts_before_read_only(self):
        # The user's mount must be in place before the exception expires. How long setting it up
        # takes depends on the machine: a round in which the exception expired first shows
        # nothing and is done again with a longer exception, a new disk and a new mount.
        rounds = [("sdn", 208), ("sdo", 224), ("sdp", 240)]
        mnts = [os.path.join(self.tmp, "mnt-" + disk) for disk, _ in rounds]
        for mnt in mnts:
            os.mkdir(mnt)
        s = self.registered_stick_ready(tmpfs_at=mnts)
        pid = self.daemon.pid
        seconds = 6
        for (disk, minor), mnt in zip(rounds, mnts):
            with open("/proc/%d/mountinfo" % pid) as f:
                self.assertIn(" %s " % mnt, f.read(), "the daemon's namespace has the test mount")
            exc, until = self.grant_expiring("USB-KEIRI-01", seconds)
            self.wait_event("usb.decision", device=s.name, trigger="exception-granted", exception=exc,
                            decision="read-write")
            disk_path = self.add_block(s, disk, minor)
            self.barrier()
            set_read_only = [c for c in self.blk.blkroset_calls() if c[0] == "/dev/" + disk]
            n_probes = self.probes().count("1-1:1.0")
            n_expired = len(self.events("usb.decision", device=s.name, trigger="exception-expired",
                                        decision="read-only"))
            self.mountinfo = [("8:%d" % minor, mnt)]  # the user mounted it read-write
            self.write_mountinfo()
            if time.time() < until:
                break  # disk and mount were in place before termguardd could see the exception expire
            self.wait_event("exception.expired", exception=exc)
            self.barrier()
            self.mountinfo = []
            self.write_mountinfo()
            self.remove_block(disk_path)
            seconds *= 2
        else:
            self.fail("the exception expired before the disk and its mount were in place, %d times" % len(rounds))
        self.assertEqual(set_read_only, [], "a writable medium is not set read-only")

        ev = self.wait_for(lambda: (self.events("storage.unmounted", mountpoint=mnt) or [None])[0],
                           "the read-write mount to be unmounted at expiry",
                           timeout=max(0, until - time.time()) + TIMEOUT)
        self.assertEqual((ev["how"], ev["why"]), ("unmounted", "exception-expired"))
        with open("/proc/%d/mountinfo" % pid) as f:
            self.assertNotIn(" %s " % mnt, f.read(), "the filesystem is really unmounted")
        self.wait_for(lambda: len(self.events("usb.decision", device=s.name, trigger="exception-expired",
                                              decision="read-only")) > n_expired,
                      "a read-only decision at expiry")
        kinds = [e["event"] for e in self.events() if e["event"] in ("storage.unmounted", "usb.decision")]
        self.assertEqual(kinds[-2:], ["storage.unmounted", "usb.decision"], "unmounted before the new decision")
        self.wait_for(lambda: self.decision_file(s.name)["MODE"] == "read-only", "read-only")
        # The storage interface was cut off and probed again, so the disk returns read-only.
        self.wait_for(lambda: self.probes().count("1-1:1.0") == n_probes + 1, "a new probe after the expiry")

if __name__ == "__main__":
    unittest.main(verbosity=2)
