# SPDX-License-Identifier: GPL-2.0-or-later
"""The register of media and write exceptions, applied to present devices: registering and
removing media, granting, revoking and expiry of exceptions, the records of each change,
and a clock set back.

Run with run.sh (see gate_testbed.py and README.md in this folder)."""

import json
import os
import time
import unittest

from gate_testbed import GateTestCase, TIMEOUT, iso_utc, parse_iso_utc, stick


class RegisterTest(GateTestCase):
    def test_registering_a_present_stick_applies_live(self):
        self.start_daemon()
        s = stick()
        other = stick(name="1-3", serial="KST-0002", devnum=4)  # same model, other serial
        self.plug(s, with_interfaces=False)  # blocked: the kernel creates no interfaces
        self.plug(other, with_interfaces=False)
        self.decision_of(s)
        self.decision_of(other)
        self.barrier()
        self.assertEqual(self.attr(s.syspath, "authorized"), "0")

        self.register(s, "USB-KEIRI-01")
        self.wait_attr(s.syspath, "authorized", "1")
        ev = self.wait_event("usb.decision", device=s.name, trigger="register-change")
        self.assertEqual(ev["decision"], "read-only")
        self.assertEqual(ev["label"], "USB-KEIRI-01")
        f = self.decision_file(s.name)
        self.assertEqual(f["MODE"], "read-only")
        self.assertEqual(f["LABEL"], "USB-KEIRI-01")
        self.assertEqual(f["DEVNUM"], str(s.devnum))

        self.add_interfaces(s)  # the kernel configures the now authorized stick
        self.wait_attr(s.interface_path(0), "authorized", "1")
        self.wait_for(lambda: self.probes() == "1-1:1.0", "drivers_probe to receive 1-1:1.0")

        d = self.device_json(s.name)
        self.assertIs(d["authorized"], True)
        self.assertEqual(d["storage"], "read-only")
        self.assertEqual(d["label"], "USB-KEIRI-01")
        media = self.ctl_json("media", "list")
        self.assertEqual([(m["label"], m["vid"], m["pid"], m["serial"], m["mode"]) for m in media],
                         [("USB-KEIRI-01", "0951", "1666", "KST-0001", "read-only")])
        self.assertEqual(media[0]["added_by"], "root")
        self.wait_event("register.media-added", label="USB-KEIRI-01", actor="root")

        # Identity is VID, PID and serial: the same model with another serial stays out.
        self.barrier()
        self.assertEqual(self.attr(other.syspath, "authorized"), "0")
        self.assertIs(self.device_json(other.name)["authorized"], False)
        self.assertEqual(self.decision_file(other.name)["MODE"], "blocked")
        self.assertEqual(self.probes(), "1-1:1.0")

    # The reverse: removing a present medium from the register cuts it off.
    def test_removing_a_present_medium_blocks_it(self):
        s = stick()
        self.plug(s)
        self.start_daemon()
        self.register(s, "USB-SOUMU-02")
        self.wait_for(lambda: (self.decision_file(s.name) or {}).get("MODE") == "read-only", "read-only decision")
        self.barrier()
        self.assertEqual(self.attr(s.syspath, "authorized"), "1")
        self.assertEqual(self.attr(s.interface_path(0), "authorized"), "1")

        self.ctl_ok("media", "remove", "USB-SOUMU-02")
        self.wait_attr(s.syspath, "authorized", "0")
        self.assertEqual(self.attr(s.interface_path(0), "authorized"), "0")
        self.assertEqual(self.decision_file(s.name)["MODE"], "blocked")
        self.assertEqual(self.ctl_json("media", "list"), [])
        self.wait_event("register.media-removed", label="USB-SOUMU-02", actor="root")
        self.assertIs(self.device_json(s.name)["authorized"], False)

    def test_record_follows_the_exception_in_force(self):
        s = stick()
        self.plug(s)
        self.start_daemon()
        self.register(s, "USB-SOUMU-09")
        until = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 3600))
        for reason in ("first", "second"):
            self.ctl_ok("exception", "grant", "USB-SOUMU-09", "--until", until, "--approver", "CISO", "--reason", reason)
        ev = self.wait_event("usb.decision", device=s.name, trigger="exception-granted")
        first = ev["exception"]
        self.ctl_ok("exception", "revoke", first)
        # still writable, now under the other exception: the record must name it
        ev = self.wait_event("usb.decision", device=s.name, trigger="exception-revoked")
        self.assertEqual(ev["decision"], "read-write")
        self.assertNotEqual(ev["exception"], first)

    # Records are true: nothing is recorded as done when saving failed, and exceptions
    # ended by removing their medium are on the record
    def test_records_follow_what_was_saved(self):
        s = stick()
        self.plug(s)
        self.start_daemon()
        self.register(s, "USB-KEIRI-01")
        until = iso_utc(time.time() + 3600)
        # a directory where the daemon writes its temporary file: the save fails (even as root)
        tmp = os.path.join(self.statedir, ".register.json.tmp")
        os.mkdir(tmp)
        try:
            r = self.ctl("exception", "grant", "USB-KEIRI-01", "--until", until, "--approver", "k", "--reason", "r")
            self.assertEqual(r.returncode, 1)
            self.assertIn(b"nothing was changed", r.stderr)
            self.barrier()
            self.assertEqual(self.events("exception.granted"), [], "no record of a grant that was not saved")
        finally:
            os.rmdir(tmp)
        grant = self.ctl_json("exception", "grant", "USB-KEIRI-01", "--until", until, "--approver", "k",
                              "--reason", "r")
        self.assertEqual(grant["id"], 1)
        self.ctl_ok("media", "remove", "USB-KEIRI-01")
        ev = self.wait_event("exception.revoked", exception="1")
        self.assertEqual(ev["label"], "USB-KEIRI-01")

    # Every exception that ends with its medium is on the record, however many there are
    # (the daemon once recorded at most 64 of them while saving them all as revoked)
    def test_every_exception_ended_with_its_medium_is_recorded(self):
        now = int(time.time())
        count = 70
        os.makedirs(self.statedir, exist_ok=True)
        reg = {"version": 1,
               "media": [{"label": "USB-KEIRI-01", "vid": 0x0951, "pid": 0x1666, "serial": "KST-0001",
                          "mode": "read-only"}],
               "exceptions": [{"id": i, "label": "USB-KEIRI-01", "until": now + 3600, "approver": "k",
                               "reason": "r", "granted_at": now - 60} for i in range(1, count + 1)]}
        with open(os.path.join(self.statedir, "register.json"), "w") as f:
            json.dump(reg, f)
        os.chmod(os.path.join(self.statedir, "register.json"), 0o600)
        self.start_daemon()
        self.assertEqual(self.barrier()["exceptions_active"], count)
        self.ctl_ok("media", "remove", "USB-KEIRI-01")
        self.barrier()
        revoked = self.events("exception.revoked", label="USB-KEIRI-01")
        self.assertEqual(sorted(int(e["exception"]) for e in revoked), list(range(1, count + 1)))
        self.assertEqual([e["state"] for e in self.ctl_json("exception", "list")], ["revoked"] * count)

    def test_exceptions_open_writing_until_revoked_or_expired(self):
        s = stick()
        self.plug(s, with_interfaces=False)
        self.start_daemon()
        self.register(s, "USB-KEIRI-01")
        self.wait_attr(s.syspath, "authorized", "1")
        self.add_interfaces(s)
        self.wait_for(lambda: self.probes() == "1-1:1.0", "first probe")
        self.assertEqual(self.decision_file(s.name)["MODE"], "read-only")

        # Grant: read-write now; the storage interface is cut off and probed again.
        grant = self.ctl_json("exception", "grant", "USB-KEIRI-01", "--until", iso_utc(time.time() + 3600),
                              "--approver", "kacho", "--reason", "year-end closing", "--ticket", "REQ-1")
        exc = str(grant["id"])
        self.wait_for(lambda: self.decision_file(s.name)["MODE"] == "read-write", "read-write")
        ev = self.wait_event("usb.decision", device=s.name, trigger="exception-granted")
        self.assertEqual(ev["decision"], "read-write")
        self.assertEqual(ev["exception"], exc)
        self.wait_event("exception.granted", exception=exc, label="USB-KEIRI-01", approver="kacho")
        self.wait_for(lambda: self.probes() == "1-1:1.0" * 2, "a second probe after the mode change")
        self.assertEqual(self.attr(s.interface_path(0), "authorized"), "1")
        d = self.device_json(s.name)
        self.assertEqual((d["storage"], d["exception"]), ("read-write", int(exc)))

        # Revoke: read-only again.
        self.ctl_ok("exception", "revoke", exc)
        self.wait_for(lambda: self.decision_file(s.name)["MODE"] == "read-only", "read-only after revoke")
        self.wait_event("usb.decision", device=s.name, trigger="exception-revoked", decision="read-only")
        self.wait_for(lambda: self.probes() == "1-1:1.0" * 3, "a probe after the revocation")
        self.assertEqual([e["state"] for e in self.ctl_json("exception", "list")], ["revoked"])

        # Expiry: a short exception ends by itself.
        exc2, until = self.grant_expiring("USB-KEIRI-01", 4)
        self.assertNotEqual(exc2, exc)
        self.wait_event("usb.decision", device=s.name, trigger="exception-granted", exception=exc2,
                        decision="read-write")
        self.wait_for(lambda: self.decision_file(s.name)["MODE"] == "read-only", "read-only after expiry",
                      timeout=max(0, until - time.time()) + TIMEOUT)
        self.assertGreaterEqual(time.time(), until, "not before the expiry time")
        ev = self.wait_event("exception.expired", exception=exc2)
        self.assertEqual(ev["label"], "USB-KEIRI-01")
        self.assertEqual(parse_iso_utc(ev["until"]), until)
        self.wait_event("usb.decision", device=s.name, trigger="exception-expired", decision="read-only")
        self.assertEqual([e["state"] for e in self.ctl_json("exception", "list")], ["revoked", "expired"])
        self.assertEqual(self.device_json(s.name)["exception"], 0)
        self.assertEqual(self.attr(s.interface_path(0), "authorized"), "1")
        self.assertEqual(len(self.events("exception.expired")), 1)

    # Setting the clock back must not revive an exception
    def test_clock_set_back_revives_no_exception(self):
        now = int(time.time())
        os.makedirs(self.statedir, exist_ok=True)
        reg = {"version": 1, "clock_high_water": now + 7 * 86400,
               "media": [{"label": "USB-KEIRI-01", "vid": 0x0951, "pid": 0x1666, "serial": "KST-0001",
                          "mode": "read-only"}],
               "exceptions": [{"id": 1, "label": "USB-KEIRI-01", "until": now + 30 * 86400, "approver": "k",
                               "reason": "r", "granted_at": now - 3600}]}
        with open(os.path.join(self.statedir, "register.json"), "w") as f:
            json.dump(reg, f)
        os.chmod(os.path.join(self.statedir, "register.json"), 0o600)
        s = stick()
        self.plug(s)
        self.start_daemon()
        ev = self.decision_of(s)
        self.assertEqual(ev["decision"], "read-only", "the clock is a week behind what termguard saw")
        self.assertEqual(self.decision_file(s.name)["MODE"], "read-only")
        self.wait_event("clock.set-back")


if __name__ == "__main__":
    unittest.main(verbosity=2)
