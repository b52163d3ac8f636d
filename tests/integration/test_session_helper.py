# SPDX-License-Identifier: GPL-2.0-or-later
"""The session helper (termguard-session) against a real X server (Xvfb), real input (xdotool,
through XTEST), the real termguardd, a real dbus-daemon and dbusmock's logind (idle_testbed.py).

The sessions here are graphical sessions whose desktop gives logind no IdleHint: their idle
time comes from the helper alone. What logind would answer to GetSessionByPID (which session a
process is in: its cgroup) the mock reads from the process's environment variable
TG_IT_LOGIND_SESSION, which the test sets when it starts the process and the process cannot
change for logind afterwards, as it cannot leave its cgroup.

Everything is waited for on events, logs and logind's call log; no duration is asserted."""

import os
import re
import select
import signal
import subprocess
import threading

from gate_testbed import BUILD_DIR, TIMEOUT, parse_iso_utc
from idle_testbed import IdleTestCase, MANAGER_IFACE, MOCK_IFACE, USEC, now_usec

HELPER = os.path.join(BUILD_DIR, "session", "termguard-session")
NOBODY = 65534

# logind's GetSessionByPID, as the mock plays it (see the module's text).
SESSION_BY_PID = """
try:
    env = open("/proc/%d/environ" % args[0], "rb").read().split(b"\\0")
except OSError:
    env = []
sid = [e.split(b"=", 1)[1].decode() for e in env if e.startswith(b"TG_IT_LOGIND_SESSION=")]
if not sid or not sid[0]:
    raise dbus.exceptions.DBusException("PID %d does not belong to any known session" % args[0],
                                        name="org.freedesktop.login1.NoSessionForPID")
ret = dbus.ObjectPath("/org/freedesktop/login1/session/" + sid[0])
"""

REPORT_LOG = re.compile(rb"Session (\S+): the helper reports (\d+) ms idle")


