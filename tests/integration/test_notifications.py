# SPDX-License-Identifier: GPL-2.0-or-later
"""Notices for staff: termguardd tells the helper (termguard-session) of the session an event
concerns, and the helper shows a desktop notification in the session's language.

Real: termguardd, termguard-session under Xvfb, dbus-daemon (the private system bus with
dbusmock's logind, as in test_session_helper.py, and one private session bus per helper),
gettext with a ja_JP.UTF-8 locale compiled here (localedef, LOCPATH). Simulated:
the notification server, by dbusmock's notification_daemon template, whose call log holds
each Notify call's summary and body. Each helper has a bus and a server of its own, so a
notification shows which session it reached.

Everything is waited for on call logs and the daemon's log; no duration is asserted."""

import json
import os
import shutil
import subprocess
import tempfile
import time

import dbus

import test_session_helper as tsh
from gate_testbed import BUILD_DIR, TIMEOUT, UsbDevice, iso_utc, keyboard, stick
from idle_testbed import BUS_CONFIG, MOCK_IFACE, now_usec

NOTIFY = "org.freedesktop.Notifications"
NOTIFY_PATH = "/org/freedesktop/Notifications"
LOCALEDIR = os.path.join(BUILD_DIR, "po")
SESSION_BUS_CONFIG = BUS_CONFIG.replace("<type>system</type>", "<type>session</type>")

# A label meant to be read as markup by the notification server, with an escape sequence.
HOSTILE = b"<b>FREE</b> & <a href='x'>USB</a>\x1b[31m"


