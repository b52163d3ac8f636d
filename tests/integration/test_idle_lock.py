# SPDX-License-Identifier: GPL-2.0-or-later
"""The idle lock against a real dbus-daemon and dbusmock's logind (idle_testbed.py): idle
sessions locked at their deadline, the lock confirmed by LockedHint or the session logged off
after the grace, restarts that keep deadlines, activity, no bus at start, the lock verb."""

import os
import pty
import signal
import subprocess
import unittest

from gate_testbed import EXIT_DENIED, HID_KEYBOARD, UsbDevice, iso_utc
from idle_testbed import IdleTestCase, USEC, VPCD_READER_CONF, VirtualCard, now_usec

EXIT_DAEMON_ERROR = 1


def iso_usec(t):
    return iso_utc(t // USEC)


class IdleLockTest(IdleTestCase):

    def test_idle_session_is_warned_locked_and_confirmed(self):
        self.start_all(self.idle_config(LockAfter="2s", WarnBefore="1s"))
        busy = self.add_session("6", type_="wayland")  # not idle: no deadline
        since = now_usec()
        self.add_session("5", idle_since=since)
        deadline = iso_usec(since + 2 * USEC)
        warn = self.wait_event("idle.warning", session="5")
        self.assertEqual(warn["deadline"], deadline)
        ev = self.wait_event("idle.lock-requested", session="5")
        self.assertEqual((ev["reason"], ev["deadline"], ev["user"]), ("idle", deadline, "root"))
        self.wait_call("5", "Lock")
        self.assertEqual(self.session_status("5")["state"], "lock-requested")
        # the screen locker reacts: logind's LockedHint
        self.set_props("5", LockedHint=True)
        self.wait_event("idle.lock-confirmed", session="5")
        st = self.session_status("5")
        self.assertEqual((st["state"], st["locked"], st["deadline"]), ("locked", True, ""))
        # the busy session has no deadline and was never touched; nothing was logged off
        self.assertEqual(self.session_status("6")["deadline"], "")
        self.assertEqual(self.calls("6", "Lock"), [])
        self.assertEqual(self.calls("5", "Terminate"), [])
        self.assertEqual(self.events("idle.lock-failed"), [])
        self.assertTrue(busy)

    def test_unconfirmed_lock_warns_on_the_console_then_logs_off(self):
        """A text console: no locker answers. The staff member is told on the terminal, and
        the session is terminated after the grace, on the record."""
        self.start_all(self.idle_config(LockAfter="1s", WarnBefore="0", ConfirmTimeout="1s", LogoffGrace="1s"))
        master, slave = pty.openpty()
        self.addCleanup(os.close, master)
        self.addCleanup(os.close, slave)
        tty = os.ttyname(slave)[len("/dev/"):]
        # logind: a console's IdleSinceHint is its last input, IdleHint stays false
        self.add_session("c1", type_="tty", tty=tty)
        self.set_props("c1", IdleSinceHint=now_usec())
        self.wait_call("c1", "Lock")
        failed = self.wait_event("idle.lock-failed", session="c1")
        self.assertEqual((failed["tty"], failed["warned"]), (tty, "console"))
        self.wait_call("c1", "Terminate")
        self.wait_event("idle.logged-off", session="c1")
        os.set_blocking(master, False)
        text = os.read(master, 4096).decode("utf-8", "replace")
        self.assertIn("logged off", text)
        self.assertIn("ログオフ", text)
        self.assertEqual(self.session_status("c1")["state"], "logged-off")
        # the order on the record: asked, not confirmed, logged off
        kinds = [e["event"] for e in self.events() if e.get("session") == "c1"]
        self.assertEqual(kinds, ["idle.lock-requested", "idle.lock-failed", "idle.logged-off"])

    def test_lock_confirmed_during_the_grace_is_not_logged_off(self):
        self.start_all(self.idle_config(LockAfter="1s", WarnBefore="0", ConfirmTimeout="1s", LogoffGrace="1h"))
        self.add_session("7", idle_since=now_usec())
        self.wait_event("idle.lock-failed", session="7")
        self.assertNotEqual(self.session_status("7")["logoff_at"], "")
        self.set_props("7", LockedHint=True)
        self.wait_event("idle.lock-confirmed", session="7")
        st = self.session_status("7")
        self.assertEqual((st["state"], st["logoff_at"]), ("locked", ""))
        self.assertEqual(self.calls("7", "Terminate"), [])

    def test_input_during_the_grace_calls_the_logoff_off(self):
        self.start_all(self.idle_config(LockAfter="1s", WarnBefore="0", ConfirmTimeout="1s", LogoffGrace="1h"))
        self.add_session("8", idle_since=now_usec())
        self.wait_event("idle.lock-failed", session="8")
        self.set_props("8", IdleHint=False)  # the staff member is back
        self.wait_event("idle.logoff-cancelled", session="8")
        st = self.session_status("8")
        self.assertEqual((st["state"], st["logoff_at"]), ("active", ""))
        self.assertEqual(self.calls("8", "Terminate"), [])

    def test_activity_resets_the_countdown(self):
        self.start_all(self.idle_config(LockAfter="3s", WarnBefore="2s"))
        first = now_usec()
        self.add_session("9", idle_since=first)
        self.wait_event("idle.warning", session="9")
        self.set_props("9", IdleHint=False)
        self.wait_for(lambda: self.session_status("9")["deadline"] == "", "the countdown to stop")
        second = now_usec() + 2 * USEC
        self.set_props("9", IdleHint=True, IdleSinceHint=second)
        ev = self.wait_event("idle.lock-requested", session="9")
        self.assertEqual(ev["deadline"], iso_usec(second + 3 * USEC))
        warnings = [e["deadline"] for e in self.events("idle.warning", session="9")]
        self.assertEqual(warnings, [iso_usec(first + 3 * USEC), iso_usec(second + 3 * USEC)])
        self.assertEqual(len(self.calls("9", "Lock")), 1)

    def test_restart_keeps_deadlines_and_a_pending_logoff(self):
        self.start_all(self.idle_config(LockAfter="10m", ConfirmTimeout="1s", LogoffGrace="1h"))
        since = now_usec() - 100 * USEC
        self.add_session("10", idle_since=since)  # counting down
        self.add_session("11", idle_since=now_usec() - 3600 * USEC)  # overdue: locked at once
        failed = self.wait_event("idle.lock-failed", session="11")
        before = {s: self.session_status(s) for s in ("10", "11")}
        self.assertEqual(before["10"]["deadline"], iso_usec(since + 600 * USEC))
        self.assertEqual(before["11"]["logoff_at"], failed["logoff_at"])
        self.stop_daemon()
        self.start_daemon()
        self.wait_event("idle.attached")
        self.wait_for(lambda: self.session_status("11") and self.session_status("10"), "both sessions")
        after = {s: self.session_status(s) for s in ("10", "11")}
        self.assertEqual(after["10"]["deadline"], before["10"]["deadline"])
        self.assertEqual((after["11"]["state"], after["11"]["logoff_at"]), ("logoff-pending", failed["logoff_at"]))
        # not asked again, not failed again: the grace runs on from before the restart
        self.assertEqual(len(self.calls("11", "Lock")), 1)
        self.assertEqual(len(self.events("idle.lock-failed", session="11")), 1)

    def test_no_bus_at_start_waits_then_attaches(self):
        self.write_config(self.idle_config(LockAfter="1s", WarnBefore="0"))
        self.start_daemon()  # no bus yet: the rest of the agent runs
        ev = self.wait_event("idle.unavailable")
        self.assertEqual(ev["state"], "waiting for the system bus")
        st = self.ctl_json("status")
        self.assertEqual((st["idle_lock"], st["sessions"]), ("waiting for the system bus", []))
        r = self.ctl("lock", "--all")
        self.assertEqual(r.returncode, EXIT_DAEMON_ERROR)
        self.assertIn(b"not attached", r.stderr)
        self.start_bus()
        self.wait_event("idle.unavailable", state="waiting for logind")
        self.start_logind()
        self.wait_event("idle.attached")
        self.add_session("12", idle_since=now_usec())
        self.wait_call("12", "Lock")
        # logind goes away and comes back: waits again, then follows the new logind
        self.stop_logind()
        self.wait_for(lambda: len(self.events("idle.unavailable", state="waiting for logind")) >= 2,
                      "the idle lock to notice logind left")
        self.assertEqual(self.ctl_json("status")["sessions"], [])
        self.start_logind()
        self.wait_for(lambda: len(self.events("idle.attached")) >= 2, "attached again")
        self.add_session("13", idle_since=now_usec())
        self.wait_call("13", "Lock")

    def inhibitors(self):
        return [i for i in self.logind.ListInhibitors(dbus_interface="org.freedesktop.login1.Manager")
                if i[1] == "termguard"]

    def prepare_for_sleep(self, start):
        self.logind.EmitSignal("org.freedesktop.login1.Manager", "PrepareForSleep", "b", [start],
                               dbus_interface="org.freedesktop.DBus.Mock")

    def test_sessions_are_locked_before_sleep_and_the_inhibitor_released_after(self):
        self.start_all(self.idle_config(LockAfter="1h", ConfirmTimeout="5m"))
        self.add_session("50")
        self.add_session("51", uid=65534, user="nobody")
        self.set_props("51", LockedHint=True)  # locked already: not asked again
        self.wait_for(lambda: (self.session_status("51") or {}).get("locked") and self.session_status("50"),
                      "both sessions")
        held = self.wait_for(self.inhibitors, "termguard's delay inhibitor")
        self.assertEqual([(i[0], i[3]) for i in held], [("sleep", "delay")])
        self.prepare_for_sleep(True)
        self.wait_call("50", "Lock")
        self.assertEqual(self.wait_event("idle.lock-requested", session="50")["reason"], "suspend")
        self.barrier()
        self.assertTrue(self.inhibitors(), "sleep was let go before the lock was confirmed")
        self.assertEqual(self.events("idle.suspend-lock"), [])
        self.set_props("50", LockedHint=True)
        self.wait_for(lambda: not self.inhibitors(), "the inhibitor to be released")
        ev = self.wait_event("idle.suspend-lock")
        self.assertEqual((ev["asked"], ev["locked"]), ("1", "2"))
        self.assertEqual(self.calls("51", "Lock"), [])
        # resumed: held again for the next sleep
        self.prepare_for_sleep(False)
        self.wait_for(self.inhibitors, "the inhibitor after resume")

    def test_sleep_goes_on_when_a_lock_is_not_confirmed(self):
        self.start_all(self.idle_config(LockAfter="1h", ConfirmTimeout="1s", LogoffGrace="1h"))
        self.add_session("52")
        self.wait_for(lambda: self.session_status("52"), "the session")
        self.wait_for(self.inhibitors, "termguard's delay inhibitor")
        self.prepare_for_sleep(True)
        self.wait_call("52", "Lock")
        ev = self.wait_event("idle.suspend-lock")
        self.assertEqual((ev["asked"], ev["locked"]), ("1", "0"))
        self.wait_for(lambda: not self.inhibitors(), "the inhibitor to be released")
        # not confirmed: logged off after the grace, as any lock that fails
        self.wait_event("idle.lock-failed", session="52")

    def test_lock_verb_is_for_administrators(self):
        self.start_all(self.idle_config(LockAfter="0"))  # no idle lock: only the verb locks
        self.add_session("20")
        self.add_session("21", uid=65534, user="nobody")
        self.wait_for(lambda: len(self.ctl_json("status")["sessions"]) == 2, "both sessions")
        self.assertEqual(self.session_status("20")["deadline"], "")
        # a user sees their own sessions only, and may not lock
        mine = self.ctl_json("status", uid=65534)["sessions"]
        self.assertEqual([s["session"] for s in mine], ["21"])
        r = self.ctl("lock", "--all", uid=65534)
        self.assertEqual(r.returncode, EXIT_DENIED)
        self.wait_event("admin.denied", command="lock")
        # bad input
        for args in (["lock"], ["lock", "--all", "20"], ["lock", "x;y"], ["lock", "--all=yes"]):
            self.assertNotEqual(self.ctl(*args).returncode, 0, args)
        r = self.ctl("lock", "99")
        self.assertIn(b"no user session", r.stderr)
        self.assertEqual(self.calls("20", "Lock") + self.calls("21", "Lock"), [])
        # one session, then all
        self.assertEqual(self.ctl_json("lock", "21")["lock_requested"], 1)
        self.wait_call("21", "Lock")
        ev = self.wait_event("idle.lock-requested", session="21")
        self.assertEqual((ev["reason"], ev["actor"]), ("admin", "root"))
        self.assertEqual(self.calls("20", "Lock"), [])
        self.set_props("21", LockedHint=True)
        self.wait_event("idle.lock-confirmed", session="21")
        self.assertEqual(self.ctl_json("lock", "--all")["lock_requested"], 1)  # 21 is locked already
        self.wait_call("20", "Lock")
        self.assertEqual(len(self.calls("21", "Lock")), 1)

    def test_pulling_a_registered_key_locks_only_its_owners_sessions(self):
        self.start_all(self.idle_config(LockAfter="1h"))
        self.add_session("60")  # root
        self.add_session("61", uid=65534, user="nobody")
        self.add_session("62", uid=65534, user="nobody")
        self.set_props("62", LockedHint=True)  # locked already
        self.wait_for(lambda: len(self.ctl_json("status")["sessions"]) == 3, "three sessions")
        self.ctl_ok("token", "add", "--kind", "security-key", "--vid", "1050", "--pid", "0407", "--serial",
                    "KEY-NOBODY", "--owner", "nobody", "--label", "key-nobody")
        self.ctl_ok("token", "add", "--kind", "card-reader", "--vid", "04e6", "--pid", "5116", "--label", "readers")
        added = self.wait_event("token.added", label="key-nobody")
        self.assertEqual((added["owner"], added["actor"]), ("nobody", "root"))
        # bad input and privilege
        good = {"--kind": "security-key", "--vid": "1050", "--pid": "0408", "--label": "k2"}
        for key, value in (("--owner", "no-such-user-tg"), ("--kind", "usb-stick"), ("--vid", "1x50"),
                           ("--label", "two words"), ("--serial", "\x1b[2J")):
            args = dict(good, **{key: value})
            r = self.ctl("token", "add", *[x for kv in args.items() for x in kv])
            self.assertNotEqual(r.returncode, 0, (key, value))
        self.assertEqual(self.events("token.added", label="k2"), [])
        r = self.ctl("token", "add", "--kind", "security-key", "--vid", "1050", "--pid", "0407", "--serial",
                     "KEY-NOBODY", "--label", "again")
        self.assertIn(b"already registered", r.stderr)
        r = self.ctl("token", "remove", "readers", uid=65534)
        self.assertEqual(r.returncode, EXIT_DENIED)
        self.assertEqual(self.ctl("token", "list", uid=65534).returncode, EXIT_DENIED)
        self.assertEqual([t["label"] for t in self.ctl_json("token", "list")], ["key-nobody", "readers"])

        key = UsbDevice("1-3", 0x1050, 0x0407, "KEY-NOBODY", [(0,) + HID_KEYBOARD], 4)
        other_key = UsbDevice("1-4", 0x1050, 0x0407, "KEY-OTHER", [(0,) + HID_KEYBOARD], 5)  # same model
        reader = UsbDevice("1-5", 0x04E6, 0x5116, "R-1", [(0, 0x0B, 0, 0)], 6)  # registered, nobody's
        for dev in (key, other_key, reader):
            self.plug(dev)
            self.decision_of(dev)
        for dev in (other_key, reader):
            self.unplug(dev)
            self.wait_event("usb.detach", device=dev.name)
        self.barrier()
        self.assertEqual(self.events("idle.token-lock"), [])
        self.unplug(key)
        ev = self.wait_event("idle.token-lock", token="key-nobody")
        self.assertEqual((ev["owner"], ev["device"], ev["sessions"]), ("nobody", "1-3", "1"))
        self.wait_call("61", "Lock")
        self.assertEqual(self.wait_event("idle.lock-requested", session="61")["reason"], "token-removed")
        self.assertEqual(self.calls("60", "Lock") + self.calls("62", "Lock"), [])
        # the registry is kept across restarts, and removal is recorded
        self.stop_daemon()
        self.start_daemon()
        self.assertEqual(len(self.ctl_json("token", "list")), 2)
        self.ctl_ok("token", "remove", "readers")
        self.wait_event("token.removed", label="readers")
        self.assertEqual(self.ctl("token", "remove", "readers").returncode, 1)

    def log_lines(self, text):
        return [l for l in self.raw_lines() if text.encode() in l]

    def start_with_pcscd(self, config, reader_name=None):
        """termguardd with pcscd and vsmartcard's virtual reader, in a mount namespace of the
        daemon's own (pcscd's socket path is fixed); the card is a connection to the reader's
        driver. reader_name: the reader's name in pcscd (a reader.conf of the test's own)."""
        subprocess.run(["ip", "link", "set", "lo", "up"], check=True)  # this test run's network namespace
        self.write_config(config)
        self.start_bus()
        self.start_logind()
        pidfile = os.path.join(self.tmp, "pcscd.pid")
        tmpfs = ["/run/pcscd"]
        prelude = ""
        if reader_name is not None:
            conf = os.path.join(self.tmp, "vpcd.conf")
            with open(conf, "w") as f:
                f.write(VPCD_READER_CONF % reader_name)
            tmpfs.append("/etc/reader.conf.d")
            prelude = "cp %s /etc/reader.conf.d/vpcd; " % conf
        self.start_daemon(tmpfs_at=tmpfs,
                          # termguardd starts once pcscd listens (as with systemd's pcscd.socket)
                          prelude=prelude + "pcscd -f -e >%s/pcscd.log 2>&1 & echo $! >%s; i=0; "
                                  "while [ ! -S /run/pcscd/pcscd.comm ] && [ $i -lt 400 ]; do sleep 0.05; i=$((i+1)); done;"
                                  % (self.tmp, pidfile))
        self.addCleanup(lambda: os.kill(int(open(pidfile).read()), signal.SIGTERM))
        self.wait_event("idle.attached")

    def card_in_and_out(self, inserted_text):
        """Inserts a card, waits until termguardd has seen it (its log line says where the
        reader is), pulls it and returns the idle.card-lock record."""
        n_locks = len(self.events("idle.card-lock"))
        n_in = len(self.log_lines(inserted_text))
        card = VirtualCard()
        self.wait_for(card.insert, "vpcd to listen")
        self.wait_for(lambda: len(self.log_lines(inserted_text)) > n_in, "termguardd to see the card")
        card.pull()
        self.wait_for(lambda: len(self.events("idle.card-lock")) > n_locks, "the card's removal")
        return self.events("idle.card-lock")[-1]

    def test_pulling_the_ic_card_of_an_unplaced_reader_locks_the_terminals_local_sessions(self):
        """vpcd's "Virtual PCD" names no serial: termguard cannot tell which USB device it is,
        so every local session on a seat is locked (fail closed)."""
        self.start_with_pcscd(self.idle_config(LockAfter="1h", CardReaders="Virtual PCD"))
        self.add_session("70")  # at the terminal
        self.add_session("71", uid=65534, user="nobody")
        self.set_props("71", Remote=True)  # over the network: nobody here
        self.add_session("72", uid=65534, user="nobody", seat="seat1")  # another seat of the terminal
        self.wait_for(lambda: len(self.ctl_json("status")["sessions"]) == 3, "the sessions")
        ev = self.card_in_and_out("IC card inserted in Virtual PCD 00 00 (not placed")
        self.assertTrue(ev["reader"].startswith("Virtual PCD"), ev)
        self.assertEqual((ev["scope"], ev["sessions"], ev["token"], ev["seat"]), ("terminal", "2", "", ""))
        self.wait_call("70", "Lock")
        self.wait_call("72", "Lock")
        self.assertEqual(self.wait_event("idle.lock-requested", session="70")["reason"], "card-removed")
        self.assertEqual(self.calls("71", "Lock"), [])
        # a reader not in CardReaders=: its cards lock nothing
        self.write_config(self.idle_config(LockAfter="1h", CardReaders="Counter reader"))
        self.daemon.send_signal(signal.SIGHUP)
        self.wait_event("config.reloaded")
        self.set_props("70", LockedHint=False)
        card = VirtualCard()
        self.wait_for(card.insert, "vpcd to listen")
        self.wait_for(lambda: len(self.log_lines("IC card inserted")) >= 2, "the second card")
        card.pull()
        self.wait_for(lambda: self.log_lines("not in CardReaders"), "the second removal")
        self.assertEqual(len(self.events("idle.card-lock")), 1)
        self.assertEqual(len(self.calls("70", "Lock")), 1)

    def test_pulling_the_ic_card_locks_the_readers_owner_or_its_seat(self):
        """The reader's name carries its USB serial, as pcsc-lite names USB readers; the gate's
        device with that serial is the reader. Registered with an owner: the owner's sessions,
        on every seat. Without one: the local sessions of the reader's seat."""
        self.start_with_pcscd(self.idle_config(LockAfter="1h", CardReaders="*"), reader_name="Test Reader (ALICE-R1)")
        self.add_session("80")  # root (bob) at seat0
        self.add_session("81", uid=65534, user="nobody")  # nobody (alice) at seat0
        self.add_session("82", uid=65534, user="nobody", seat="seat1")
        self.add_session("83", seat="seat1")
        self.wait_for(lambda: len(self.ctl_json("status")["sessions"]) == 4, "the sessions")
        reader = UsbDevice("1-5", 0x04E6, 0x5116, "ALICE-R1", [(0, 0x0B, 0, 0)], 6)
        # a device of another class claiming the same serial does not make the reader ambiguous
        stick_alike = UsbDevice("1-6", 0x1234, 0x0001, "ALICE-R1", [(0,) + HID_KEYBOARD], 7)
        for dev in (reader, stick_alike):
            self.plug(dev)
            self.decision_of(dev)
        self.ctl_ok("token", "add", "--kind", "card-reader", "--vid", "04e6", "--pid", "5116", "--serial",
                    "ALICE-R1", "--owner", "nobody", "--label", "reader-alice")
        ev = self.card_in_and_out("(USB device 1-5)")
        self.assertEqual((ev["scope"], ev["token"], ev["owner"], ev["device"], ev["sessions"]),
                         ("owner", "reader-alice", "nobody", "1-5", "2"))
        self.assertEqual(ev["reader"], "Test Reader (ALICE-R1) 00 00")
        self.wait_call("81", "Lock")
        self.wait_call("82", "Lock")
        self.assertEqual(self.wait_event("idle.lock-requested", session="81")["reason"], "card-removed")
        self.assertEqual(self.calls("80", "Lock") + self.calls("83", "Lock"), [])
        for sid in ("81", "82"):
            self.set_props(sid, LockedHint=True)
            self.wait_event("idle.lock-confirmed", session=sid)

        # no owner: the reader's seat (seat0, as logind without ID_SEAT); seat1 is left alone
        self.ctl_ok("token", "remove", "reader-alice")
        ev = self.card_in_and_out("(USB device 1-5)")
        self.assertEqual((ev["scope"], ev["token"], ev["owner"], ev["seat"], ev["sessions"]),
                         ("seat", "", "", "seat0", "1"))
        self.wait_call("80", "Lock")
        self.assertEqual(self.calls("83", "Lock"), [])
        self.assertEqual(len(self.calls("81", "Lock")), 1)

        # the reader unplugged with the card in: placed when the card went in
        self.set_props("80", LockedHint=False)
        self.wait_for(lambda: self.session_status("80")["locked"] is False, "session 80 unlocked")
        n_locks = len(self.events("idle.card-lock"))
        card = VirtualCard()
        self.wait_for(card.insert, "vpcd to listen")
        self.wait_for(lambda: len(self.log_lines("(USB device 1-5)")) >= 3, "termguardd to see the card")
        self.unplug(reader)
        self.wait_event("usb.detach", device="1-5")
        card.pull()
        self.wait_for(lambda: len(self.events("idle.card-lock")) > n_locks, "the card's removal")
        ev = self.events("idle.card-lock")[-1]
        self.assertEqual((ev["scope"], ev["device"], ev["seat"]), ("seat", "1-5", "seat0"))
        self.wait_for(lambda: len(self.calls("80", "Lock")) == 2, "session 80 locked again")
        self.assertEqual(self.calls("83", "Lock"), [])

        # two smart-card devices claim the serial: the reader cannot be placed, every seat locks
        for name, devnum in (("1-7", 8), ("1-8", 9)):
            clone = UsbDevice(name, 0x04E6, 0x5116, "ALICE-R1", [(0, 0x0B, 0, 0)], devnum)
            self.plug(clone)
            self.decision_of(clone)
        ev = self.card_in_and_out("IC card inserted in Test Reader (ALICE-R1) 00 00 (not placed")
        self.assertEqual((ev["scope"], ev["device"], ev["seat"]), ("terminal", "", ""))
        self.wait_call("83", "Lock")

    def test_privileged_groups_get_the_shorter_time(self):
        self.start_all(self.idle_config(LockAfter="10m", PrivilegedLockAfter="1m", PrivilegedGroups="root"))
        self.add_session("30")
        self.add_session("31", uid=65534, user="nobody")
        self.wait_for(lambda: len(self.ctl_json("status")["sessions"]) == 2, "both sessions")
        self.assertEqual(self.session_status("30")["lock_after"], 60)
        self.assertEqual(self.session_status("31")["lock_after"], 600)
        # Profile=mynumber: everyone on the terminal
        self.write_config(self.idle_config(LockAfter="10m", PrivilegedLockAfter="1m") + "[MFA]\nProfile=mynumber\n")
        self.daemon.send_signal(1)
        self.wait_event("config.reloaded")
        self.assertEqual(self.session_status("31")["lock_after"], 60)

    def test_sessions_without_a_user_at_the_desk_and_hostile_strings(self):
        self.start_all(self.idle_config(LockAfter="1s", WarnBefore="0"))
        self.add_session("40", announce=False, idle_since=now_usec())
        self.set_props("40", Class="greeter")
        self.logind.EmitSignal("org.freedesktop.login1.Manager", "SessionNew", "so",
                               ["40", "/org/freedesktop/login1/session/40"], dbus_interface="org.freedesktop.DBus.Mock")
        # a user name and TTY with control characters: recorded escaped, locked all the same
        self.add_session("41", user="evil\x1b[2J\nname", tty="tty1\x07", idle_since=now_usec())
        ev = self.wait_event("idle.lock-requested", session="41")
        self.assertNotIn("\x1b", ev["user"])
        self.assertNotIn("\n", ev["user"])
        self.assertNotIn("\x07", ev["tty"])
        self.wait_call("41", "Lock")
        self.assertEqual(self.calls("40", "Lock"), [])
        self.assertIsNone(self.session_status("40"))


if __name__ == "__main__":
    unittest.main()