class HelperTestCase(IdleTestCase):
    """IdleTestCase plus an X server and session helpers (also test_notifications.py's)."""

    def setUp(self):
        super().setUp()
        self.helpers = []
        self.xvfb = None
        self.start_x()

    # ---- the X server and input ----

    def start_x(self):
        """Xvfb in a mount namespace with its own /tmp: its lock file and socket directory
        cannot meet another X server's on this machine. Clients reach it through its abstract
        socket, which lives in this run's network namespace (run.sh)."""
        r, w = os.pipe()
        log = open(os.path.join(self.tmp, "xvfb.log"), "wb")
        # -ac: helpers of other users (the refusal tests) may connect; nothing else listens
        self.xvfb = subprocess.Popen(
            ["unshare", "--mount", "--propagation", "private", "sh", "-c",
             'mount -t tmpfs tg-it-x /tmp && exec Xvfb -displayfd "$0" -nolisten tcp -ac -screen 0 640x480x24',
             str(w)], pass_fds=(w,), env=self.x_env(), stdin=subprocess.DEVNULL, stdout=log, stderr=log)
        log.close()
        os.close(w)
        # the read end stays open while Xvfb runs: it may write more than once
        self.addCleanup(os.close, r)
        self.addCleanup(self.stop_x)
        number = b""
        while not number.endswith(b"\n"):
            ready, _, _ = select.select([r], [], [], TIMEOUT)
            chunk = os.read(r, 64) if ready else b""
            if not chunk:
                break
            number += chunk
        if not number.strip().isdigit():
            with open(log.name) as f:
                self.fail("Xvfb did not start: " + f.read())
        self.display = ":" + number.decode().strip()

    def stop_x(self):
        if self.xvfb is not None:
            self.xvfb.terminate()
            self.xvfb.wait(timeout=TIMEOUT)
            self.xvfb = None

    def x_env(self):
        """Outside the USB testbed (no umockdev preload): X, its clients and the helper."""
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin")}
        if getattr(self, "display", None):
            env["DISPLAY"] = self.display
        return env

    def move_mouse(self, i):
        subprocess.run(["xdotool", "mousemove", str(10 + i % 50), str(10 + i % 40)], env=self.x_env(),
                       check=True, timeout=TIMEOUT)

    def keep_typing(self):
        """Input from another thread until the returned event is set (the user at work)."""
        stop = threading.Event()

        def run():
            i = 0
            while not stop.wait(0.2):
                self.move_mouse(i)
                i += 1
        t = threading.Thread(target=run, daemon=True)
        t.start()
        self.addCleanup(t.join, TIMEOUT)
        self.addCleanup(stop.set)
        return stop

    # ---- logind and the helper ----

    def start_all_with_helpers(self, **keys):
        self.start_all(self.idle_config(**keys))
        self.logind.AddMethod(MANAGER_IFACE, "GetSessionByPID", "u", "o", SESSION_BY_PID,
                              dbus_interface=MOCK_IFACE)

    def start_helper(self, claimed, in_session=None, uid=None, session_type="x11"):
        """A helper naming session `claimed`, in logind's session `in_session` (the same when
        None, none when ""); session_type None: no XDG_SESSION_TYPE."""
        env = self.x_env()
        env.update(XDG_SESSION_ID=claimed)
        if session_type is not None:
            env["XDG_SESSION_TYPE"] = session_type
        if in_session != "":
            env["TG_IT_LOGIND_SESSION"] = claimed if in_session is None else in_session
        cmd = [HELPER, "--socket", self.socket]
        if uid is not None:
            cmd = ["setpriv", "--reuid=%d" % uid, "--regid=%d" % uid, "--clear-groups"] + cmd
        log = open(os.path.join(self.tmp, "helper-%d.log" % len(self.helpers)), "wb")
        p = subprocess.Popen(cmd, env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=log)
        log.close()
        p.log = log.name
        self.helpers.append(p)
        self.addCleanup(self.stop_helper, p)
        return p

    def stop_helper(self, p):
        if p.poll() is None:
            p.kill()
        p.wait(timeout=TIMEOUT)
        if os.environ.get("TG_IT_VERBOSE"):
            print("--- %s ---\n%s" % (p.log, self.helper_output(p)))

    def helper_output(self, p):
        with open(p.log, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def reports(self, sid):
        """The idle times (ms) of the helper's reports termguardd believed, in order."""
        out = []
        for line in self.raw_lines():
            m = REPORT_LOG.search(line)
            if m and m.group(1).decode() == sid:
                out.append(int(m.group(2)))
        return out

    def wait_report(self, sid, after, pred, what):
        """Waits for a believed report, later than the first `after` ones, whose idle time
        satisfies pred; returns its index and idle time."""
        def find():
            r = self.reports(sid)
            for i in range(after, len(r)):
                if pred(r[i]):
                    return (i, r[i])
            return None
        return self.wait_for(find, "a report of session %s: %s" % (sid, what))



class SessionHelperTest(HelperTestCase):

    def test_idle_reported_after_inactivity_and_reset_by_input(self):
        # LockAfter 12 s: a report every 3 s; an idle spell begins after 3 s without input
        self.start_all_with_helpers(LockAfter="12s", WarnBefore="0")
        self.add_session("c1", type_="x11")
        self.move_mouse(0)
        self.start_helper("c1")
        first, _ = self.wait_report("c1", 0, lambda ms: True, "any")
        st = self.session_status("c1")
        self.assertNotEqual(st["helper_report_at"], "")
        self.assertNotEqual(st["deadline"], "")
        # no input: the idle time grows past the interval and is reported as such
        i, idle = self.wait_report("c1", first, lambda ms: ms >= 3000, "idle for 3 s or more")
        deadline_idle = parse_iso_utc(self.session_status("c1")["deadline"])
        # input: reported at once as a short idle time, and the deadline moves on
        self.move_mouse(1)
        j, short = self.wait_report("c1", i + 1, lambda ms: ms < idle, "input after the idle spell")
        self.assertLess(short, idle)
        self.assertGreater(parse_iso_utc(self.session_status("c1")["deadline"]), deadline_idle)
        self.assertEqual(self.events("idle.helper-refused"), [])
        self.assertEqual(self.calls("c1", "Lock"), [])

    def test_locks_when_idle_and_not_while_input_goes_on(self):
        # LockAfter 3 s: a report every second
        self.start_all_with_helpers(LockAfter="3s", WarnBefore="0", ConfirmTimeout="5m")
        self.add_session("c2", type_="x11")
        stop = self.keep_typing()
        self.start_helper("c2")
        self.wait_report("c2", 0, lambda ms: True, "any")
        # input goes on while reports cover more than twice the lock time
        start = now_usec()
        self.wait_for(lambda: parse_iso_utc(self.session_status("c2")["helper_report_at"] or
                                            "1970-01-01T00:00:00Z") * USEC > start + 6 * USEC,
                      "reports for more than 6 s of work")
        self.assertEqual(self.calls("c2", "Lock"), [])
        self.assertEqual(self.events("idle.lock-requested", session="c2"), [])
        # the user leaves: locked at LockAfter from the last input
        stop.set()
        self.wait_call("c2", "Lock")
        ev = self.wait_event("idle.lock-requested", session="c2")
        self.assertEqual(ev["reason"], "idle")
        self.assertEqual(self.events("idle.helper-gone"), [])

    def test_killed_helper_locks_at_the_deadline_of_its_last_report(self):
        """The user keeps working but kills the helper: termguardd cannot see the input any
        more and locks at the deadline its last report gave, and records the disappearance."""
        self.start_all_with_helpers(LockAfter="4s", WarnBefore="0", ConfirmTimeout="5m")
        self.add_session("c3", type_="x11")
        self.keep_typing()
        helper = self.start_helper("c3")
        n, _ = self.wait_report("c3", 0, lambda ms: True, "any")
        self.wait_report("c3", n + 1, lambda ms: True, "a second report")
        helper.send_signal(signal.SIGKILL)
        helper.wait(timeout=TIMEOUT)
        last = self.reports("c3")
        deadline = self.session_status("c3")["deadline"]
        self.assertNotEqual(deadline, "")
        ev = self.wait_event("idle.lock-requested", session="c3")
        self.assertEqual((ev["reason"], ev["deadline"]), ("idle", deadline))
        self.wait_call("c3", "Lock")
        gone = self.wait_event("idle.helper-gone", session="c3")
        self.assertEqual(gone["user"], "root")
        # nothing was believed after the kill
        self.assertEqual(self.reports("c3"), last)

    def test_reports_for_sessions_not_the_senders_are_refused(self):
        self.start_all_with_helpers(LockAfter="3s", WarnBefore="0", ConfirmTimeout="5m")
        self.add_session("c4", type_="x11")   # root's session
        self.add_session("c5", type_="x11")   # another session of root's
        self.keep_typing()
        # another user names root's session: refused at once, and recorded
        other = self.start_helper("c4", in_session="c9", uid=NOBODY)
        ev = self.wait_event("idle.helper-refused", session="c4", uid=str(NOBODY))
        self.assertIn("another user", ev["why"])
        self.wait_for(lambda: "refused" in self.helper_output(other), "the helper to be told")
        self.stop_helper(other)
        # the same user, from another session: refused once logind says where the process is
        self.start_helper("c4", in_session="c5")
        ev = self.wait_event("idle.helper-refused", session="c4", uid="0")
        self.assertIn("in session c5", ev["why"])
        # a process in no session at all
        self.start_helper("c5", in_session="")
        self.wait_for(lambda: [e for e in self.events("idle.helper-refused", session="c5")
                               if "logind" in e["why"]], "a refusal for a process in no session")
        # nothing was believed: no report, no deadline, no lock from a forged idle time
        self.assertEqual(self.reports("c4") + self.reports("c5"), [])
        for sid in ("c4", "c5"):
            st = self.session_status(sid)
            self.assertEqual((st.get("helper_report_at", ""), st["deadline"]), ("", ""))
        # refusals are recorded at most once per session and sender in 60 s: the helper of
        # session c5 tries again every 10 s
        self.assertEqual(len(self.events("idle.helper-refused", session="c4")), 2)

    def test_wayland_session_without_a_session_bus_reports_nothing_and_ends(self):
        """On Wayland the helper is there for the notices alone (test_notifications.py); with
        no session bus to show them on, it has nothing to do."""
        self.start_all_with_helpers(LockAfter="3s")
        self.add_session("c6", type_="wayland")
        helper = self.start_helper("c6", session_type="wayland")
        self.assertEqual(helper.wait(timeout=TIMEOUT), 0)
        self.assertIn("not an X11 session", self.helper_output(helper))
        self.assertIn("no session bus", self.helper_output(helper))
        self.assertEqual(self.reports("c6"), [])
        self.assertEqual(self.session_status("c6")["deadline"], "")
        self.assertEqual(self.calls("c6", "Lock"), [])
