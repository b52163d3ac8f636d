# SPDX-License-Identifier: GPL-2.0-or-later
"""The recorder: records that pam_termguard.so, termguardctl and any local process hand to the
real termguardd over its record socket, the sender stamped from the kernel's peer credentials,
what a sender may submit, the spool while termguardd is down, and no acknowledged record lost
when termguardd is killed."""

import json
import os
import re
import signal
import shutil
import socket
import subprocess
import tempfile
import threading
import time

from gate_testbed import BUILD_DIR, NOBODY, TERMGUARDCTL, TIMEOUT, GateTestCase, keyboard, stick

PAM_LOGIN = os.path.join(BUILD_DIR, "tests", "pam-login")
PAM_MODULE = os.path.join(BUILD_DIR, "pam_module", "pam_termguard.so")
MFA_USER = "daemon"  # uid 1 on every Debian system

# A sender's script: hands one record (argv[2], JSON) to the socket argv[1], prints the answer.
SUBMIT = r"""
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
s.settimeout(10)
s.connect(sys.argv[1])
s.send(sys.argv[2].encode())
try:
    print(s.recv(4096).decode().strip())
except OSError as e:
    print("error", e)
"""


def record(type_, fields, producer="pam_termguard", priority=4, **extra):
    r = {"v": 1, "id": os.urandom(16).hex(), "type": type_, "priority": priority,
         "time": int(time.time() * 1e6), "producer": producer, "message": type_, "fields": fields}
    r.update(extra)
    return r


class RecordBase(GateTestCase):
    def setUp(self):
        super().setUp()
        # The spool must be below directories only root can write: not in /tmp.
        self.safe = tempfile.mkdtemp(prefix="tg-rec-", dir="/run")
        os.chmod(self.safe, 0o755)
        self.addCleanup(shutil.rmtree, self.safe, True)
        # The module and the login program as a user process can load them wherever the build
        # tree is (a home directory of mode 0700, say): copies beside the spool.
        self.pam_login_bin = os.path.join(self.safe, "pam-login")
        self.pam_module = os.path.join(self.safe, "pam_termguard.so")
        shutil.copy(PAM_LOGIN, self.pam_login_bin)
        shutil.copy(PAM_MODULE, self.pam_module)
        self.statedir = os.path.join(self.safe, "state")
        self.spooldir = os.path.join(self.statedir, "spool")
        self.write_config("[MFA]\nRequireUsers=%s\n" % MFA_USER)
        self.record_socket = os.path.join(self.rundir, "record.socket")
        self.pamdir = os.path.join(self.tmp, "pam.d")
        os.mkdir(self.pamdir, 0o755)
        for service in ("tgtest", "tgtest1", "tgtest2", "tgtest3"):
            with open(os.path.join(self.pamdir, service), "w") as f:
                f.write("auth required %s config=%s helper=/nonexistent/helper\n" % (self.pam_module, self.confdir))

    def submit(self, rec, uid=None):
        """Hands rec (a dict, or text) to termguardd as root or as uid; returns its answer."""
        text = rec if isinstance(rec, str) else json.dumps(rec)
        cmd = ["/usr/bin/python3", "-c", SUBMIT, self.record_socket, text]
        if uid is not None:
            cmd = ["setpriv", "--reuid=%d" % uid, "--regid=%d" % uid, "--clear-groups"] + cmd
        env = dict(os.environ)
        env.pop("LD_PRELOAD", None)
        r = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=30)
        self.assertEqual(r.returncode, 0, r.stderr)
        return r.stdout.strip()

    def pam_login(self, service="tgtest", uid=None):
        cmd = [self.pam_login_bin, self.pamdir, service, MFA_USER, "000000"]
        if uid is not None:
            cmd = ["setpriv", "--reuid=%d" % uid, "--regid=%d" % uid, "--clear-groups"] + cmd
        env = dict(os.environ)
        env.pop("LD_PRELOAD", None)
        return subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=30)

    def staff_log(self, uid, *args):
        """termguardctl log as uid (a real account of this system), through termguardd."""
        env = {k: v for k, v in os.environ.items() if k != "LD_PRELOAD"}
        return subprocess.run(["setpriv", "--reuid=%d" % uid, "--regid=%d" % uid, "--clear-groups",
                               TERMGUARDCTL, "--socket", self.socket, "log"] + list(args),
                              capture_output=True, timeout=30, env=dict(env, LC_ALL="C.UTF-8", LANGUAGE=""))

    def spool(self):
        """The spool's records waiting to be taken in (what is set aside is named bad-*)."""
        try:
            return sorted(n for n in os.listdir(self.spooldir) if re.fullmatch(r"[0-9]{20}-[0-9a-f]{32}\.rec", n))
        except FileNotFoundError:
            return []


