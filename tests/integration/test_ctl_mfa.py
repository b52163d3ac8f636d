# SPDX-License-Identifier: GPL-2.0-or-later
"""termguardctl mfa: enrollment with a real authenticator computation (oathtool), status,
recovery codes, unlock, reset, and refusals."""
import fcntl
import json
import os
import pwd
import re
import shutil
import socket
import subprocess
import tempfile
import time
import unittest

BUILD = os.environ["TG_BUILD_DIR"]
CTL = os.path.join(BUILD, "ctl", "termguardctl")
USER = "daemon"  # exists on every Debian system
# Runs a command with journald's socket replaced by the directory given after it (the test's
# own socket), in a private mount namespace.
JOURNAL_WRAP = ["unshare", "--mount", "--propagation", "private", "sh", "-c",
                'mkdir -p /run/systemd/journal && mount --bind "$0" /run/systemd/journal && exec "$@"']


class CtlMfaTest(unittest.TestCase):
    def setUp(self):
        # not in /tmp: every directory above the MFA state directory must be root's alone
        self.tmp = tempfile.mkdtemp(prefix="tg-ctlmfa-", dir="/run")
        self.conf = os.path.join(self.tmp, "conf")
        os.makedirs(self.conf)
        os.chmod(self.tmp, 0o755)
        self.state = os.path.join(self.tmp, "state")
        with open(os.path.join(self.conf, "termguard.conf"), "w") as f:
            f.write("[Daemon]\nStateDirectory=%s\n[MFA]\nRequireUsers=%s\n" % (self.state, USER))

    def tearDown(self):
        shutil.rmtree(self.tmp)

    def ctl(self, *args, input=None, user=None, journal=None, env=None):
        cmd = [CTL, "--config", self.conf] + list(args)
        if user:
            cmd = ["setpriv", "--reuid=%d" % user, "--regid=%d" % user, "--clear-groups"] + cmd
        if journal:
            cmd = JOURNAL_WRAP + [journal] + cmd
        return subprocess.run(cmd, input=input, capture_output=True, text=True, timeout=30,
                              env=dict(os.environ, LC_ALL="C.UTF-8", LANGUAGE="", **(env or {})))

    def journal(self):
        """A socket where journald's would be; returns (directory, socket)."""
        d = os.path.join(self.tmp, "journal")
        os.makedirs(d)
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        sock.bind(os.path.join(d, "socket"))
        sock.setblocking(False)
        self.addCleanup(sock.close)
        return d, sock

    @staticmethod
    def records(sock):
        out = []
        while True:
            try:
                data = sock.recv(65536)
            except BlockingIOError:
                return out
            out.append(dict(line.split("=", 1) for line in data.decode().split("\n") if "=" in line))

    def status(self):
        r = self.ctl("--json", "mfa", "status", USER)
        self.assertEqual(r.returncode, 0, r.stderr)
        return json.loads(r.stdout)

    def start_enroll(self, wrap=()):
        """Starts enrollment (under WRAP, a command prefix) and reads up to the code prompt:
        returns the process, what it printed and the code for the key it showed."""
        p = subprocess.Popen(list(wrap) + [CTL, "--config", self.conf, "mfa", "enroll", USER],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        out = ""
        while "confirm: " not in out:
            ch = p.stdout.read(1)
            if not ch:
                break
            out += ch
        m = re.search(r"Key: ([A-Z2-7]+)", out)
        code = subprocess.run(["oathtool", "--totp", "-b", m.group(1)], capture_output=True, text=True,
                              check=True).stdout.strip() if m else ""
        return p, out, code

    def enroll(self):
        p, out, code = self.start_enroll()
        m = re.search(r"Key: ([A-Z2-7]+)", out)
        self.assertIsNotNone(m, out)
        uri = re.search(r"(otpauth://\S+)", out).group(1)
        rest, err = p.communicate(code + "\n", timeout=30)
        p.stdout.close()
        p.stderr.close()
        return p.returncode, out + rest, err, uri, m.group(1)

    def test_enroll_confirm_status_reset(self):
        self.assertFalse(self.status()["enrolled"])
        rc, out, err, uri, key = self.enroll()
        self.assertEqual(rc, 0, err)
        self.assertIn("is enrolled", out)
        self.assertEqual(uri, "otpauth://totp/termguard:%s?secret=%s&issuer=termguard&algorithm=SHA1"
                         "&digits=6&period=30" % (USER, key))
        self.assertEqual(len(key), 32, "160-bit secret")
        codes = re.findall(r"^  ([A-Z2-9]{5}-[A-Z2-9]{5})$", out, re.M)
        self.assertEqual(len(set(codes)), 10, "recovery codes come with the enrollment")
        self.assertEqual(self.status()["recovery_codes_left"], 10)
        self.assertIn("\u2588", out, "a QR code was drawn")
        st = self.status()
        self.assertTrue(st["enrolled"])
        self.assertTrue(st["required"])
        # the state is root-only
        f = os.path.join(self.state, "mfa", USER + ".json")
        self.assertEqual(os.stat(f).st_mode & 0o7777, 0o600)
        self.assertEqual(os.stat(os.path.dirname(f)).st_mode & 0o7777, 0o700)
        # enrolling twice is refused
        r = self.ctl("mfa", "enroll", USER, input="")
        self.assertEqual(r.returncode, 1)
        self.assertIn("already enrolled", r.stderr)
        r = self.ctl("mfa", "reset", USER)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertFalse(self.status()["enrolled"])

    def test_enrollment_does_not_hold_the_user_waiting(self):
        """While the administrator reads the QR code, the user's state is not locked: logins
        (here: status, which takes the same lock) go on."""
        p, out, code = self.start_enroll()
        try:
            r = self.ctl("--json", "mfa", "status", USER)  # 30 s timeout: raises if it waits
            self.assertEqual(r.returncode, 0, r.stderr)
            # nothing is saved before the confirmation
            f = os.path.join(self.state, "mfa", USER + ".json")
            if os.path.exists(f):
                with open(f) as fh:
                    d = json.load(fh)
            else:
                d = None
            rest, err = p.communicate(code + "\n", timeout=30)
        finally:
            if p.poll() is None:
                p.kill()
            p.stdout.close()
            p.stderr.close()
        self.assertEqual(p.returncode, 0, err)
        self.assertIsNone(d, "nothing saved before the confirmation")
        self.assertTrue(self.status()["enrolled"])

    def test_busy_state_is_an_error_not_a_wait(self):
        """A process that keeps the user's lock (stopped or stuck while holding it) makes the
        commands fail with 'busy' after a bounded wait instead of waiting with it."""
        self.assertEqual(self.enroll()[0], 0)
        with open(os.path.join(self.state, "mfa", USER + ".lock"), "r+") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            r = self.ctl("mfa", "status", USER)  # 30 s timeout: raises if it waits
            self.assertEqual(r.returncode, 1)
            self.assertIn("busy", r.stderr)
            r = self.ctl("mfa", "unlock", USER)
            self.assertEqual(r.returncode, 1)
            self.assertIn("busy", r.stderr)
        self.assertTrue(self.status()["enrolled"])

    def test_wrong_confirmation_saves_nothing(self):
        r = self.ctl("mfa", "enroll", USER, input="000000\n111111\nabc\n")
        self.assertEqual(r.returncode, 1)
        self.assertIn("nothing was saved", r.stderr)
        self.assertFalse(self.status()["enrolled"])

    def test_old_format_recovery_codes_are_reported_until_reissued(self):
        """A state of the first format (one SHA-256 salt for all codes): its codes no longer
        work; status says so and how to fix it; new codes replace them."""
        self.assertEqual(self.enroll()[0], 0)
        f = os.path.join(self.state, "mfa", USER + ".json")
        with open(f) as fh:
            d = json.load(fh)
        d["version"] = 1
        del d["recovery_old_format"]
        d["recovery_salt"] = "00112233445566778899aabbccddeeff"
        d["recovery"] = ["%064x" % i for i in range(3)]
        with open(f, "w") as fh:
            json.dump(d, fh)
        st = self.status()
        self.assertEqual(st["recovery_codes_old_format"], 3)
        self.assertEqual(st["recovery_codes_left"], 0)
        r = self.ctl("mfa", "status", USER)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("3 recovery codes of an old format are no longer accepted", r.stdout)
        self.assertIn("termguardctl mfa recovery-codes %s" % USER, r.stdout)
        r = self.ctl("mfa", "recovery-codes", USER)
        self.assertEqual(r.returncode, 0, r.stderr)
        st = self.status()
        self.assertEqual(st["recovery_codes_old_format"], 0)
        self.assertEqual(st["recovery_codes_left"], 10)
        with open(f) as fh:
            text = fh.read()
        self.assertNotIn("recovery_salt", text)
        self.assertNotIn("old format", self.ctl("mfa", "status", USER).stdout)

    def test_recovery_codes_and_unlock(self):
        self.assertEqual(self.enroll()[0], 0)
        r = self.ctl("mfa", "recovery-codes", USER)
        self.assertEqual(r.returncode, 0, r.stderr)
        codes = re.findall(r"^  ([A-Z2-9]{5}-[A-Z2-9]{5})$", r.stdout, re.M)
        self.assertEqual(len(codes), 10)
        self.assertEqual(len(set(codes)), 10)
        self.assertEqual(self.status()["recovery_codes_left"], 10)
        f = os.path.join(self.state, "mfa", USER + ".json")
        with open(f) as fh:
            text = fh.read()
        for c in codes:
            self.assertNotIn(c, text, "only hashes of recovery codes are stored")
        # a lock as the PAM module leaves it after the attempt limit
        d = json.loads(text)
        d["failures"], d["locked_until"] = 5, int(time.time()) + 900
        with open(f, "w") as fh:
            json.dump(d, fh)
        st = self.status()
        self.assertTrue(st["locked"])
        r = self.ctl("mfa", "unlock", USER)
        self.assertEqual(r.returncode, 0, r.stderr)
        st = self.status()
        self.assertFalse(st["locked"])
        self.assertEqual(st["failures"], 0)

    def spooled(self):
        """The records termguardctl spooled (no termguardd runs here), oldest first; each is
        taken out of the spool as termguardd would."""
        d = os.path.join(self.state, "spool")
        out = []
        for name in sorted(os.listdir(d)) if os.path.isdir(d) else []:
            path = os.path.join(d, name)
            st = os.lstat(path)
            self.assertEqual((st.st_uid, st.st_mode & 0o777), (0, 0o600), name)
            with open(path) as f:
                out.append(json.load(f))
            os.unlink(path)
        return out

    def test_admin_actions_are_events(self):
        """enroll, recovery-codes, unlock and reset: one record each, of the catalogue's type and
        with who acted (the account and, for root, the login user from the audit login uid; never
        SUDO_USER, which anyone can set). With termguardd down they are spooled (root only) for
        it to take in, and nothing goes to journald directly: journald is termguardd's mirror."""
        with open("/proc/self/loginuid") as f:
            luid = int(f.read())
        if luid in (0, 4294967295):
            actor = "root"
        else:
            try:
                actor = "root (login %s)" % pwd.getpwuid(luid).pw_name
            except KeyError:
                actor = "root (login uid %d)" % luid
        d, sock = self.journal()
        self.assertEqual(self.enroll()[0], 0)  # not through the capture: checked via the others
        self.assertEqual([r["type"] for r in self.spooled()], ["mfa.enroll"])
        for action in ("recovery-codes", "unlock", "reset"):
            r = self.ctl("mfa", action, USER, journal=d, env={"SUDO_USER": "admin1"})
            self.assertEqual(r.returncode, 0, r.stderr)
            recs = self.spooled()
            self.assertEqual(len(recs), 1, recs)
            rec = recs[0]
            self.assertEqual(rec["type"], "mfa." + action)
            self.assertEqual(rec["fields"]["user"], USER)
            self.assertEqual(rec["fields"]["actor"], actor)
            self.assertEqual(rec["producer"], "termguardctl")
            self.assertEqual(rec["sender"]["uid"], 0)
            self.assertEqual(self.records(sock), [])
        # enrollment, and a refused command records nothing
        p, out, code = self.start_enroll(JOURNAL_WRAP + [d])
        p.communicate(code + "\n", timeout=30)
        self.assertEqual(p.returncode, 0)
        self.assertEqual([r["type"] for r in self.spooled()], ["mfa.enroll"])
        r = self.ctl("mfa", "unlock", USER, user=65534, journal=d)
        self.assertNotEqual(r.returncode, 0)
        self.assertEqual(self.spooled(), [])
        self.assertEqual(self.records(sock), [])

    def test_require_users_that_covers_nobody_is_reported(self):
        """A RequireUsers name that is no account is reported with every mfa command: the PAM
        module refuses every login until it is fixed. The command itself still works."""
        r = self.ctl("mfa", "status", USER)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertNotIn("warning", r.stderr)
        with open(os.path.join(self.conf, "termguard.conf"), "w") as f:
            f.write("[Daemon]\nStateDirectory=%s\n[MFA]\nRequireUsers=%s no-such-user-xyz\n" % (self.state, USER))
        r = self.ctl("mfa", "status", USER)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("termguardctl: warning: [MFA] RequireUsers: no-such-user-xyz: no such user; every login "
                      "through pam_termguard is refused until this is fixed.", r.stderr)

    def test_refusals(self):
        r = self.ctl("mfa", "status", USER, user=65534)
        self.assertEqual(r.returncode, 4, "non-root is refused")
        r = self.ctl("mfa", "enroll", "no-such-user-xyz", input="")
        self.assertEqual(r.returncode, 1)
        r = self.ctl("mfa", "enroll", "../../etc/passwd", input="")
        self.assertEqual(r.returncode, 1)
        r = self.ctl("mfa", "reset", USER)
        self.assertEqual(r.returncode, 1, "nothing to reset")
        r = self.ctl("mfa", "frobnicate", USER)
        self.assertEqual(r.returncode, 2)
        # an unsafe state directory is an error, not 'not enrolled'
        self.assertEqual(self.enroll()[0], 0)
        os.chmod(os.path.join(self.state, "mfa"), 0o755)
        r = self.ctl("mfa", "status", USER)
        self.assertEqual(r.returncode, 1)
        self.assertIn("0700", r.stderr)


if __name__ == "__main__":
    unittest.main()
