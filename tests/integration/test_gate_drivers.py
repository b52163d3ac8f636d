# SPDX-License-Identifier: GPL-2.0-or-later
"""Driver swaps on admitted interfaces: bind and unbind uevents. A storage driver on an
interface not admitted as storage, any other driver on the storage interface of a read-only
medium, and usbfs on a device whose storage is denied are cut off and recorded
(usb.driver-refused); other drivers (usbhid, usbfs for pcscd and FIDO tools) are left alone. A
driver leaving a read-only medium's storage interface gets it cut off and admitted again
(usb.driver-unbound): the kernel sends no uevent for a usbfs claim that may follow.

umockdev's uevents carry no DRIVER property: the daemon reads the interface's driver link, which
bind_driver() sets before sending "bind", as the kernel does before its uevent.

Run with run.sh (see gate_testbed.py and README.md in this folder)."""

import os
import unittest

from gate_testbed import HID_KEYBOARD, MASS_STORAGE, GateTestCase, UsbDevice, keyboard, stick

CCID = (0x0B, 0x00, 0x00)


class DriverTest(GateTestCase):
    def bind_driver(self, dev, number, driver):
        """Binds driver to the interface as the kernel would show it: the driver link, then a
        "bind" uevent."""
        drivers = self.sys("/sys/bus/usb/drivers")
        os.makedirs(os.path.join(drivers, driver), exist_ok=True)
        link = os.path.join(self.sys(dev.interface_path(number)), "driver")
        if os.path.lexists(link):
            os.unlink(link)
        os.symlink(os.path.join(drivers, driver), link)
        self.tb.uevent(dev.interface_path(number), "bind")

    def unbind_driver(self, dev, number):
        link = os.path.join(self.sys(dev.interface_path(number)), "driver")
        if os.path.lexists(link):
            os.unlink(link)
        self.tb.uevent(dev.interface_path(number), "unbind")

    def admitted(self, dev):
        """Plugs dev with the daemon running and waits until its interfaces are admitted."""
        self.plug(dev, with_interfaces=False)
        self.wait_attr(dev.syspath, "authorized", "1")
        self.add_interfaces(dev)
        for i in sorted({i[0] for i in dev.interfaces}):
            self.wait_attr(dev.interface_path(i), "authorized", "1")
        return dev

    def read_only_stick(self):
        s = stick()
        self.plug(s, with_interfaces=False)
        self.start_daemon()
        self.register(s, "USB-KEIRI-01")
        self.wait_attr(s.syspath, "authorized", "1")
        self.add_interfaces(s)
        self.wait_attr(s.interface_path(0), "authorized", "1")
        return s

    # usb-storage's new_id or its unusual-devices table can grab a HID interface.
    def test_storage_driver_on_a_keyboard_is_cut_off(self):
        self.start_daemon()
        kb = self.admitted(keyboard())
        self.bind_driver(kb, 0, "usb-storage")
        self.wait_attr(kb.interface_path(0), "authorized", "0")
        ev = self.wait_event("usb.driver-refused", interface="1-2:1.0")
        self.assertEqual((ev["device"], ev["driver"]), ("1-2", "usb-storage"))
        self.assertEqual(self.attr(kb.syspath, "authorized"), "1")  # only the interface

    def test_uas_on_an_interface_not_admitted_as_storage_is_cut_off(self):
        self.start_daemon()
        reader = self.admitted(UsbDevice("1-3", 0x076B, 0x3021, b"CCID-1", [(0,) + CCID], 4))
        self.bind_driver(reader, 0, "uas")
        self.wait_attr(reader.interface_path(0), "authorized", "0")
        self.wait_event("usb.driver-refused", interface="1-3:1.0", driver="uas")

    # Detach usb-storage, claim through usbfs, send WRITE(10): the read-only flag of the block
    # device is gone with the block device. usbfs claims send no uevent on current kernels, so
    # the unbind is what termguardd sees: the interface is cut off and admitted (probed) again.
    def test_storage_driver_leaving_a_read_only_stick_re_admits_it(self):
        s = self.read_only_stick()
        self.bind_driver(s, 0, "usb-storage")
        self.wait_for(lambda: self.probes().count("1-1:1.0") == 1, "the first probe")
        self.unbind_driver(s, 0)
        ev = self.wait_event("usb.driver-unbound", interface="1-1:1.0")
        self.assertEqual((ev["action"], ev["label"]), ("re-admitted", "USB-KEIRI-01"))
        self.wait_for(lambda: self.probes().count("1-1:1.0") == 2, "the interface probed again")
        self.wait_attr(s.interface_path(0), "authorized", "1")
        self.bind_driver(s, 0, "usb-storage")  # the kernel's probe binds it back: fine
        self.barrier()
        self.assertEqual(self.attr(s.interface_path(0), "authorized"), "1")
        self.assertEqual(self.events("usb.driver-refused"), [])

    # Where the kernel does announce a usbfs claim (a bind uevent), it is refused at once.
    def test_usbfs_on_a_read_only_stick_is_cut_off(self):
        s = self.read_only_stick()
        self.bind_driver(s, 0, "usbfs")
        self.wait_attr(s.interface_path(0), "authorized", "0")
        ev = self.wait_event("usb.driver-refused", interface="1-1:1.0")
        self.assertEqual((ev["driver"], ev["label"]), ("usbfs", "USB-KEIRI-01"))

    def test_other_driver_on_a_read_only_stick_is_cut_off(self):
        s = self.read_only_stick()
        self.bind_driver(s, 0, "usbtest")
        self.wait_attr(s.interface_path(0), "authorized", "0")
        self.wait_event("usb.driver-refused", interface="1-1:1.0", driver="usbtest")

    def test_driver_swaps_on_a_read_write_stick_pass(self):
        s = stick()
        self.plug(s, with_interfaces=False)
        self.start_daemon()
        self.register(s, "USB-SOUMU-01", mode="read-write")
        self.wait_attr(s.syspath, "authorized", "1")
        self.add_interfaces(s)
        self.wait_attr(s.interface_path(0), "authorized", "1")
        self.bind_driver(s, 0, "usb-storage")
        self.unbind_driver(s, 0)
        ev = self.wait_event("usb.driver-unbound", interface="1-1:1.0")
        self.assertEqual(ev["action"], "none")
        self.bind_driver(s, 0, "usbfs")
        self.barrier()
        self.assertEqual(self.attr(s.interface_path(0), "authorized"), "1")
        self.assertEqual(self.probes().count("1-1:1.0"), 1)
        self.assertEqual(self.events("usb.driver-refused"), [])

    # pcscd (ccid) and FIDO tools claim interfaces through usbfs; keyboards get usbhid.
    def test_usbhid_and_usbfs_on_non_storage_interfaces_pass(self):
        self.start_daemon()
        kb = self.admitted(keyboard())
        reader = self.admitted(UsbDevice("1-3", 0x076B, 0x3021, b"CCID-1", [(0,) + CCID], 4))
        self.bind_driver(kb, 0, "usbhid")
        self.bind_driver(reader, 0, "usbfs")
        self.unbind_driver(reader, 0)
        self.bind_driver(reader, 0, "usbfs")
        self.barrier()
        self.assertEqual(self.attr(kb.interface_path(0), "authorized"), "1")
        self.assertEqual(self.attr(reader.interface_path(0), "authorized"), "1")
        self.assertEqual(self.events("usb.driver-refused"), [])
        self.assertEqual(self.events("usb.driver-unbound"), [])

    # Through usbfs a program talks to the whole device (control requests), not only to the
    # interface it claimed.
    def test_usbfs_on_a_device_whose_storage_is_denied_is_cut_off(self):
        self.start_daemon()
        dev = UsbDevice("1-4", 0x1234, 0x5678, b"COMBO-1", [(0,) + HID_KEYBOARD, (1,) + MASS_STORAGE], 5)
        self.plug(dev, with_interfaces=False)
        self.wait_attr(dev.syspath, "authorized", "1")
        self.add_interfaces(dev)
        self.wait_attr(dev.interface_path(0), "authorized", "1")
        self.bind_driver(dev, 0, "usbhid")
        self.barrier()
        self.assertEqual(self.attr(dev.interface_path(0), "authorized"), "1")
        self.bind_driver(dev, 0, "usbfs")
        self.wait_attr(dev.interface_path(0), "authorized", "0")
        self.wait_event("usb.driver-refused", interface="1-4:1.0", driver="usbfs")
        self.assertEqual(self.attr(dev.interface_path(1), "authorized"), "0")

    # A driver bound while termguardd was not running is judged at start.
    def test_storage_driver_found_at_start_is_cut_off(self):
        kb = keyboard(authorized=True, interfaces_authorized=True)
        self.plug(kb)
        drivers = self.sys("/sys/bus/usb/drivers/usb-storage")
        os.makedirs(drivers, exist_ok=True)
        os.symlink(drivers, os.path.join(self.sys(kb.interface_path(0)), "driver"))
        self.start_daemon()
        self.wait_attr(kb.interface_path(0), "authorized", "0")
        self.wait_event("usb.driver-refused", interface="1-2:1.0", driver="usb-storage")


if __name__ == "__main__":
    unittest.main()