class RecordTest(RecordBase):
    """Records handed in as they are mirrored to journald (and the daemon's stderr, which the
    tests read)."""

    def test_pam_module_records_arrive_with_the_sender_from_peer_credentials(self):
        """A login's record goes to termguardd, which stamps who sent it (uid, pid, command)
        from the kernel, keeps the producer's name for journald, and nothing is spooled."""
        self.start_daemon()
        r = self.pam_login()
        self.assertNotEqual(r.returncode, 0)  # not enrolled: refused
        ev = self.wait_event("mfa.failure", user=MFA_USER, service="tgtest")
        self.assertEqual(ev["via"], "socket")
        self.assertEqual(ev["sender_uid"], 0)
        self.assertEqual(ev["sender_comm"], "pam-login")
        self.assertEqual(ev["producer"], "pam_termguard")
        self.assertEqual(ev["detail"], "not-enrolled")
        self.assertEqual(ev["tty"], "pts/7")
        self.assertEqual(self.spool(), [])

    def test_screen_locker_records_carry_the_users_uid(self):
        """The module inside a user's process (a screen locker whose helper is missing) may report
        its failure; termguardd records it as that user's, not root's."""
        self.start_daemon()
        r = self.pam_login(uid=1)
        self.assertNotEqual(r.returncode, 0)
        ev = self.wait_event("mfa.failure", user=MFA_USER, via="socket")
        self.assertEqual(ev["sender_uid"], 1)
        self.assertIn("helper /nonexistent/helper failed", ev["detail"])

    def test_termguardctl_records_arrive_stamped(self):
        self.start_daemon()
        r = subprocess.run([TERMGUARDCTL, "--config", self.confdir, "mfa", "unlock", MFA_USER],
                           capture_output=True, text=True, timeout=30,
                           env={k: v for k, v in os.environ.items() if k != "LD_PRELOAD"})
        self.assertEqual(r.returncode, 0, r.stderr)
        ev = self.wait_event("mfa.unlock", user=MFA_USER)
        self.assertEqual((ev["via"], ev["sender_uid"], ev["sender_comm"], ev["producer"]),
                         ("socket", 0, "termguardctl", "termguardctl"))
        self.assertEqual(self.spool(), [])

    def test_a_sender_claimed_in_the_record_is_refused(self):
        """Over the socket the sender is the kernel's word: a record naming one is refused, and
        the refusal is on the record."""
        self.start_daemon()
        forged = record("mfa.success", {"user": MFA_USER}, priority=6,
                        sender={"uid": 0, "pid": 1, "comm": "sshd"})
        answer = self.submit(forged, uid=NOBODY)
        self.assertTrue(answer.startswith("refused"), answer)
        self.wait_event("record.refused")
        self.barrier()
        self.assertEqual(self.events("mfa.success"), [])
        # A record's own claims (producer) are kept as claims: the sender is still the kernel's.
        answer = self.submit(record("mfa.failure", {"user": "nobody", "detail": "forged"},
                                    producer="pam_termguard"), uid=NOBODY)
        self.assertEqual(answer, "ok")
        ev = self.wait_event("mfa.failure", detail="forged")
        self.assertEqual(ev["sender_uid"], NOBODY)

    def test_unprivileged_senders_cannot_submit_privileged_types(self):
        self.start_daemon()
        for type_, fields in (("mfa.success", {"user": MFA_USER}), ("mfa.unlock", {"user": MFA_USER}),
                              ("usb.decision", {"device": "1-1", "decision": "read-write"}),
                              ("journal.full", {}), ("daemon.stopping", {})):
            answer = self.submit(record(type_, fields), uid=NOBODY)
            self.assertTrue(answer.startswith("refused"), "%s: %s" % (type_, answer))
            self.assertIn("may not be submitted", answer)
        refusals = self.wait_event("record.refused")
        self.assertEqual(refusals["claimed_type"], "mfa.success")
        self.barrier()
        for type_ in ("mfa.success", "mfa.unlock", "usb.decision", "journal.full", "daemon.stopping"):
            self.assertEqual([e for e in self.events(type_) if e.get("via")], [], type_)
        # Root's processes may submit MFA records, but never the daemon's own.
        self.assertEqual(self.submit(record("mfa.success", {"user": MFA_USER}, priority=6)), "ok")
        self.assertTrue(self.submit(record("usb.decision", {"device": "1-1"})).startswith("refused"))

    def test_hostile_records_are_refused(self):
        self.start_daemon()
        # an empty message is no record: the connection just ends
        self.assertEqual(self.submit("", uid=NOBODY), "")
        for text in ("{", "[]", json.dumps(record("usb.bogus", {})),
                     json.dumps(record("mfa.failure", {"label": "x"})),
                     json.dumps(record("mfa.failure", {"user": "a\nMESSAGE_ID=0"})),
                     json.dumps(record("mfa.failure", {"user": "x" * 100000}))):
            answer = self.submit(text, uid=NOBODY)
            self.assertTrue(answer.startswith("refused") or answer.startswith("error"), repr(answer))
        self.barrier()
        self.assertEqual([e for e in self.events("mfa.failure") if e.get("via")], [])

    def test_a_user_cannot_flood_the_journal(self):
        self.start_daemon()
        answers = [self.submit(record("mfa.failure", {"user": "nobody", "detail": str(i)}), uid=NOBODY)
                   for i in range(35)]
        self.assertEqual(answers[:30], ["ok"] * 30)
        self.assertTrue(all(a.startswith("refused") for a in answers[30:]), answers[30:])
        # root's logins are not held back by it
        self.assertEqual(self.submit(record("mfa.failure", {"user": MFA_USER, "detail": "root"})), "ok")

    def test_records_spooled_while_down_arrive_in_order_after_restart(self):
        """With termguardd stopped, root's logins spool their records (root-only, one file a
        record); the next start takes them in, in order, and empties the spool. A user's process
        gets an error instead: it cannot write the spool."""
        self.start_daemon()
        self.stop_daemon()
        for service in ("tgtest1", "tgtest2", "tgtest3"):
            self.assertNotEqual(self.pam_login(service).returncode, 0)
        names = self.spool()
        self.assertEqual(len(names), 3)
        st = os.stat(self.spooldir)
        self.assertEqual((st.st_uid, st.st_mode & 0o777), (0, 0o700))
        for n in names:
            st = os.stat(os.path.join(self.spooldir, n))
            self.assertEqual((st.st_uid, st.st_mode & 0o777), (0, 0o600))
        self.assertNotEqual(self.pam_login("tgtest", uid=1).returncode, 0)
        self.assertEqual(len(self.spool()), 3)
        r = subprocess.run(["setpriv", "--reuid=%d" % NOBODY, "--regid=%d" % NOBODY, "--clear-groups",
                            TERMGUARDCTL, "--config", self.confdir, "mfa", "unlock", MFA_USER],
                           capture_output=True, text=True, timeout=30,
                           env={k: v for k, v in os.environ.items() if k != "LD_PRELOAD"})
        self.assertNotEqual(r.returncode, 0)
        # Files that are not a root producer's record are set aside, not taken in, and do not
        # stop the rest: an empty one, and one with a type only termguardd makes.
        empty = names[1][:20] + "-" + "e" * 32 + ".rec"
        with open(os.path.join(self.spooldir, empty), "w"):
            pass
        os.chmod(os.path.join(self.spooldir, empty), 0o600)
        bad = names[1][:20] + "-" + "f" * 32 + ".rec"
        with open(os.path.join(self.spooldir, bad), "w") as f:
            f.write(json.dumps(record("usb.decision", {"device": "1-9"}, sender={"uid": 0, "pid": 5, "comm": "x"})))
        os.chmod(os.path.join(self.spooldir, bad), 0o600)

        self.start_daemon()
        taken = self.wait_event("spool.taken-in")
        self.assertEqual(taken["records"], "3")
        services = [e["service"] for e in self.events("mfa.failure") if e.get("via") == "spool"]
        self.assertEqual(services, ["tgtest1", "tgtest2", "tgtest3"])
        for e in self.events("mfa.failure"):
            if e.get("via") == "spool":
                self.assertEqual((e["sender_uid"], e["sender_comm"]), (0, "pam-login"))
        self.assertEqual([e for e in self.events("usb.decision") if e.get("device") == "1-9"], [])
        self.assertEqual(self.spool(), [])
        self.assertIn("bad-" + bad, os.listdir(self.spooldir))
        self.assertIn("bad-" + empty, os.listdir(self.spooldir))
        self.assertTrue(self.events("record.refused"))
        # taken in once only: a restart finds nothing more
        self.stop_daemon()
        self.start_daemon()
        self.barrier()
        self.assertEqual(len([e for e in self.events("mfa.failure") if e.get("via") == "spool"]), 3)


