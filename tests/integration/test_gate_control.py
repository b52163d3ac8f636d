# SPDX-License-Identifier: GPL-2.0-or-later
"""The control socket and termguardctl: argument checks, who may do what (root, AdminGroup,
anyone else), refusal floods and idle connections, and the tables termguardctl prints.

Run with run.sh (see gate_testbed.py and README.md in this folder)."""

import grp
import hashlib
import json
import os
import socket
import time
import unicodedata
import unittest

from gate_testbed import EXIT_DENIED, GateTestCase, NOBODY, iso_utc, stick

# agent/control.c: at most one admin.denied record per user and command in this many seconds
DENIED_RECORD_INTERVAL = 10.0


class ControlTest(GateTestCase):
    def test_vid_must_be_four_hex_digits(self):
        self.start_daemon()
        for bad in ("0x51", " fff", "+fff", "fffff", "12g4", ""):
            r = self.ctl("media", "add", "--vid", bad, "--pid", "1666", "--serial", "S", "--label", "x")
            self.assertEqual(r.returncode, 1, "vid %r must be refused" % bad)
        self.assertEqual(self.ctl_json("media", "list"), [])

    # A label, department, approver or reason with an invisible character could pass for
    # another entry ("stick\u200b-1" shows as "stick-1"): the register refuses them.
    def test_look_alike_text_is_refused(self):
        self.start_daemon()
        self.ctl_ok("media", "add", "--vid", "0951", "--pid", "1666", "--serial", "S1", "--label", "stick-1")
        for args in (("--serial", "S2", "--label", "stick\u200b-1"),
                     ("--serial", "S2", "--label", "stick-2", "--department", "総務課\u202e"),
                     ("--serial", "S\u2066", "--label", "stick-2")):
            r = self.ctl("media", "add", "--vid", "0951", "--pid", "1666", *args)
            self.assertNotEqual(r.returncode, 0, "%r must be refused" % (args,))
            self.assertIn("invisible", r.stderr.decode("utf-8"), args)
        self.assertEqual([m["label"] for m in self.ctl_json("media", "list")], ["stick-1"])
        until = iso_utc(time.time() + 3600)
        for approver, reason in (("kacho\u200b", "year-end"), ("kacho", "year-end\u2028closing")):
            r = self.ctl("exception", "grant", "stick-1", "--until", until, "--approver", approver, "--reason", reason)
            self.assertNotEqual(r.returncode, 0)
            self.assertIn("invisible", r.stderr.decode("utf-8"))
        self.assertEqual(self.ctl_json("exception", "list"), [])

    def test_unprivileged_callers_cannot_change_anything(self):
        self.write_config("AdminGroup=staff\n")
        s = stick()
        self.plug(s)
        self.start_daemon()
        self.register(s, "USB-KEIRI-01")
        until = iso_utc(time.time() + 3600)
        grant = self.ctl_json("exception", "grant", "USB-KEIRI-01", "--until", until, "--approver", "kacho",
                              "--reason", "year-end closing")
        exc_id = str(grant["id"])
        self.wait_for(lambda: (self.decision_file(s.name) or {}).get("MODE") == "read-write", "read-write")
        media_before = self.ctl_json("media", "list")
        exc_before = self.ctl_json("exception", "list")
        reg_path = os.path.join(self.statedir, "register.json")
        with open(reg_path, "rb") as f:
            reg_before = hashlib.sha256(f.read()).hexdigest()

        attempts = {
            "media-add": ["media", "add", "--vid", "0951", "--pid", "1666", "--serial", "KST-9999", "--label", "MINE"],
            "media-remove": ["media", "remove", "USB-KEIRI-01"],
            "exception-grant": ["exception", "grant", "USB-KEIRI-01", "--until", until, "--approver", "me",
                                "--reason", "because"],
            "exception-revoke": ["exception", "revoke", exc_id],
        }
        for cmd, args in attempts.items():
            with self.subTest(command=cmd):
                r = self.ctl(*args, uid=NOBODY)
                self.assertEqual(r.returncode, EXIT_DENIED, r.stderr.decode(errors="replace"))
                self.assertIn(b"permission denied", r.stderr)
                self.wait_event("admin.denied", command=cmd, actor="nobody")
        # Reading is allowed to anyone: the refusals above were about privilege.
        st = json.loads(self.ctl("status", "--json", uid=NOBODY).stdout)
        self.assertEqual(st["media_registered"], 1)

        self.assertEqual(self.ctl_json("media", "list"), media_before)
        self.assertEqual(self.ctl_json("exception", "list"), exc_before)
        with open(reg_path, "rb") as f:
            self.assertEqual(hashlib.sha256(f.read()).hexdigest(), reg_before, "register file unchanged")
        self.assertEqual(self.decision_file(s.name)["MODE"], "read-write")

        # A member of AdminGroup is an administrator without being root.
        staff = grp.getgrnam("staff").gr_gid
        r = self.ctl("exception", "revoke", exc_id, uid=NOBODY, groups=[staff])
        self.assertEqual(r.returncode, 0, r.stderr.decode(errors="replace"))
        self.wait_for(lambda: self.decision_file(s.name)["MODE"] == "read-only", "read-only after revoke")
        self.wait_event("exception.revoked", exception=exc_id, actor="nobody")

    # A user hammering the control socket neither floods the record nor locks out root.
    # The flood is judged against the time the calls really took, so a slow machine (or an
    # ASan build) changes how many records there are, never whether the test passes.
    def test_hammering_user_neither_floods_the_record_nor_locks_out_root(self):
        self.start_daemon()
        calls = []  # (started, ended) of each refused call, on the daemon's clock (CLOCK_MONOTONIC)
        recorded = []  # the index of the call behind each admin.denied record
        for i in range(60):
            started = time.monotonic()
            r = self.ctl("media", "remove", "x", uid=NOBODY)
            calls.append((started, time.monotonic()))
            self.assertEqual(r.returncode, EXIT_DENIED)
            # The record, if any, is written before the reply: it is there now.
            n = len(self.events("admin.denied", actor="nobody"))
            self.assertIn(n - len(recorded), (0, 1), "at most one record per refusal")
            if n > len(recorded):
                recorded.append(i)
        denied = self.events("admin.denied", actor="nobody")
        self.assertEqual(recorded[:1], [0], "the first refusal is on the record at once")
        span = calls[-1][1] - calls[0][0]
        self.assertLessEqual(len(denied), 1 + int(span // DENIED_RECORD_INTERVAL),
                             "one record per user, command and interval: %d in %.1f s" % (len(denied), span))
        for j, (ev, i) in enumerate(zip(denied, recorded)):
            self.assertEqual(ev["command"], "media-remove")
            # Each record counts the refusals since the one before, itself included.
            self.assertEqual(ev["refusals"], str(i - recorded[j - 1] if j else 1), (j, recorded))
            if j:
                self.assertGreaterEqual(calls[i][1] - calls[recorded[j - 1]][0], DENIED_RECORD_INTERVAL,
                                        "a new record only once an interval has passed")
        for i in set(range(60)) - set(recorded):
            last = calls[max(k for k in recorded if k < i)]
            self.assertLess(calls[i][0] - last[1], DENIED_RECORD_INTERVAL,
                            "refusal %d was held back although an interval had passed" % i)

        # The refusals since the last record are not lost: once its interval is over, the next
        # refusal is recorded with all of them. (Waits out the rest of the interval, at most 10 s.)
        time.sleep(max(0.0, calls[recorded[-1]][1] + DENIED_RECORD_INTERVAL - time.monotonic()))
        r = self.ctl("media", "remove", "x", uid=NOBODY)
        self.assertEqual(r.returncode, EXIT_DENIED)
        denied = self.events("admin.denied", actor="nobody")
        self.assertEqual(len(denied), len(recorded) + 1, "a record once the interval is over")
        self.assertEqual(denied[-1]["refusals"], str(60 - recorded[-1]), "the held-back refusals are counted")

        held = []
        try:
            for _ in range(40):
                sk = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                pid = os.fork()
                if pid == 0:  # connect as nobody, hand the socket back
                    os.setgid(NOBODY)
                    os.setuid(NOBODY)
                    try:
                        sk.connect(self.socket)
                        os._exit(0)
                    except OSError:
                        os._exit(1)
                os.waitpid(pid, 0)
                held.append(sk)
            # the kernel accepted them; the daemon keeps at most a few per user
            r = self.ctl("status")
            self.assertEqual(r.returncode, 0, "root still gets in: %r" % (r.stderr,))
            self.ctl_ok("media", "add", "--vid", "0951", "--pid", "1666", "--serial", "S1", "--label", "ok")
        finally:
            for sk in held:
                sk.close()

    # The register's serials would let a user program a clone of a read-write medium
    def test_register_is_for_administrators_only(self):
        s = stick()
        self.plug(s)
        self.start_daemon()
        self.register(s, "USB-KEIRI-01", mode="read-write")
        for args in (("media", "list"), ("exception", "list")):
            r = self.ctl(*args, uid=NOBODY)
            self.assertEqual(r.returncode, EXIT_DENIED, args)
            self.assertNotIn(b"KST-0001", r.stdout)
        r = self.ctl("--json", "devices", uid=NOBODY)
        self.assertEqual(r.returncode, 0)
        devs = json.loads(r.stdout)
        self.assertEqual(devs[0]["serial"], "", "users see the reason, not the serial")
        self.assertNotIn(b"KST-0001", r.stdout)
        self.assertEqual(self.ctl_json("devices")[0]["serial"], "KST-0001", "administrators see it")

    # Tables line up by display width: a Japanese label or department (two columns a
    # character) does not shift the columns after it
    def test_tables_align_japanese_text(self):
        self.start_daemon()
        self.ctl_ok("media", "add", "--vid", "0951", "--pid", "1666", "--serial", "KST-0001", "--label", "総務-01",
                    "--department", "総務課")
        self.ctl_ok("media", "add", "--vid", "0781", "--pid", "5581", "--serial", "SD-0002", "--label",
                    "USB-KEIRI-02", "--department", "経理", "--mode", "read-write")

        def width(text):
            return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)

        lines = self.ctl_ok("media", "list").stdout.decode("utf-8").splitlines()
        self.assertEqual(len(lines), 3, lines)
        self.assertTrue(lines[1].startswith("総務-01 "), lines)
        # each row's cells start at the same display column as the header's
        for header, cells in (("ID", ("0951:1666", "0781:5581")), ("SERIAL", ("KST-0001", "SD-0002")),
                              ("MODE", ("read-only", "read-write")), ("DEPARTMENT", ("総務課", "経理"))):
            at = width(lines[0][:lines[0].index(header)])
            self.assertEqual(width(lines[1][:lines[1].index(cells[0])]), at, (header, lines))
            self.assertEqual(width(lines[2][:lines[2].index(cells[1])]), at, (header, lines))
        self.assertFalse(any(line.endswith(" ") for line in lines), "no trailing blanks")
        # every list verb's table: its headers, then a row an entry, each cell under its header
        self.ctl_ok("exception", "grant", "総務-01", "--until", iso_utc(time.time() + 3600), "--approver", "課長",
                    "--reason", "決算")
        self.ctl_ok("token", "add", "--kind", "security-key", "--vid", "2581", "--pid", "f1d0", "--label", "鍵-01",
                    "--owner", "root")
        for args, header, cell in ((("exception", "list"), "APPROVER", "課長"), (("token", "list"), "ID", "2581:f1d0"),
                                   (("token", "list"), "OWNER", "root")):
            table = self.ctl_ok(*args).stdout.decode("utf-8").splitlines()
            self.assertEqual(table[0].split()[:2], ["ID", "LABEL"] if args[0] == "exception" else ["LABEL", "KIND"])
            row = [line for line in table[1:] if "総務-01" in line or "鍵-01" in line]
            self.assertEqual(len(row), 1, table)
            self.assertEqual(width(row[0][:row[0].index(cell)]), width(table[0][:table[0].index(header)]), table)
        # JSON for scripts ends with a newline
        out = self.ctl_ok("media", "list", "--json").stdout
        self.assertTrue(out.endswith(b"\n"))
        self.assertEqual([m["label"] for m in json.loads(out)], ["総務-01", "USB-KEIRI-02"])


if __name__ == "__main__":
    unittest.main(verbosity=2)