class NotificationTest(tsh.HelperTestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.locpath = tempfile.mkdtemp(prefix="tg-it-locale-")
        r = subprocess.run(["localedef", "-i", "ja_JP", "-f", "UTF-8", os.path.join(cls.locpath, "ja_JP.UTF-8")],
                           capture_output=True, timeout=120)
        if r.returncode not in (0, 1):  # 1: warnings only
            raise RuntimeError("localedef ja_JP.UTF-8 failed: %s" % r.stderr.decode())

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.locpath, ignore_errors=True)
        super().tearDownClass()

    def setUp(self):
        super().setUp()
        self.desk = {}  # session id -> (bus process, mock process, bus connection, address)

    # ---- a session bus and a notification server per session ----

    def start_desktop(self, sid, server=True):
        d = os.path.join(self.tmp, "desk-" + sid)
        os.makedirs(d)
        sock = os.path.join(d, "bus")
        conf = os.path.join(d, "bus.conf")
        with open(conf, "w") as f:
            f.write(SESSION_BUS_CONFIG % sock)
        env = self.helper_env()
        bus = subprocess.Popen(["dbus-daemon", "--config-file=" + conf, "--nofork", "--nopidfile", "--print-address=1"],
                               env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        self.addCleanup(self.stop_proc, bus)
        self.assertTrue(bus.stdout.readline(), "dbus-daemon (session) did not start")
        bus.stdout.close()
        addr = "unix:path=" + sock
        conn = dbus.bus.BusConnection(addr)
        self.addCleanup(conn.close)
        mock = None
        if server:
            log = open(os.path.join(d, "mock.log"), "wb")
            mock = subprocess.Popen(["/usr/bin/python3", "-m", "dbusmock", "--template", "notification_daemon"],
                                    env=dict(env, DBUS_SESSION_BUS_ADDRESS=addr), stdin=subprocess.DEVNULL,
                                    stdout=log, stderr=subprocess.STDOUT)
            log.close()
            self.addCleanup(self.stop_proc, mock)
            self.wait_for(lambda: conn.name_has_owner(NOTIFY), "the notification server of " + sid, alive=False)
        self.desk[sid] = (conn, addr)
        return addr

    def stop_proc(self, p):
        if p.poll() is None:
            p.terminate()
        p.wait(timeout=TIMEOUT)

    def notify_calls(self, sid):
        """dbusmock's call log of Notify: (time in whole seconds, args) of each call, in order."""
        conn, _ = self.desk[sid]
        return conn.get_object(NOTIFY, NOTIFY_PATH).GetMethodCalls("Notify", dbus_interface=MOCK_IFACE)

    def notifications(self, sid):
        """(summary, body) of every Notify call the session's server received, in order."""
        conn, _ = self.desk[sid]
        server = conn.get_object(NOTIFY, NOTIFY_PATH)
        return [(str(c[1][3]), str(c[1][4])) for c in server.GetMethodCalls("Notify", dbus_interface=MOCK_IFACE)]

    def wait_notification(self, sid, pred, what):
        return self.wait_for(lambda: next((n for n in self.notifications(sid) if pred(n)), None),
                             "a notification in session %s: %s" % (sid, what))

    def start_desk_helper(self, sid, lang="en_US.UTF-8", server=True, in_session=None, desk=None,
                          session_type="x11", env=None):
        """A helper of session sid with a session bus and notification server of its own
        (named desk, sid by default); waits until termguardd took it unless in_session says it
        is in another session. env: more of the helper's environment (None: left out)."""
        addr = self.start_desktop(desk or sid, server=server)
        self.extra_env = dict(DBUS_SESSION_BUS_ADDRESS=addr, LANG=lang, LOCPATH=self.locpath,
                              TERMGUARD_LOCALEDIR=LOCALEDIR, **(env or {}))
        try:
            p = self.start_helper(sid, in_session=in_session, session_type=session_type)
        finally:
            self.extra_env = {}
        if in_session not in (None, sid):
            return p
        p.taken = self.wait_for(lambda: next((line for line in self.raw_lines() if (
            "Session %s: the helper (process %d) takes notices" % (sid, p.pid)).encode() in line), None),
            "the helper of %s to take notices" % sid)
        return p

    def x_env(self):
        env = super().x_env()
        for k, v in getattr(self, "extra_env", {}).items():
            if v is None:
                env.pop(k, None)
            else:
                env[k] = v
        return env

    def forge_report(self, sid, idle_ms=0):
        """A process of session sid (by logind's word) sends an idle report for it; returns
        termguardd's reply."""
        r = subprocess.run(["/usr/bin/python3", "-c", FORGER, self.socket, sid, str(idle_ms)],
                           env=dict(self.x_env(), TG_IT_LOGIND_SESSION=sid), capture_output=True, timeout=TIMEOUT)
        return json.loads(r.stdout)

    def two_sessions(self, lang_c1="en_US.UTF-8", lang_c2="en_US.UTF-8", **keys):
        """c1 in the foreground of seat0, c2 on the same seat in the background."""
        self.start_all_with_helpers(**keys)
        self.add_session("c1", type_="x11")
        self.add_session("c2", type_="x11")
        self.set_props("c2", Active=False)
        self.start_desk_helper("c1", lang_c1)
        self.start_desk_helper("c2", lang_c2)

    # ---- the tests ----

    def test_blocked_and_read_only_storage_reach_the_active_session_only(self):
        self.two_sessions(LockAfter="1h", WarnBefore="0")
        # an unregistered stick: blocked, with what to do
        s = stick()
        self.plug(s)
        self.wait_event("usb.decision", device=s.name, decision="blocked")
        summary, body = self.wait_notification("c1", lambda n: "blocked" in n[0], "storage blocked")
        self.assertEqual(summary, "USB storage blocked")
        self.assertIn("DataTraveler 3.0 (0951:1666)", body)
        self.assertIn("ask your administrator to register it", body)
        self.unplug(s)
        # registered (read-only is the default): read-only, with the label and the way to write
        self.register(s, "USB-SOMU-01")
        self.plug(stick(devnum=4))
        self.wait_event("usb.decision", device=s.name, decision="read-only")
        summary, body = self.wait_notification("c1", lambda n: "read-only" in n[0], "read-only")
        self.assertEqual(summary, "USB storage is read-only")
        self.assertIn("USB-SOMU-01", body)
        self.assertIn("exception approved by an administrator", body)
        # a keyboard is no storage: nothing to tell
        self.plug(keyboard())
        self.wait_attr(keyboard().syspath, "authorized", "1")
        self.barrier()
        self.assertEqual(len(self.notifications("c1")), 2)
        # the background session of the seat heard nothing
        self.assertEqual(self.notifications("c2"), [])

    def test_notifications_in_japanese(self):
        self.two_sessions(lang_c1="ja_JP.UTF-8", LockAfter="1h", WarnBefore="0")
        s = stick()
        self.plug(s)
        summary, body = self.wait_notification("c1", lambda n: True, "storage blocked")
        self.assertEqual(summary, "USBストレージを使用できません")
        self.assertIn("DataTraveler 3.0 (0951:1666) はこの端末での使用が登録されていないため", body)
        self.assertIn("管理者に登録を依頼してください", body)
        self.unplug(s)
        self.register(s, "総務課USB-01")
        self.plug(stick(devnum=4))
        summary, body = self.wait_notification("c1", lambda n: "読み取り専用" in n[0], "read-only")
        self.assertEqual(summary, "USBストレージは読み取り専用です")
        self.assertIn("（登録名 総務課USB-01）", body)
        self.assertIn("管理者が承認した例外が必要です", body)

    def test_hostile_device_name_is_escaped_for_markup_and_terminals(self):
        self.two_sessions(LockAfter="1h", WarnBefore="0")
        dev = UsbDevice("1-3", 0x1234, 0x5678, b"EVIL-1", [(0, 0x08, 0x06, 0x50)], 5,
                        manufacturer=b"x", product=HOSTILE + b"A" * 200)
        self.plug(dev)
        summary, body = self.wait_notification("c1", lambda n: True, "storage blocked")
        self.assertEqual(summary, "USB storage blocked")
        self.assertIn("&lt;b&gt;FREE&lt;/b&gt; &amp; &lt;a href='x'&gt;USB&lt;/a&gt;\\x1b[31m", body)
        for raw in ("<b>", "<a ", "\x1b"):
            self.assertNotIn(raw, body)
        # bounded: cut, marked, and the ids still there
        self.assertIn("…", body)
        self.assertIn("(1234:5678)", body)
        self.assertLess(body.count("A"), 200)

    def test_idle_warning_reaches_its_own_session_in_its_language(self):
        # reports every 3 s (a quarter of LockAfter): c2 never looks idle for 8 s
        self.start_all_with_helpers(LockAfter="12s", WarnBefore="4s", ConfirmTimeout="5m")
        # both in use while the helpers start: by logind (IdleHint false) and by the input the
        # helpers see (the X server is shared; logind's IdleHint true outweighs a helper)
        self.keep_typing()
        for sid in ("c1", "c2"):
            self.add_session(sid, type_="x11", idle_since=now_usec())
            self.set_props(sid, IdleHint=False)
        self.set_props("c2", Active=False)
        self.start_desk_helper("c1", "ja_JP.UTF-8")
        self.start_desk_helper("c2")
        # the staff member of c1 leaves
        self.set_props("c1", IdleHint=True, IdleSinceHint=now_usec())
        self.wait_event("idle.warning", session="c1")
        summary, body = self.wait_notification("c1", lambda n: True, "the idle warning")
        self.assertEqual(summary, "まもなくこのセッションをロックします")
        self.assertRegex(body, r"あと [0-9]+ 秒でこのセッションをロックします")
        self.assertIn("マウスを動かすかキーを押してください", body)
        self.wait_call("c1", "Lock")
        self.assertEqual(len(self.notifications("c1")), 1, self.notifications("c1"))
        self.assertEqual(self.notifications("c2"), [])

    def test_logoff_warning_reaches_its_own_session_then_it_is_logged_off(self):
        """No locker answers (logind's LockedHint never comes): the staff member of that
        session is told through its helper, in its language, that it will be logged off after
        the grace; then it is terminated, on the record. The other session hears nothing."""
        self.start_all_with_helpers(LockAfter="12s", WarnBefore="0", ConfirmTimeout="1s", LogoffGrace="3s")
        self.keep_typing()  # c2's helper sees input: c2 is never idle
        for sid in ("c1", "c2"):
            self.add_session(sid, type_="x11", idle_since=now_usec())
            self.set_props(sid, IdleHint=False)
        self.set_props("c2", Active=False)
        self.start_desk_helper("c1", "ja_JP.UTF-8")
        self.start_desk_helper("c2")
        # the staff member of c1 left 12 s ago (logind's word outweighs the helper's input)
        self.set_props("c1", IdleHint=True, IdleSinceHint=now_usec() - 12 * 1000000)
        self.wait_call("c1", "Lock")
        failed = self.wait_event("idle.lock-failed", session="c1")
        self.assertEqual(failed["warned"], "notification")  # an X11 session has no terminal here
        summary, body = self.wait_notification("c1", lambda n: True, "the logoff warning")
        self.assertEqual(summary, "このセッションはまもなくログオフされます")
        self.assertIn("このセッションをロックできませんでした。あと 3 秒でログオフします。", body)
        self.assertIn("作業内容を保存してください", body)
        self.wait_call("c1", "Terminate")
        self.wait_event("idle.logged-off", session="c1")
        # told before the logoff, as the two mocks' call logs stamp it
        told = self.notify_calls("c1")[0][0]
        terminated = self.calls("c1", "Terminate")[0][0]
        self.assertLessEqual(told, terminated)
        kinds = [e["event"] for e in self.events() if e.get("session") == "c1"]
        self.assertEqual(kinds, ["idle.lock-requested", "idle.lock-failed", "idle.logged-off"])
        self.assertEqual(len(self.notifications("c1")), 1, self.notifications("c1"))
        self.assertEqual(self.notifications("c2"), [])
        self.assertEqual(self.calls("c2", "Lock") + self.calls("c2", "Terminate"), [])

    def test_logoff_without_a_helper_is_recorded_as_not_warned(self):
        """A graphical session whose helper does not run: nobody can be told, the logoff goes
        on all the same, and the record says nobody was warned."""
        self.start_all_with_helpers(LockAfter="2s", WarnBefore="0", ConfirmTimeout="1s", LogoffGrace="1s")
        self.add_session("c1", type_="x11", idle_since=now_usec())
        failed = self.wait_event("idle.lock-failed", session="c1")
        self.assertEqual(failed["warned"], "none")
        self.wait_call("c1", "Terminate")
        self.wait_event("idle.logged-off", session="c1")

    def test_wayland_helper_shows_every_notice_and_reports_nothing(self):
        """A Wayland session (no X display): the helper cannot see input and runs for the
        notices alone. Every kind reaches it; it sends no idle report; the lock follows
        logind's IdleHint alone, and the missing reports count for nothing."""
        self.start_all_with_helpers(LockAfter="12s", WarnBefore="4s", ConfirmTimeout="1s", LogoffGrace="3s")
        self.add_session("w1", type_="wayland")
        p = self.start_desk_helper("w1", session_type="wayland", env=dict(DISPLAY=None))
        self.assertIn(b"notify-only", p.taken)
        self.assertIn("showing termguardd's notices only", self.helper_output(p))
        # storage blocked, read-only, an exception's end
        s = stick()
        self.plug(s)
        self.wait_notification("w1", lambda n: n[0] == "USB storage blocked", "storage blocked")
        self.unplug(s)
        self.register(s, "USB-SOMU-01")
        self.plug(stick(devnum=4))
        self.wait_notification("w1", lambda n: n[0] == "USB storage is read-only", "read-only")
        self.grant_expiring("USB-SOMU-01", 150)
        self.wait_notification("w1", lambda n: n[0] == "Write permission ends soon", "the exception's end")
        # logind says the session is in use: no deadline, however long the helper is silent
        self.assertEqual(self.session_status("w1")["deadline"], "")
        # the staff member leaves: the desktop tells logind (IdleHint), the lock follows it
        since = now_usec()
        self.set_props("w1", IdleHint=True, IdleSinceHint=since)
        warn = self.wait_event("idle.warning", session="w1")
        self.assertEqual(warn["deadline"], iso_utc((since + 12 * 1000000) // 1000000))
        self.wait_notification("w1", lambda n: n[0] == "This session will be locked soon", "the idle warning")
        ev = self.wait_event("idle.lock-requested", session="w1")
        self.assertEqual((ev["reason"], ev["deadline"]), ("idle", warn["deadline"]))
        self.wait_call("w1", "Lock")
        # no locker answers: told, then logged off
        failed = self.wait_event("idle.lock-failed", session="w1")
        self.assertEqual(failed["warned"], "notification")
        self.wait_notification("w1", lambda n: n[0] == "This session will be logged off", "the logoff warning")
        self.wait_call("w1", "Terminate")
        self.wait_event("idle.logged-off", session="w1")
        self.assertEqual(len(self.notifications("w1")), 5, self.notifications("w1"))  # one of each kind
        # the helper sent no report (one would have been refused, and recorded), and none was
        # missed: it never counted against the session
        self.assertEqual(self.reports("w1"), [])
        self.assertEqual(self.events("idle.helper-refused") + self.events("idle.helper-gone"), [])
        self.assertIsNone(p.poll())

    def test_idle_reports_are_not_believed_for_wayland_or_notify_only_sessions(self):
        """A process of a Wayland session reports input (it would put the deadline where it
        likes): refused, recorded, and the deadline stays logind's. The same for a session whose
        helper registered notify-only (WAYLAND_DISPLAY beside XWayland's DISPLAY: the helper
        measures nothing though an X server answers)."""
        self.start_all_with_helpers(LockAfter="1h", WarnBefore="0")
        self.add_session("w2", type_="wayland")
        self.add_session("w3", type_="x11")
        self.set_props("w3", Active=False)
        p = self.start_desk_helper("w3", session_type=None, env=dict(WAYLAND_DISPLAY="wayland-0"))
        self.assertIn(b"notify-only", p.taken)
        for sid in ("w2", "w3"):
            reply = self.forge_report(sid, 0)
            self.assertFalse(reply["ok"], reply)
            self.assertEqual(reply["code"], "permission-denied")
            self.assertIn("logind's", reply["error"])
            ev = self.wait_event("idle.helper-refused", session=sid)
            self.assertIn("Wayland", ev["why"])
            st = self.session_status(sid)
            self.assertEqual((st.get("helper_report_at", ""), st["deadline"]), ("", ""))
        # an idle time that would lock at once is refused as well
        self.assertFalse(self.forge_report("w2", 3600 * 1000)["ok"])
        self.assertEqual(self.calls("w2", "Lock") + self.calls("w3", "Lock"), [])
        # the notify-only helper of w3, with an X server at hand, measured and sent nothing
        self.assertEqual(self.reports("w3"), [])
        self.assertEqual(len(self.events("idle.helper-refused", session="w3")), 1)
        # an X11 session without a notify-only helper still has its reports believed
        self.add_session("x1", type_="x11")
        self.set_props("x1", Active=False)
        self.assertTrue(self.forge_report("x1", 0)["ok"])
        self.wait_report("x1", 0, lambda ms: ms == 0, "the X11 session's report")

    def test_exception_shorter_than_five_minutes_is_told_at_grant(self):
        self.two_sessions(LockAfter="1h", WarnBefore="0")
        s = stick()
        self.register(s, "USB-KEIRI-01")
        exc, until = self.grant_expiring("USB-KEIRI-01", 150)
        summary, body = self.wait_notification("c1", lambda n: "ends soon" in n[0], "the exception's end")
        self.assertEqual(summary, "Write permission ends soon")
        self.assertIn("USB-KEIRI-01", body)
        self.assertIn(time.strftime("%H:%M", time.localtime(until)), body)
        self.assertRegex(body, r"\((2|3) minutes from now\)")
        # told once: a later change of the register does not tell it again
        self.ctl_ok("exception", "grant", "USB-KEIRI-01", "--until", iso_utc(time.time() + 3600),
                    "--approver", "kacho", "--reason", "long")
        self.barrier()
        self.assertEqual([n for n in self.notifications("c1") if "ends soon" in n[0]], [(summary, body)])
        self.assertEqual(self.notifications("c2"), [])

    def test_exception_is_told_five_minutes_before_its_end(self):
        """Granted for 5 min 4 s: not told at grant (6 minutes would be left), told by the
        timer at its end less 5 minutes."""
        self.two_sessions(lang_c1="ja_JP.UTF-8", LockAfter="1h", WarnBefore="0")
        s = stick()
        self.register(s, "USB-KEIRI-02")
        exc, until = self.grant_expiring("USB-KEIRI-02", 304)
        summary, body = self.wait_notification("c1", lambda n: True, "the exception's end")
        self.assertEqual(summary, "書き込みの許可がまもなく終わります")
        self.assertIn("USB-KEIRI-02 への書き込みは %s まで（あと 5 分）許可されています。"
                      % time.strftime("%H:%M", time.localtime(until)), body)
        self.assertEqual(len(self.notifications("c1")), 1)
        self.assertEqual(self.notifications("c2"), [])

    def test_without_a_notification_server_the_helper_says_so_once_and_goes_on(self):
        self.two_sessions(LockAfter="12s", WarnBefore="0")
        self.add_session("c3", type_="x11")
        self.set_props("c1", Active=False)
        p = self.start_desk_helper("c3", server=False)
        self.plug(stick())
        self.wait_for(lambda: "no notification server" in self.helper_output(p), "the helper to say so")
        self.unplug(stick())
        self.plug(stick(devnum=4))
        self.wait_event("usb.decision", decision="blocked", device="1-1")
        self.barrier()
        # said once, and the helper still reports idle time
        self.assertEqual(self.helper_output(p).count("no notification server"), 1)
        self.wait_report("c3", 0, lambda ms: True, "any report")
        self.assertIsNone(p.poll())

    def test_notices_go_to_no_process_outside_the_session(self):
        """A process of session c2 (same user) asks for c1's notices: refused once logind says
        where it is, and it is shown nothing; another user's process is refused at once."""
        self.start_all_with_helpers(LockAfter="1h", WarnBefore="0")
        self.add_session("c1", type_="x11")
        self.add_session("c2", type_="x11")
        self.set_props("c2", Active=False)
        spy = self.start_desk_helper("c1", in_session="c2", desk="spy")
        self.wait_for(lambda: "termguardd refused notices: not a process of session c1" in self.helper_output(spy),
                      "the refusal")
        other = self.start_helper("c1", in_session="c1", uid=tsh.NOBODY)
        self.wait_for(lambda: "termguardd refused notices: session c1 is not yours" in self.helper_output(other),
                      "the refusal of another user")
        self.plug(stick())
        self.wait_event("usb.decision", device="1-1", decision="blocked")
        self.barrier()
        self.assertEqual(self.notifications("spy"), [])
        # it asks again every 10 s and is refused again; it says so once
        refused = ("Session c1: notice request of uid 0, process %d refused" % spy.pid).encode()
        self.wait_for(lambda: b"".join(self.raw_lines()).count(refused) >= 2, "the second refusal")
        self.assertEqual(self.helper_output(spy).count("termguardd refused notices"), 1)
        # the session's own helper, started now, is told of the next one
        self.start_desk_helper("c1")
        self.unplug(stick())
        self.plug(stick(devnum=4))
        self.wait_notification("c1", lambda n: n[0] == "USB storage blocked", "storage blocked")
        self.assertEqual(self.notifications("spy"), [])

    def test_a_helper_that_does_not_read_stalls_nothing(self):
        """A process of session c1 asks for its notices and never reads: its notices are
        dropped once its queue is full, and the daemon goes on deciding devices and locking."""
        self.start_all_with_helpers(LockAfter="1h", WarnBefore="0", ConfirmTimeout="5m")
        self.add_session("c1", type_="x11")
        reader = subprocess.Popen(
            ["/usr/bin/python3", "-c", NON_READER, self.socket],
            env=dict(self.x_env(), TG_IT_LOGIND_SESSION="c1"), stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        self.addCleanup(self.stop_proc, reader)
        self.wait_for(lambda: b"the helper (process %d) takes notices" % reader.pid in b"".join(self.raw_lines()),
                      "the silent helper to be taken")
        dev = UsbDevice("1-3", 0x1234, 0x5678, b"N-1", [(0, 0x08, 0x06, 0x50)], 5, product=b"P" * 120)
        n = 0
        while b"does not read its notices" not in b"".join(self.raw_lines()):
            self.assertLess(n, 2000, "the queue never filled")
            dev.devnum = 5 + n
            self.plug(dev)
            if n == 0:
                self.wait_event("usb.decision", device="1-3", decision="blocked")
            self.unplug(dev)
            n += 1
        # the daemon still decides, answers and locks
        kb = keyboard()
        self.plug(kb)
        self.wait_attr(kb.syspath, "authorized", "1")
        self.ctl_ok("lock", "c1")
        self.wait_call("c1", "Lock")
        # the helper reads at last: whole lines, the newest after a count of those it missed
        out = reader.communicate(b"go\n", timeout=TIMEOUT)[0].decode()
        lines = out.splitlines()
        self.assertEqual(lines[0], '{"ok":true}')
        self.assertTrue(all(line.startswith('{"notice":"storage-blocked"') for line in lines[1:]), out[-400:])
        self.assertTrue(any('"dropped":' in line for line in lines[1:]), out[-400:])


# Sends one idle report (argv: the control socket, the session, the idle time) and prints the
# reply, as a process of the session that is not its helper would.
FORGER = r"""
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(sys.argv[1])
s.sendall(b'{"command":"session-idle","session":"%s","idle_ms":%d}\n' % (sys.argv[2].encode(), int(sys.argv[3])))
sys.stdout.write(s.makefile().readline())
"""

# Asks for session c1's notices (argv[1]: the control socket), reads nothing until told to on
# stdin, then prints everything until termguardd has nothing more for a second.
NON_READER = r"""
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(sys.argv[1])
s.sendall(b'{"command":"session-notify","session":"c1"}\n')
sys.stdin.readline()
s.settimeout(1)
data = b""
try:
    while True:
        chunk = s.recv(65536)
        if not chunk:
            break
        data += chunk
except socket.timeout:
    pass
sys.stdout.buffer.write(data)
"""