class JournalRecordTest(RecordBase):
    """The same, with the audit journal created (termguardctl journal init): records are in the
    journal, durable, with the sender termguardd stamped; a full journal keeps storage blocked
    while logins go on."""

    def init_journal(self, extra=""):
        self.write_config("[MFA]\nRequireUsers=%s\n[Journal]\n%s" % (MFA_USER, extra))
        os.makedirs(self.statedir, mode=0o700, exist_ok=True)
        self.seed = os.path.join(self.safe, "seed")
        r = subprocess.run([TERMGUARDCTL, "--config", self.confdir, "journal", "init", "--seed-out", self.seed],
                           capture_output=True, text=True, timeout=30, env=self.client_env())
        self.assertEqual(r.returncode, 0, r.stderr)

    @staticmethod
    def client_env():
        return {k: v for k, v in os.environ.items() if k != "LD_PRELOAD"}

    def journal(self):
        r = subprocess.run([TERMGUARDCTL, "--config", self.confdir, "--json", "log"], capture_output=True, text=True,
                           timeout=30, env=self.client_env())
        self.assertEqual(r.returncode, 0, r.stderr)
        return [json.loads(line) for line in r.stdout.splitlines() if line.strip()]

    def test_a_user_speaks_only_for_themselves_and_now(self):
        """A user's process (a screen locker) reports its own user's failures only: a record
        naming a colleague would put failures and lockout alerts on their name. Its time is
        termguardd's clock, not the sender's word, and it is short."""
        self.init_journal()
        self.start_daemon()
        for fields in ({"user": MFA_USER}, {"user": "nobody", "actor": "root"}, {"user": "root"}):
            answer = self.submit(record("mfa.failure", dict(fields, detail="colleague")), uid=NOBODY)
            self.assertTrue(answer.startswith("refused"), answer)
            self.assertIn("not the sender's account", answer)
        answer = self.submit(record("mfa.failure", {"user": "nobody", "detail": "y" * 500, "service": "s" * 500,
                                                     "rhost": "r" * 500, "tty": "t" * 500}), uid=NOBODY)
        self.assertTrue(answer.startswith("refused record longer than a user may send"), answer)
        # a time from the far past or the last representable microsecond: stamped with now
        since = int(time.time() * 1e6)
        for claimed in (1, 253402300799999999):
            self.assertEqual(self.submit(record("mfa.failure", {"user": "nobody", "detail": "t%d" % claimed},
                                                time=claimed), uid=NOBODY), "ok")
        # a time no central store can hold is refused for everyone, root included
        for uid in (None, NOBODY):
            answer = self.submit(record("mfa.failure", {"user": "nobody", "detail": "year-10000"},
                                        time=253402300800000000), uid=uid)
            self.assertTrue(answer.startswith("refused"), answer)
        # root's producers keep their time (a login spooled while termguardd was down)
        self.assertEqual(self.submit(record("mfa.failure", {"user": MFA_USER, "detail": "root-time"},
                                            time=1000000)), "ok")
        self.wait_event("mfa.failure", detail="root-time")
        self.barrier()
        recs = [r for r in self.journal() if r["type"] == "mfa.failure"]
        self.assertNotIn("colleague", [r["fields"].get("detail") for r in recs])
        self.assertNotIn("year-10000", [r["fields"].get("detail") for r in recs])
        user_sent = [r for r in recs if r["fields"].get("detail", "").startswith("t")]
        self.assertEqual(len(user_sent), 2, recs)
        for r in user_sent:
            self.assertEqual(r["uid"], NOBODY)
            self.assertGreaterEqual(r["time_usec"], since)
            self.assertLess(r["time_usec"], 253402300799999999)
        self.assertEqual([r["time_usec"] for r in recs if r["fields"].get("detail") == "root-time"], [1000000])

    def test_records_are_in_the_journal_with_the_stamped_sender(self):
        self.init_journal()
        self.start_daemon()
        self.assertEqual(self.ctl_json("status")["journal"], "ok")
        self.assertNotEqual(self.pam_login().returncode, 0)
        ev = self.wait_event("mfa.failure", user=MFA_USER, via="socket")
        recs = {r["seq"]: r for r in self.journal()}
        rec = recs[ev["seq"]]  # the mirror names the journal's seq
        self.assertEqual(rec["type"], "mfa.failure")
        self.assertEqual((rec["uid"], rec["comm"]), (0, "pam-login"))
        self.assertEqual(rec["fields"]["producer"], "pam_termguard")
        self.assertEqual(rec["fields"]["via"], "socket")
        self.assertEqual(rec["fields"]["user"], MFA_USER)
        self.assertEqual(rec["fields"]["record_id"], ev["record_id"])
        started = [r for r in recs.values() if r["type"] == "daemon.started"]
        self.assertEqual([(r["uid"], r["comm"]) for r in started], [(0, "termguardd")])
        # a forged record is not in the journal, its refusal is
        self.submit(record("mfa.success", {"user": MFA_USER}, sender={"uid": 0, "pid": 1, "comm": "sshd"}),
                    uid=NOBODY)
        self.wait_event("record.refused")
        types = [r["type"] for r in self.journal()]
        self.assertNotIn("mfa.success", types)
        self.assertIn("record.refused", types)
        # a checkpoint at shutdown, and the whole journal verifies with the auditors' seed
        self.stop_daemon()
        last = self.journal()[-1]
        self.assertEqual(last["type"], "journal.checkpoint")
        cp = self.events("journal.checkpoint")[-1]
        r = subprocess.run([TERMGUARDCTL, "--config", self.confdir, "verify", "--key", self.seed, "--checkpoint",
                            "%s:%s" % (cp["head_seq"], cp["head_mac"])],
                           capture_output=True, text=True, timeout=60, env=self.client_env())
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)

    def test_checkpoints_follow_the_configured_interval(self):
        self.init_journal("CheckpointInterval=10s\n")
        self.start_daemon()
        first = self.wait_for(lambda: self.events("journal.checkpoint"), "a checkpoint on the timer",
                              timeout=max(30, TIMEOUT))
        self.assertTrue(any(r["type"] == "journal.checkpoint" and str(r["seq"]) == first[0]["head_seq"]
                            for r in self.journal()))

    def test_full_journal_keeps_storage_blocked_and_logins_going(self):
        """At the cap: the decision on a registered stick cannot be recorded, so its storage is
        not admitted; the journal says once that it is full (in the reserve); MFA records go to
        the reserve, then, once that is full too, to the spool, and logins are not held up."""
        self.init_journal("MaxUse=64K\n")
        s = stick()
        self.start_daemon()
        self.register(s, "USB-SOUMU-01")
        # Fill the journal with what any attached keyboard records.
        for i in range(400):
            if self.ctl_json("status")["journal"] == "full":
                break
            kb = keyboard(devnum=3 + i % 100)
            self.plug(kb)
            self.wait_event("usb.decision", device=kb.name, trigger="attach")
            self.unplug(kb)
            self.barrier()
        st = self.ctl_json("status")
        self.assertEqual(st["journal"], "full")
        self.assertTrue(self.events("journal.near-cap"))
        self.assertEqual(len(self.events("journal.full")), 1)
        self.assertIn("journal.full", [r["type"] for r in self.journal()])  # in the reserve
        status = self.ctl("status")
        self.assertIn(b"FULL", status.stdout)

        self.plug(s)
        ev = self.wait_event("usb.decision", device=s.name, decision="blocked")
        self.assertIn("could not be recorded", ev["message"])
        self.barrier()
        self.assertEqual(self.attr(s.interface_path(0), "authorized"), "0")
        self.assertNotIn(s.name + ":1.0", self.probes())

        # MFA: into the reserve while it lasts ...
        self.assertNotEqual(self.pam_login("tgtest1").returncode, 0)
        self.wait_event("mfa.failure", service="tgtest1", via="socket")
        for i in range(200):
            if self.submit(record("mfa.success", {"user": MFA_USER, "detail": "fill %d" % i}, priority=6)) != "ok":
                break
        else:
            self.fail("the reserve never filled")
        # ... then into the spool: not confirmed, so the login's module spools it and goes on.
        self.assertNotEqual(self.pam_login("tgtest2").returncode, 0)
        self.assertEqual(len(self.spool()), 1)

    def write_spool_file(self, rec, tmp_first=True):
        """Writes rec into the spool as a root producer does: under a temporary name, then
        renamed (tmp_first), or in place. Returns its spool name."""
        os.makedirs(self.spooldir, mode=0o700, exist_ok=True)
        rec = dict(rec, sender={"uid": 0, "pid": os.getpid(), "comm": "pam-login"})
        name = "%020d-%s.rec" % (rec["time"], rec["id"])
        path = os.path.join(self.spooldir, ("." + name + ".tmp") if tmp_first else name)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        os.write(fd, json.dumps(rec).encode())
        os.fsync(fd)
        os.close(fd)
        if tmp_first:
            os.rename(path, os.path.join(self.spooldir, name))
        return name

    def test_records_spooled_while_running_are_taken_in_without_a_restart(self):
        """The spool is watched: a record that lands in it while termguardd runs (a producer
        that gave up waiting) goes into the journal at once, and leaves the spool."""
        self.init_journal()
        self.start_daemon()
        self.assertEqual(self.ctl_json("status")["spool_waiting"], 0)
        self.write_spool_file(record("mfa.failure", {"user": MFA_USER, "detail": "renamed"}))
        ev = self.wait_event("mfa.failure", detail="renamed")
        self.assertEqual((ev["via"], ev["sender_uid"]), ("spool", 0))
        self.wait_for(lambda: self.spool() == [], "the spool to be empty")
        # written in place, closed: taken in too
        self.write_spool_file(record("mfa.failure", {"user": MFA_USER, "detail": "in-place"}), tmp_first=False)
        self.wait_event("mfa.failure", detail="in-place")
        self.wait_for(lambda: self.spool() == [], "the spool to be empty")
        # a file that is no root producer's record is set aside, once, and the watch goes on
        bad = self.write_spool_file(record("usb.decision", {"device": "1-9"}, producer="termguardd"))
        self.wait_for(lambda: "bad-" + bad in os.listdir(self.spooldir), "the bad file set aside")
        self.write_spool_file(record("mfa.failure", {"user": MFA_USER, "detail": "after"}))
        self.wait_event("mfa.failure", detail="after")
        self.barrier()
        self.assertEqual([e for e in self.events("usb.decision") if e.get("device") == "1-9"], [])
        # the spool directory removed by hand: made anew and watched again
        shutil.rmtree(self.spooldir)
        self.wait_for(lambda: os.path.isdir(self.spooldir), "the spool made anew")
        self.write_spool_file(record("mfa.failure", {"user": MFA_USER, "detail": "new-dir"}))
        self.wait_event("mfa.failure", detail="new-dir")
        details = [r["fields"].get("detail") for r in self.journal() if r["type"] == "mfa.failure"]
        self.assertEqual(details, ["renamed", "in-place", "after", "new-dir"])

    def test_a_login_that_gave_up_waiting_is_recorded_once(self):
        """termguardd held up (SIGSTOP) while logins happen: each login spools its record after
        200 ms, and its connection is still queued. Once termguardd goes on, each record is in
        the journal exactly once, whichever copy it read first, and the spool is empty."""
        self.init_journal()
        self.start_daemon()
        os.kill(self.daemon.pid, signal.SIGSTOP)
        try:
            for service in ("tgtest1", "tgtest2"):
                self.assertNotEqual(self.pam_login(service).returncode, 0)
            self.assertEqual(len(self.spool()), 2)
        finally:
            os.kill(self.daemon.pid, signal.SIGCONT)
        self.wait_for(lambda: self.spool() == [], "the spool to be taken in")
        self.barrier()
        services = [r["fields"].get("service") for r in self.journal() if r["type"] == "mfa.failure"]
        self.assertEqual(sorted(services), ["tgtest1", "tgtest2"])

    def staff_records(self, uid, *args):
        r = self.staff_log(uid, "--json", *args)
        self.assertEqual(r.returncode, 0, r.stderr)
        return [json.loads(line) for line in r.stdout.decode().splitlines() if line.strip()]

    def test_a_user_cannot_keep_termguardd_searching(self):
        """Each search of a user's own records holds termguardd's loop for a moment: a user asking
        again and again is told to wait once the budget is spent; others are not held back."""
        self.init_journal()
        self.start_daemon()
        # 10 at once, then one a second: 40 in a row outrun the budget unless each took a second
        answers = []
        while len(answers) < 40 and (not answers or answers[-1].returncode == 0):
            answers.append(self.staff_log(NOBODY, "--json"))
        self.assertNotEqual(answers[-1].returncode, 0, "no search was refused")
        self.assertIn(b"too many searches", answers[-1].stderr)
        self.assertGreaterEqual(len(answers), 11)
        self.assertEqual(self.staff_log(2, "--json").returncode, 0)  # another user
        self.assertEqual(self.ctl_json("status")["journal"], "ok")  # root

    def test_staff_read_only_their_own_records(self):
        """A user who is not root asks termguardd and gets the records they sent (sender uid)
        and the records about them (user), nobody else's, every value escaped and bounded."""
        self.init_journal()
        self.start_daemon()
        daemon_uid, bin_uid = 1, 2  # the accounts "daemon" and "bin" of every Debian system
        self.assertNotEqual(self.pam_login("tgtest1", uid=daemon_uid).returncode, 0)  # sent by daemon
        self.assertEqual(self.submit(record("mfa.failure", {"user": "daemon", "detail": "about-daemon"})),
                         "ok")  # about daemon, sent by root
        self.assertEqual(self.submit(record("mfa.failure", {"user": "bin", "detail": "x" * 1500}),
                                     uid=bin_uid), "ok")
        # hostile text never gets in: what a user reads was escaped when it was recorded, and again
        self.assertTrue(self.submit(record("mfa.failure", {"user": "bin", "detail": "\u202e\u0007bell"}),
                                    uid=bin_uid).startswith("refused"))
        self.assertEqual(self.submit(record("mfa.failure", {"user": "bin", "detail": "root-said"})), "ok")
        self.wait_event("mfa.failure", detail="about-daemon")
        self.barrier()

        mine = self.staff_records(daemon_uid)
        self.assertEqual(sorted(r["fields"].get("detail", "") for r in mine if r["type"] == "mfa.failure"),
                         sorted(["about-daemon"] + [r["fields"]["detail"] for r in mine
                                                    if r["fields"].get("service") == "tgtest1"]))
        self.assertTrue(any(r["fields"].get("service") == "tgtest1" and r["uid"] == daemon_uid for r in mine))
        for r in mine:
            self.assertTrue(r["uid"] == daemon_uid or r["fields"].get("user") == "daemon", r)
        self.assertNotIn("daemon.started", [r["type"] for r in mine])  # termguardd's own, nobody's

        theirs = self.staff_records(bin_uid)
        self.assertEqual(len(theirs), 2, theirs)
        long_ = [r["fields"]["detail"] for r in theirs if r["fields"]["detail"].startswith("xxx")][0]
        self.assertLess(len(long_), 1500)  # bounded
        self.assertIn("root-said", [r["fields"]["detail"] for r in theirs])
        for r in theirs + mine:
            for v in list(r["fields"].values()) + [r["comm"], r["type"]]:
                self.assertTrue(all(ord(c) >= 0x20 and c not in "\u202e\x7f" for c in v), repr(v))

        # the table and CSV forms hold the same records only
        r = self.staff_log(bin_uid)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertNotIn(b"about-daemon", r.stdout)
        self.assertEqual(r.stdout.decode().splitlines()[0].split()[:4], ["TIME", "(UTC)", "SEQ", "TYPE"])
        r = self.staff_log(bin_uid, "--csv")
        self.assertTrue(r.stdout.startswith(b"\xef\xbb\xbf\"seq\","), r.stdout[:20])
        self.assertEqual(len(r.stdout.decode("utf-8-sig").strip().splitlines()), 3)
        # filters apply to their own records only
        self.assertEqual(self.staff_records(bin_uid, "--type", "usb.*"), [])
        self.assertEqual(self.staff_records(daemon_uid, "--user", "bin"), [])
        self.assertEqual(self.staff_records(daemon_uid, "--since", "2000-01-01T00:00:00Z",
                                            "--until", "2000-01-02T00:00:00Z"), [])

        # bad input: a time that is none is refused before anything is asked
        r = self.staff_log(bin_uid, "--since", "yesterday")
        self.assertEqual(r.returncode, 2, r.stderr)
        # termguardd down: said so, nothing listed
        self.stop_daemon()
        r = self.staff_log(bin_uid)
        self.assertEqual(r.returncode, 3, r.stderr)
        self.assertIn(b"cannot reach termguardd", r.stderr)
        self.assertEqual(r.stdout, b"")

    def test_kill_9_loses_no_acknowledged_record(self):
        """termguardd killed with SIGKILL during bursts of records, again and again: every record
        it answered "ok" is in the journal (a producer that got no answer spools its own), and
        the journal verifies."""
        acked = []
        lock = threading.Lock()

        def burst(stop):
            while not stop.is_set():
                rec = record("mfa.failure", {"user": MFA_USER})
                s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
                s.settimeout(2)
                try:
                    s.connect(self.record_socket)
                    s.send(json.dumps(rec).encode())
                    if s.recv(64).strip() == b"ok":
                        with lock:
                            acked.append(rec["id"])
                except OSError:
                    time.sleep(0.001)
                finally:
                    s.close()

        self.init_journal()
        kills = int(os.environ.get("TG_IT_KILLS", "100"))
        for i in range(kills):
            self.start_daemon()
            stop = threading.Event()
            threads = [threading.Thread(target=burst, args=(stop,)) for _ in range(2)]
            for t in threads:
                t.start()
            time.sleep(0.02 * (i % 5))  # kill at different points of the burst
            self.daemon.kill()
            self.daemon.wait()
            self.daemon = None
            stop.set()
            for t in threads:
                t.join()
        journaled = {r["fields"].get("record_id") for r in self.journal() if r["type"] == "mfa.failure"}
        mirrored = {e.get("record_id") for e in self.events("mfa.failure")}
        self.assertGreater(len(acked), kills)
        recorded = journaled
        missing = [i for i in acked if i not in recorded]
        self.assertEqual(missing, [], "%d of %d acknowledged records lost" % (len(missing), len(acked)))
        self.assertEqual([i for i in acked if i not in mirrored], [])
        # and the journal that survived all this is intact
        r = subprocess.run([TERMGUARDCTL, "--config", self.confdir, "verify", "--key", self.seed],
                           capture_output=True, text=True, timeout=120, env=self.client_env())
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)


