# SPDX-License-Identifier: GPL-2.0-or-later
"""Devices as they come and go: hotplug uevents, what is authorized and probed (single and
composite devices, alternate settings), removal, re-plugging on a port, and hostile devices
(control characters, invalid UTF-8 and invisible bidi or zero-width characters in their
strings, malformed descriptors).

Run with run.sh (see gate_testbed.py and README.md in this folder)."""

import json
import os
import signal
import subprocess
import unittest

from gate_testbed import (ELLIPSIS, GateTestCase, HID_KEYBOARD, MASS_STORAGE, TERMGUARDD, TG_ESCAPED_MAX, TIMEOUT,
                          UsbDevice, config_descriptor, device_descriptor, keyboard, stick)


# Invisible characters that make one string pass for another (lib/escape.c): zero-width,
# direction marks and controls, line and paragraph separators, soft hyphen, BOM, tags.
INVISIBLE = "[\u00ad\u061c\u180e\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff\ufff9-\ufffb\U000e0000-\U000e007f]"


class DeviceTest(GateTestCase):
    # The premise of the whole tier. If this fails, umockdev does not deliver uevents to a
    # "kernel" monitor here, and every hotplug test of this tier is meaningless.
    def test_uevents_reach_the_kernel_monitor(self):
        self.start_daemon()
        kbd = keyboard()
        self.plug(kbd, with_interfaces=False)
        ev = self.decision_of(kbd)
        self.assertEqual(ev["trigger"], "attach", "the device was judged from a uevent, not at startup")
        self.assertEqual(len(self.events("usb.attach", device=kbd.name)), 1)
        # An explicit Testbed.uevent() arrives as well: the known device is judged again.
        self.tb.uevent(kbd.syspath, "add")
        self.wait_for(lambda: len(self.events("usb.decision", device=kbd.name)) == 2, "a second decision")
        self.assertEqual(len(self.events("usb.attach", device=kbd.name)), 1, "no second attach record")
        # Uevents of other subsystems are not judged.
        self.tb.add_from_string("P: /devices/virtual/input/input9\nE: SUBSYSTEM=input\nA: name=x\n")
        self.barrier()
        self.assertEqual(len(self.events("usb.decision")), 2)

    def test_unregistered_stick_stays_blocked(self):
        self.start_daemon()
        s = stick()
        self.plug(s)
        ev = self.decision_of(s)
        self.barrier()
        self.assertEqual(ev["decision"], "blocked")
        self.assertEqual(ev["vid"], "0951")
        self.assertEqual(ev["pid"], "1666")
        self.assertEqual(ev["serial"], "KST-0001")
        self.assertEqual(ev["interfaces"], "1.0:08:deny")
        self.assertEqual(self.attr(s.syspath, "authorized"), "0")
        self.assertEqual(self.attr(s.interface_path(0), "authorized"), "0")
        self.assertEqual(self.probes(), "")
        d = self.device_json(s.name)
        self.assertIsNotNone(d, "devices --json lists the stick")
        self.assertIs(d["authorized"], False)
        self.assertEqual(d["storage"], "blocked")
        self.assertIn("register", d["reason"])
        self.assertEqual(d["interfaces"][0]["class"], "08")
        self.assertIs(d["interfaces"][0]["allowed"], False)
        f = self.decision_file(s.name)
        self.assertEqual(f, {"BUSNUM": "1", "DEVNUM": str(s.devnum), "MODE": "blocked", "LABEL": "",
                             "RAW": "no"})
        # The attach is recorded before the decision.
        kinds = [e["event"] for e in self.events() if e.get("device") == s.name]
        self.assertEqual(kinds[:2], ["usb.attach", "usb.decision"])

    def test_keyboard_is_authorized_and_probed(self):
        self.start_daemon()
        kbd = keyboard()
        self.plug(kbd)
        ev = self.decision_of(kbd)
        self.assertEqual(ev["decision"], "allowed")
        self.wait_attr(kbd.syspath, "authorized", "1")
        self.wait_attr(kbd.interface_path(0), "authorized", "1")
        self.wait_for(lambda: self.probes() == "1-2:1.0", "drivers_probe to receive 1-2:1.0")
        self.barrier()
        self.assertEqual(self.probes(), "1-2:1.0", "the interface is probed exactly once")
        d = self.device_json(kbd.name)
        self.assertIs(d["authorized"], True)
        self.assertEqual(d["storage"], "none")
        self.assertIsNotNone(self.decision_file(kbd.name), "the decision is recorded")

    def test_raw_access_only_for_listed_models(self):
        # Allowed classes pass either way; the raw nodes (usbfs, hidraw) are the seat user's only
        # for models in RawAccess=, and the decision file tells the udev helper so.
        self.write_dropin("60-tokens.conf", "[USB]\nRawAccess=046d:c31c/KBD-OK\nRawAccess=1050:0407\n")
        self.start_daemon()
        listed = UsbDevice("1-2", 0x046D, 0xC31C, "KBD-OK", [(0,) + HID_KEYBOARD], 3)
        other = UsbDevice("1-3", 0x046D, 0xC31C, "KBD-OTHER", [(0,) + HID_KEYBOARD], 4)
        self.plug(listed)
        self.plug(other)
        self.assertEqual(self.decision_of(listed)["raw_access"], "yes")
        self.assertEqual(self.decision_of(other)["raw_access"], "no")
        # The file is written after the record, before authorization.
        self.wait_attr(listed.syspath, "authorized", "1")
        self.wait_attr(other.syspath, "authorized", "1")
        self.assertEqual(self.decision_file(listed.name)["RAW"], "yes")
        self.assertEqual(self.decision_file(other.name)["RAW"], "no")
        # A storage stick whose model is listed: raw access would reach its storage.
        self.write_dropin("70-stick.conf", "[USB]\nRawAccess=0951:1666\n")
        self.daemon.send_signal(signal.SIGHUP)
        self.wait_event("config.reloaded")
        s = stick(name="1-4", devnum=5)
        self.plug(s)
        self.assertEqual(self.decision_of(s)["raw_access"], "no")
        self.wait_for(lambda: self.decision_file(s.name) is not None, "the stick's decision file")
        self.assertEqual(self.decision_file(s.name)["RAW"], "no")

    def test_one_token_registry_for_raw_access_and_owners(self):
        # RawAccess= models and tokens registered with termguardctl are one registry: both give
        # raw access, a change of the registry re-judges present devices (decision file first),
        # and a registered entry gives a RawAccess= model an owner without taking access away.
        self.write_dropin("60-tokens.conf", "[USB]\nRawAccess=1050:0407 04e6:5116\nRawAccess=1050:0407\n")
        self.start_daemon()
        key = UsbDevice("1-2", 0x1050, 0x0407, "KEY-1", [(0,) + HID_KEYBOARD], 3)
        fido = UsbDevice("1-3", 0x2581, 0xF1D0, "FIDO-1", [(0,) + HID_KEYBOARD], 4)
        for dev in (key, fido):
            self.plug(dev)
        self.assertEqual(self.decision_of(key)["raw_access"], "yes")
        self.assertEqual(self.decision_of(fido)["raw_access"], "no")
        listed = self.ctl_json("token", "list")
        self.assertEqual([(t["label"], t["kind"], t["owner"], t["added_by"]) for t in listed],
                         [("RawAccess=1050:0407", "any", "", "termguard.conf"),
                          ("RawAccess=04e6:5116", "any", "", "termguard.conf")])
        # the configuration's entries are edited in the configuration
        r = self.ctl("token", "remove", "RawAccess=1050:0407")
        self.assertNotEqual(r.returncode, 0)
        self.assertIn(b"termguard.conf", r.stderr)
        r = self.ctl("token", "add", "--kind", "security-key", "--vid", "1234", "--pid", "0001",
                     "--label", "RawAccess=1234:0001")
        self.assertNotEqual(r.returncode, 0)
        # registering a key: its raw access follows at once, decision file before the record's
        # consumers see the node
        self.ctl_ok("token", "add", "--kind", "security-key", "--vid", "2581", "--pid", "f1d0",
                    "--label", "fido-root", "--owner", "root")
        self.decision_of(fido, raw_access="yes", trigger="token-change")
        self.assertEqual(self.decision_file(fido.name)["RAW"], "yes")
        # an owner for a RawAccess= model: the registered entry stands in for it
        self.ctl_ok("token", "add", "--kind", "security-key", "--vid", "1050", "--pid", "0407",
                    "--label", "keys-root", "--owner", "root")
        labels = [t["label"] for t in self.ctl_json("token", "list")]
        self.assertNotIn("RawAccess=1050:0407", labels)
        self.assertIn("keys-root", labels)
        self.barrier()
        self.assertEqual(self.events("usb.decision", device=key.name, raw_access="no"), [])
        # the file holds the registered entries alone; a restart merges the configuration again
        with open(os.path.join(self.statedir, "tokens.json")) as f:
            saved = json.load(f)["tokens"]
        self.assertEqual([t["label"] for t in saved], ["fido-root", "keys-root"])
        self.ctl_ok("token", "remove", "keys-root")
        self.assertIn("RawAccess=1050:0407", [t["label"] for t in self.ctl_json("token", "list")])
        self.ctl_ok("token", "remove", "fido-root")
        self.decision_of(fido, raw_access="no", trigger="token-change")
        self.assertEqual(self.decision_file(fido.name)["RAW"], "no")
        self.barrier()
        self.assertEqual(self.events("usb.decision", device=key.name, raw_access="no"), [])
        # a registry file that does not load keeps the daemon from starting (fail closed)
        self.stop_daemon()
        with open(os.path.join(self.statedir, "tokens.json"), "w") as f:
            f.write('{"tokens": [{"label": "k", "kind": "security-key", "vid": 1, "pid": 2, "serial": "A B"}]}')
        r = subprocess.run([TERMGUARDD, "--config", self.confdir], env=self.daemon_env(),
                           stdin=subprocess.DEVNULL, capture_output=True, timeout=TIMEOUT)
        self.assertEqual(r.returncode, 1)
        self.assertIn(b"tokens.json: token 1: serial", r.stderr)
        self.assertFalse(os.path.exists(self.socket))

    # As the real kernel does it: an unauthorized device has no interfaces; they appear
    # (with authorized=0, as interface_authorized_default=0) only after the device is
    # authorized, and the daemon learns of them from their own "add" uevents.
    def test_interfaces_appearing_after_authorization_are_probed(self):
        self.start_daemon()
        kbd = keyboard(name="1-4", devnum=7)
        self.plug(kbd, with_interfaces=False)
        self.wait_attr(kbd.syspath, "authorized", "1")
        self.add_interfaces(kbd)  # the kernel configures the device
        self.wait_attr(kbd.interface_path(0), "authorized", "1")
        self.wait_for(lambda: self.probes() == "1-4:1.0", "drivers_probe to receive 1-4:1.0")

    def test_composite_device_only_storage_is_denied(self):
        self.start_daemon()
        combo = UsbDevice("1-3", 0x1234, 0x5678, "COMBO-1", [(0,) + MASS_STORAGE, (1,) + HID_KEYBOARD], 4,
                          product=b"Keyboard with card reader")
        self.plug(combo)
        ev = self.decision_of(combo)
        self.assertEqual(ev["decision"], "storage-blocked")
        self.assertEqual(ev["interfaces"], "1.0:08:deny,1.1:03:allow")
        self.wait_attr(combo.syspath, "authorized", "1")
        self.wait_attr(combo.interface_path(1), "authorized", "1")
        self.wait_for(lambda: self.probes() == "1-3:1.1", "drivers_probe to receive 1-3:1.1")
        self.barrier()
        self.assertEqual(self.attr(combo.interface_path(0), "authorized"), "0")
        self.assertEqual(self.probes(), "1-3:1.1", "the storage interface is never probed")
        d = self.device_json(combo.name)
        self.assertIs(d["authorized"], True)
        self.assertEqual(d["storage"], "blocked")
        self.assertEqual({i["class"]: i["allowed"] for i in d["interfaces"]}, {"08": False, "03": True})
        self.assertEqual(self.decision_file(combo.name)["MODE"], "blocked")

        # An interface that is HID in altsetting 0 but mass storage in altsetting 1 could switch
        # to storage after authorization: it must not pass.
        sneaky = UsbDevice("1-5", 0x1234, 0x9999, "SNEAKY-1",
                           [(0,) + HID_KEYBOARD + (0,), (0,) + MASS_STORAGE + (1,)], 8)
        self.plug(sneaky)
        ev = self.decision_of(sneaky)
        self.assertEqual(ev["decision"], "blocked")
        self.barrier()
        self.assertEqual(self.attr(sneaky.syspath, "authorized"), "0")
        self.assertEqual(self.attr(sneaky.interface_path(0), "authorized"), "0")
        self.assertEqual(self.probes(), "1-3:1.1")

    def test_removal_drops_decision_and_emits_detach(self):
        s = stick()
        kbd = keyboard()
        self.plug(s)
        self.plug(kbd)
        self.start_daemon()
        self.register(s, "USB-JINJI-03")
        self.wait_for(lambda: (self.decision_file(s.name) or {}).get("MODE") == "read-only", "read-only decision")
        self.assertIsNotNone(self.decision_file(kbd.name))

        self.unplug(s)
        ev = self.wait_event("usb.detach", device=s.name)
        self.assertEqual(ev["label"], "USB-JINJI-03")
        self.assertEqual(ev["serial"], "KST-0001")
        self.wait_for(lambda: self.decision_file(s.name) is None, "the decision file of 1-1 to go")
        st = self.barrier()
        self.assertEqual(st["devices"], 1)
        self.assertEqual([d["device"] for d in self.ctl_json("devices")], [kbd.name])
        self.assertIsNotNone(self.decision_file(kbd.name), "other devices keep their decision")

        # The same stick in the same port comes back with a new device number.
        s2 = stick(devnum=9)
        self.plug(s2)
        ev = self.wait_event("usb.decision", device=s.name, trigger="attach")
        self.assertEqual(ev["decision"], "read-only")
        self.assertEqual(len(self.events("usb.attach", device=s.name)), 2)
        self.wait_for(lambda: (self.decision_file(s.name) or {}).get("DEVNUM") == "9", "a fresh decision file")

    # A removal that was missed: the next device on the port is a new device
    def test_new_devnum_on_a_known_port_is_a_new_attachment(self):
        s = stick()
        self.plug(s)
        self.start_daemon()
        self.register(s, "USB-KEIRI-01")
        self.wait_for(lambda: (self.decision_file(s.name) or {}).get("MODE") == "read-only", "read-only")
        attaches = len(self.events("usb.attach", device=s.name))
        # The kernel's add event of the new attachment carries its number (DEVNUM=).
        self.tb.set_attribute(s.syspath, "devnum", "77")
        self.tb.set_property(s.syspath, "DEVNUM", "077")
        self.tb.uevent(s.syspath, "add")
        self.wait_for(lambda: len(self.events("usb.attach", device=s.name)) == attaches + 1, "a new attach record")
        self.wait_for(lambda: (self.decision_file(s.name) or {}).get("DEVNUM") == "77", "a decision for DEVNUM 77")

    def test_hostile_device_strings_are_escaped_and_bounded(self):
        self.start_daemon()
        serial = b"\x01\x1b[2J\x7f\xff\xfe\xc3(\xe2\x80\xae" + b"A" * 500
        # U+202E RIGHT-TO-LEFT OVERRIDE: "KINGSTON\u202eexe.txt" shows as "KINGSTONtxt.exe"
        product = b"Prod\nuct\x1b]0;owned\x07 \\ \"q\" \xc2\x85 \xed\xa0\x80 KINGSTON\xe2\x80\xaeexe.txt \xe2\x80"
        manufacturer = "テスト工業".encode()  # valid UTF-8 must survive unchanged
        evil = UsbDevice("1-6", 0x0951, 0x1666, serial, [(0,) + MASS_STORAGE], 10,
                         manufacturer=manufacturer, product=product)
        self.plug(evil)
        ev = self.decision_of(evil)
        self.barrier()
        self.assertIsNone(self.daemon.poll(), "termguardd still runs")
        self.assertEqual(ev["decision"], "blocked")

        # Every line the daemon printed is valid UTF-8, and every line that looks like JSON is.
        for line in self.raw_lines():
            text = line.decode("utf-8")  # raises on raw invalid UTF-8
            self.assertNotRegex(text, r"[\x00-\x1f\x7f]", "raw control byte in daemon output")
            self.assertNotRegex(text, INVISIBLE, "raw bidi or zero-width character in daemon output")
            if text.startswith("{"):
                json.loads(text)

        listing = self.device_json(evil.name)
        records = [("usb.attach", self.events("usb.attach", device=evil.name)[0]),
                   ("usb.decision", ev), ("devices --json", listing)]
        for where, rec in records:
            with self.subTest(where=where):
                for field in ("serial", "product", "manufacturer"):
                    v = rec[field]
                    self.assertNotRegex(v, "[\x00-\x1f\x7f-\x9f]", "%s.%s has a control character" % (where, field))
                    self.assertNotIn("\ufffd", v)
                    self.assertNotRegex(v, INVISIBLE, "%s.%s has a bidi or zero-width character" % (where, field))
                    self.assertLessEqual(len(v.encode()), TG_ESCAPED_MAX, "%s.%s is bounded" % (where, field))
                self.assertTrue(rec["serial"].startswith("\\x01\\x1b[2J\\x7f\\xff\\xfe\\xc3(\\u202eAAAA"),
                                rec["serial"])
                self.assertTrue(rec["serial"].endswith(ELLIPSIS), "an over-long serial is marked as cut")
                self.assertEqual(rec["product"],
                                 "Prod\\x0auct\\x1b]0;owned\\x07 \\\\ \"q\" \\xc2\\x85 \\xed\\xa0\\x80 "
                                 "KINGSTON\\u202eexe.txt \\xe2\\x80")
                self.assertEqual(rec["manufacturer"], "テスト工業")

        # The human-readable listing goes to terminals: no escape sequences may reach them.
        table = self.ctl_ok("devices").stdout
        text = table.decode("utf-8")
        self.assertNotRegex(text, "[\x00-\x09\x0b-\x1f\x7f-\x9f]")
        self.assertNotRegex(text, INVISIBLE)
        self.assertIn("\\xc3(\\u202eAAAA", text, "the serial's override is shown escaped")
        self.assertIn("1-6", text)
        self.assertIsNone(self.daemon.poll())
        self.assertEqual(self.barrier()["devices"], 1)

    def test_malformed_descriptors_are_blocked(self):
        kbd_ifaces = [(0,) + HID_KEYBOARD]
        good_cfg = config_descriptor(kbd_ifaces)
        dev = device_descriptor(0x046D, 0xC31C)
        bad_iface = bytearray(good_cfg)
        bad_iface[9] = 200  # interface descriptor claims 200 bytes
        zero_len = bytearray(good_cfg)
        zero_len[18] = 0  # the HID descriptor after the interface has bLength 0
        cases = {
            "truncated device descriptor": dev[:10],
            "truncated config descriptor": dev + good_cfg[:5],
            "wTotalLength beyond the data": dev + config_descriptor(kbd_ifaces, total_length=len(good_cfg) + 64),
            "wTotalLength cuts an interface": dev + good_cfg[:9 + 4],
            "interface length overruns": dev + bytes(bad_iface),
            "zero-length descriptor": dev + bytes(zero_len),
            "no descriptors attribute": None,
        }
        self.start_daemon()
        devices = []
        for n, (what, blob) in enumerate(cases.items()):
            d = UsbDevice("1-%d" % (n + 1), 0x046D, 0xC31C, "MAL-%d" % n, kbd_ifaces, 20 + n, descriptors=blob)
            if blob is None:
                d.descriptors = None
            devices.append((what, d))
            self.plug(d)
        # A well-formed keyboard after them: the daemon is still working.
        ok = keyboard(name="1-9", devnum=40)
        self.plug(ok)
        self.wait_attr(ok.syspath, "authorized", "1")
        self.barrier()
        for what, d in devices:
            with self.subTest(case=what):
                ev = self.events("usb.decision", device=d.name)
                self.assertTrue(ev, "a decision was recorded")
                self.assertEqual(ev[-1]["decision"], "blocked")
                self.assertIn("malformed", ev[-1]["message"])
                self.assertEqual(self.attr(d.syspath, "authorized"), "0")
                self.assertEqual(self.attr(d.interface_path(0), "authorized"), "0")
                listing = self.device_json(d.name)
                self.assertIs(listing["authorized"], False)
                self.assertIn("malformed", listing["reason"])
                self.assertEqual(listing["descriptor_sha256"], "")
        self.assertEqual(self.probes(), "1-9:1.0", "only the well-formed keyboard was probed")
        self.assertIsNone(self.daemon.poll())


if __name__ == "__main__":
    unittest.main(verbosity=2)
