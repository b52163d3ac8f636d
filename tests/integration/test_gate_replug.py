# SPDX-License-Identifier: GPL-2.0-or-later
"""Kernel events read after the attachment they are about was unplugged, when the next device
on the port has the same sysfs path (and the kernel's device number, devnum, tells them apart).
termguardd reads its uevents after the kernel sent them; on a busy terminal, or with a quick
hand, the stick an event is about may be gone and another in its place. The real kernel's
sequence is in tests/vm/gate-races.sh; here each late event is emulated exactly."""

import unittest

from gate_testbed import GateTestCase, UsbDevice, MASS_STORAGE


def stick_as(serial, devnum, event_devnum=None):
    """A stick on port 1-1 whose add event says DEVNUM=event_devnum (the attachment the event
    is about) while sysfs already shows the attachment devnum."""
    s = UsbDevice("1-1", 0x0951, 0x1666, serial, [(0,) + MASS_STORAGE], devnum)
    if event_devnum is not None:
        rec = s.record()
        s.record = lambda: rec.replace("E: DEVNUM=%03d" % devnum, "E: DEVNUM=%03d" % event_devnum)
    return s


class ReplugTest(GateTestCase):
    def test_add_event_of_a_stick_gone_is_not_judged_as_the_next_one(self):
        self.start_daemon()
        nxt = stick_as(b"KST-NEXT", 6)
        self.register(nxt, "USB-SOUMU-RW", mode="read-write")
        # The add event of attachment 5 (unplugged before termguardd read it); sysfs shows 6.
        self.plug(stick_as(b"KST-NEXT", 6, event_devnum=5), with_interfaces=False)
        self.barrier()
        self.assertEqual(self.events("usb.decision", serial="KST-NEXT"), [],
                         "the late event was judged with the next stick's identity")
        self.assertEqual(self.events("usb.attach", device="1-1"), [])
        self.assertEqual(self.attr(nxt.syspath, "authorized"), "0", "authorized before its own event")
        self.assertIsNone(self.decision_file("1-1"))
        ev = self.wait_event("usb.missed", device="1-1")
        self.assertEqual((ev["devnum"], ev["vid"], ev["pid"]), ("5", "0951", "1666"))

        # Then the next stick's own add event: judged once, as itself.
        self.tb.set_property(nxt.syspath, "DEVNUM", "006")
        self.tb.uevent(nxt.syspath, "add")
        ev = self.decision_of(nxt, trigger="attach")
        self.assertEqual((ev["serial"], ev["decision"]), ("KST-NEXT", "read-write"))
        self.wait_attr(nxt.syspath, "authorized", "1")
        self.assertEqual(self.decision_file("1-1")["DEVNUM"], "6")
        self.barrier()
        self.assertEqual(len(self.events("usb.decision", serial="KST-NEXT")), 1)

    def test_late_events_of_a_stick_gone_leave_the_next_one_alone(self):
        s = stick_as(b"KST-0001", 2)
        self.plug(s, with_interfaces=False)
        self.start_daemon()
        self.register(s, "USB-KEIRI-01")  # read-only
        self.wait_attr(s.syspath, "authorized", "1")
        self.add_interfaces(s)
        intf = s.interface_path(0)
        self.wait_attr(intf, "authorized", "1")
        self.barrier()
        probes = len(self.probes())

        # Unplugged, and the next attachment (devnum 3) took the port: the same paths. The
        # events of attachment 2 that termguardd had not read yet arrive now.
        self.tb.set_attribute(s.syspath, "devnum", "3")
        self.add_block(s, "sdn", 208)  # its disk, created before it was unplugged
        self.tb.uevent(intf, "unbind")  # usb-storage leaving as it went
        self.barrier()
        self.assertEqual(self.blk.blkroset_calls(), [], "BLKROSET on a disk name of the next attachment")
        for t in ("storage.unexpected", "storage.error", "storage.read-only", "usb.driver-unbound"):
            self.assertEqual(self.events(t), [], t)
        self.assertEqual(self.attr(intf, "authorized"), "1", "the next attachment's interface was cut off")
        self.assertEqual(len(self.probes()), probes, "the next attachment's interface was probed again")

        # A disk of the current attachment is still guarded.
        self.tb.set_attribute(s.syspath, "devnum", "2")
        self.add_block(s, "sdo", 224)
        self.wait_for(lambda: self.blk.blkroset_calls() == [("/dev/sdo", 1)], "BLKROSET on the current disk")


if __name__ == "__main__":
    unittest.main()