class NoJournalTest(RecordBase):
    """A terminal whose audit journal was never created (termguardctl journal init not run):
    journald alone is no audit record, so storage stays blocked, with the reason in the
    decision, in status and on the console; logins go on and their records wait in the spool.
    Once the journal is created and termguardd reloaded, storage is admitted and the spool is
    taken in."""

    init_journal_at_start = False

    def test_storage_blocked_and_logins_spooled_until_the_journal_is_created(self):
        s = stick()
        self.plug(s, with_interfaces=False)
        self.start_daemon()
        self.assertEqual(self.ctl_json("status")["journal"], "not-initialised")
        out = self.ctl_ok("status").stdout.decode()
        self.assertIn("NOT CREATED: storage stays blocked until termguardctl journal init", out)
        with open(self.errlog, encoding="utf-8", errors="replace") as f:
            self.assertIn("No audit journal in %s/journal: USB storage stays blocked" % self.statedir, f.read())
        self.assertTrue(self.events("journal.unwritable", error="the audit journal was never created "
                                    "(termguardctl journal init)"))

        # a registered medium: its decision cannot be recorded, so it is not admitted
        self.register(s, "USB-KEIRI-01")
        ev = self.wait_event("usb.decision", device=s.name, trigger="register-change")
        self.assertEqual(ev["decision"], "blocked")
        self.assertIn("could not be recorded (the audit journal was never created", ev["message"])
        self.barrier()
        self.assertEqual(self.attr(s.syspath, "authorized"), "0")

        # a login goes on as before; its record waits in the spool, not only in journald
        self.assertNotEqual(self.pam_login("tgtest1").returncode, 0)
        self.assertEqual(len(self.spool()), 1)
        self.barrier()
        self.assertEqual(self.ctl_json("status")["spool_waiting"], 1)  # not taken in: no journal
        self.assertRegex(self.ctl_ok("status").stdout.decode(), r"records waiting in the spool: +1\n")

        # the administrator creates the journal and reloads: storage admitted, spool taken in
        self.init_journal_once()
        self.daemon.send_signal(signal.SIGHUP)
        self.wait_attr(s.syspath, "authorized", "1")
        self.assertEqual(self.ctl_json("status")["journal"], "ok")
        self.wait_event("spool.taken-in", records="1")
        self.assertEqual(self.spool(), [])
        self.assertEqual(self.ctl_json("status")["spool_waiting"], 0)
        r = subprocess.run([TERMGUARDCTL, "--config", self.confdir, "--json", "log"], capture_output=True,
                           text=True, timeout=30, env={k: v for k, v in os.environ.items() if k != "LD_PRELOAD"})
        self.assertEqual(r.returncode, 0, r.stderr)
        recs = [json.loads(line) for line in r.stdout.splitlines() if line.strip()]
        self.assertIn(("mfa.failure", "tgtest1", "spool"),
                      [(x["type"], x["fields"].get("service"), x["fields"].get("via")) for x in recs])
        admitted = [x for x in recs if x["type"] == "usb.decision" and x["fields"].get("device") == s.name]
        self.assertTrue(admitted)
        self.assertEqual(admitted[-1]["fields"]["decision"], "read-only")

    def test_an_empty_journal_directory_keeps_storage_blocked(self):
        """A journal directory without its key state and segments (a failed restore, say) is
        no journal: storage stays blocked."""
        os.makedirs(os.path.join(self.statedir, "journal"), mode=0o700)
        s = stick()
        self.plug(s, with_interfaces=False)
        self.start_daemon()
        self.assertIn(self.ctl_json("status")["journal"], ("not-initialised", "unwritable"))
        self.register(s, "USB-KEIRI-01")
        ev = self.wait_event("usb.decision", device=s.name, trigger="register-change")
        self.assertEqual(ev["decision"], "blocked")
        self.assertEqual(self.attr(s.syspath, "authorized"), "0")

    def test_staff_without_a_journal_are_told_why(self):
        self.start_daemon()
        r = self.staff_log(1)
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn(b"never created", r.stderr)
        self.assertEqual(r.stdout, b"")
