# SPDX-License-Identifier: GPL-2.0-or-later
"""Central verification and alerts on a real PostgreSQL 15 server: terminals' journals made by
lib's journal (journal-batch, keyed by the seeds enrolment escrowed), ingested over TLS with
each terminal's certificate, then altered as a database administrator could. termguard-central
verify must name each host and its first bad record and exit 5; termguard-central watch must
send each alert to its hook (the alert as JSON on stdin) and to the log with a stable
MESSAGE_ID."""
import datetime
import json
import os
import select
import subprocess
import tempfile
import time
import unittest

from central_testbed import BUILD, SUPERUSER, CentralTestCase

JOURNAL_BATCH = os.path.join(BUILD, "tests", "central", "journal-batch")
HOOK = os.path.join(os.path.dirname(os.path.abspath(__file__)), "alert-hook.py")
NOT_INTACT = 5
WAIT = 60  # seconds an expected alert may take at most (a deadline, not a pause)


class Terminal:
    """An enrolled terminal: its bundle, its journal, what it has forwarded."""

    def __init__(self, case, department, hostname):
        self.case = case
        self.bundle = case.central.enroll(department, hostname)
        self.dir = tempfile.mkdtemp(prefix="journal-", dir=case.tmp)
        self.journal = os.path.join(self.dir, "j")
        self.sent = 0
        self.jb("init", self.bundle.path)

    def jb(self, *args):
        r = subprocess.run([JOURNAL_BATCH, self.journal] + list(args), capture_output=True, text=True, timeout=60)
        self.case.assertEqual(r.returncode, 0, r.stderr)
        return r.stdout

    def append(self, n, type_="usb.decision", time_usec=None):
        env = dict(os.environ, JOURNAL_BATCH_TIME_USEC=str(time_usec)) if time_usec else None
        r = subprocess.run([JOURNAL_BATCH, self.journal, "append", str(n), type_], capture_output=True, text=True,
                           timeout=60, env=env)
        self.case.assertEqual(r.returncode, 0, r.stderr)

    def checkpoint(self):
        self.jb("checkpoint")

    def forward(self):
        """Sends what is not sent yet, as the forwarder would; returns the batch."""
        batch = json.loads(self.jb("batch", str(self.sent + 1)))
        r = self.bundle.ingest(batch)
        self.case.assertEqual(r.returncode, 0, r.stderr)
        self.sent = batch[-1]["seq"]
        return batch


class VerifyTest(CentralTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.hosts = {}

    def terminal(self, name, department="総務課", events=6):
        t = Terminal(self, department, name)
        t.append(events // 2)
        t.checkpoint()
        t.append(events - events // 2)
        t.checkpoint()
        t.forward()
        return t

    def verify(self, *args):
        return self.central.run("verify", "--escrow", self.central.escrow, *args, check=False)

    def test_intact_hosts(self):
        t = self.terminal("pc-intact")
        r = self.verify("--host", t.bundle.host_id)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("host %s (総務課, pc-intact)" % t.bundle.host_id, r.stdout)
        # (a note on this machine's clock may stand between the name and the verdict)
        self.assertIn("intact, 9 records, seq 1..9, MACs checked", r.stdout)
        self.assertNotIn("NOT INTACT", r.stdout)
        # without the escrow only the links are checked, and verify says so
        r = self.central.run("verify", "--host", t.bundle.host_id, check=False)
        self.assertEqual(r.returncode, 0)
        self.assertIn("chain links only", r.stdout)
        # JSON for the auditors' tools
        r = self.verify("--host", t.bundle.host_id, "--format", "json")
        out = json.loads(r.stdout)
        self.assertTrue(out["intact"])
        self.assertEqual(out["hosts"][0]["records"], 9)  # initialized, 6 events, 2 checkpoints
        self.assertTrue(out["hosts"][0]["macs_checked"])

    def test_bad_arguments(self):
        for args in (["--host", "not-a-uuid"], ["--silent-after", "soon"], ["--format", "xml"], ["extra"]):
            r = self.verify(*args)
            self.assertEqual(r.returncode, 2, args)
        r = self.verify("--host", "00000000-0000-4000-8000-000000000000")
        self.assertNotIn(r.returncode, (0, NOT_INTACT))
        # an escrow file that is not the host's seed: verification refuses, never "no seed"
        t = self.terminal("pc-escrow")
        path = os.path.join(self.central.escrow, t.bundle.host_id + ".seed")
        saved = open(path).read()
        os.chmod(path, 0o600)
        with open(path, "w") as f:
            f.write("garbage\n")
        try:
            r = self.verify("--host", t.bundle.host_id)
            self.assertNotIn(r.returncode, (0, NOT_INTACT), r.stdout)
            self.assertIn("escrow", r.stderr)
        finally:
            with open(path, "w") as f:
                f.write(saved)

    def test_altered_column(self):
        t = self.terminal("pc-altered")
        self.cluster.sql("UPDATE termguard.events SET fields = '[[\"device\", \"1-1\"], [\"label\", \"other\"], "
                         "[\"user\", \"tanaka\"]]' WHERE host_id = '%s' AND seq = 3" % t.bundle.host_id)
        r = self.verify("--host", t.bundle.host_id)
        self.assertEqual(r.returncode, NOT_INTACT, r.stdout + r.stderr)
        self.assertIn("NOT INTACT, first bad record seq 3 (columns)", r.stdout)
        self.assertIn("(fields)", r.stdout)

    def test_altered_raw_bytes(self):
        t = self.terminal("pc-raw")
        # a byte of the raw record changed: no valid record any more (its checksum fails)
        self.cluster.sql("UPDATE termguard.events SET raw = overlay(raw placing '\\x00'::bytea from 80 for 1) "
                         "WHERE host_id = '%s' AND seq = 4" % t.bundle.host_id)
        r = self.verify("--host", t.bundle.host_id)
        self.assertEqual(r.returncode, NOT_INTACT)
        self.assertIn("corrupt", r.stdout)
        # one whole record replaced by another host's valid record of the same seq
        other = self.terminal("pc-donor")
        self.cluster.sql("UPDATE termguard.events e SET raw = d.raw, mac = d.mac, prev_mac = d.prev_mac, "
                         "boot_id = d.boot_id, time_usec = d.time_usec, time = d.time "
                         "FROM termguard.events d WHERE e.host_id = '%s' AND e.seq = 2 AND d.host_id = '%s' "
                         "AND d.seq = 2" % (t.bundle.host_id, other.bundle.host_id))
        r = self.verify("--host", t.bundle.host_id, "--format", "json")
        host = json.loads(r.stdout)["hosts"][0]
        self.assertFalse(host["intact"])
        self.assertTrue(host["tampered"])
        self.assertEqual(host["first_bad_seq"], 2)

    def test_deleted_row(self):
        t = self.terminal("pc-deleted")
        self.cluster.sql("DELETE FROM termguard.events WHERE host_id = '%s' AND seq = 3" % t.bundle.host_id)
        r = self.verify("--host", t.bundle.host_id)
        self.assertEqual(r.returncode, NOT_INTACT)
        self.assertIn("PROBLEM: seq 4 (expected 3): gap", r.stdout)
        self.assertIn("first bad record seq", r.stdout)
        # the newest rows deleted: truncation against what ingest recorded storing
        t2 = self.terminal("pc-truncated")
        self.cluster.sql("DELETE FROM termguard.heartbeats WHERE host_id = '%s' AND seq = 9" % t2.bundle.host_id)
        r = self.verify("--host", t2.bundle.host_id)
        self.assertEqual(r.returncode, NOT_INTACT)
        self.assertIn("truncated", r.stdout)

    def test_silent_host(self):
        t = Terminal(self, "税務課", "pc-silent")
        t.append(2)
        t.forward()  # records, but never a checkpoint
        # enrolled three hours ago (a row of the hosts table, not a record)
        self.cluster.sql("UPDATE termguard.hosts SET enrolled_at = now() - interval '3 hours' "
                         "WHERE host_id = '%s'" % t.bundle.host_id)
        r = self.verify("--host", t.bundle.host_id)
        self.assertEqual(r.returncode, NOT_INTACT)
        self.assertIn("silent", r.stdout)
        self.assertIn("no checkpoint ever", r.stdout)
        r = self.verify("--host", t.bundle.host_id, "--silent-after", "4h")
        self.assertEqual(r.returncode, 0, r.stdout)
        # a host that checkpoints is not silent
        t2 = self.terminal("pc-alive")
        self.assertEqual(self.verify("--host", t2.bundle.host_id, "--silent-after", "1h").returncode, 0)

    def test_conflict(self):
        t = self.terminal("pc-conflict")
        batch = json.loads(t.jb("batch", "5"))[:1]
        batch[0]["mac"] = "%064x" % 7
        self.assertEqual(t.bundle.ingest(batch).returncode, 0)
        r = self.verify("--host", t.bundle.host_id)
        self.assertEqual(r.returncode, NOT_INTACT)
        self.assertIn("conflict", r.stdout)


def months_ago(n):
    """A time (µs) in the middle of the Asia/Tokyo month n months before this one."""
    tokyo = datetime.timezone(datetime.timedelta(hours=9))
    now = datetime.datetime.now(tokyo)
    y, m = now.year, now.month - n
    while m <= 0:
        y, m = y - 1, m + 12
    return int(datetime.datetime(y, m, 15, 12, 0, tzinfo=tokyo).timestamp()) * 1000000


class PruneTest(CentralTestCase):
    """Retention drops whole months: verify starts each host's chain after what was dropped,
    and still finds what is missing after that."""

    def verify(self, host):
        r = self.central.run("verify", "--escrow", self.central.escrow, "--host", host, "--format", "json",
                             check=False)
        self.assertIn(r.returncode, (0, NOT_INTACT), r.stderr)
        return r.returncode, json.loads(r.stdout)["hosts"][0]

    def pruned_terminal(self, name):
        """seq 1 (journal.initialized, now), 2..5 forty months ago, 6 a checkpoint, 7..9 now,
        10 a checkpoint; then the months older than 36 are pruned: 2..5 go."""
        t = Terminal(self, "総務課", name)
        t.append(4, time_usec=months_ago(40))
        t.checkpoint()
        t.append(3)
        t.checkpoint()
        batch = t.forward()
        self.assertEqual(len(batch), 10)
        self.central.run("prune", "--older-than", "36")
        return t, batch

    def test_prune_then_verify_intact(self):
        t, batch = self.pruned_terminal("pc-pruned")
        host = t.bundle.host_id
        self.assertEqual(self.cluster.sql("SELECT seq FROM termguard.events WHERE host_id = '%s' ORDER BY seq" % host),
                         [["1"], ["7"], ["8"], ["9"]])
        # the mark: the newest record dropped and its MAC, how many, by whom
        self.assertEqual(self.cluster.sql("SELECT pruned_through, encode(head_mac, 'hex'), records, dropped_by "
                                          "FROM termguard_report.prune_marks WHERE host_id = '%s'" % host),
                         [["5", batch[4]["mac"], "4", SUPERUSER]])
        code, out = self.verify(host)
        self.assertEqual(code, 0, out)
        self.assertTrue(out["intact"])
        self.assertTrue(out["macs_checked"])
        self.assertEqual((out["first_seq"], out["last_seq"], out["records"]), (6, 10, 5))
        self.assertEqual(out["pruned_through"], 5)
        r = self.central.run("verify", "--escrow", self.central.escrow, "--host", host)
        self.assertIn("intact, 5 records, seq 6..10 (up to 5 pruned), MACs checked", r.stdout)
        # pruning again drops nothing more and leaves the mark as it is
        self.central.run("prune", "--older-than", "36")
        self.assertEqual(self.verify(host)[0], 0)
        # a host none of whose records were in the dropped month has no mark and stays intact
        other = Terminal(self, "税務課", "pc-recent")
        other.append(2)
        other.checkpoint()
        other.forward()
        self.central.run("prune", "--older-than", "36")
        self.assertEqual(self.cluster.sql("SELECT count(*) FROM termguard.prune_marks WHERE host_id = '%s'"
                                          % other.bundle.host_id), [["0"]])
        self.assertEqual(self.verify(other.bundle.host_id)[0], 0)

    def test_prune_then_deleted_kept_row_is_a_gap(self):
        t, _ = self.pruned_terminal("pc-pruned-gap")
        host = t.bundle.host_id
        self.cluster.sql("DELETE FROM termguard.events WHERE host_id = '%s' AND seq = 8" % host)
        code, out = self.verify(host)
        self.assertEqual(code, NOT_INTACT)
        self.assertEqual(out["gaps"], 1)
        gap = [f for f in out["findings"] if f["kind"] == "gap"]
        self.assertEqual((gap[0]["seq"], gap[0]["expected"]), (9, 8))
        # the first record after the mark deleted: a start no prune explains is a gap too
        t2, _ = self.pruned_terminal("pc-pruned-start")
        self.cluster.sql("DELETE FROM termguard.heartbeats WHERE host_id = '%s' AND seq = 6" % t2.bundle.host_id)
        code, out = self.verify(t2.bundle.host_id)
        self.assertEqual(code, NOT_INTACT)
        gap = [f for f in out["findings"] if f["kind"] == "gap"]
        self.assertEqual((gap[0]["seq"], gap[0]["expected"]), (7, 6))

    def test_forged_prune_mark(self):
        t, batch = self.pruned_terminal("pc-pruned-forge")
        host = t.bundle.host_id
        self.cluster.sql("DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'auditor2') THEN "
                         "CREATE ROLE auditor2 LOGIN IN ROLE termguard_auditor; END IF; "
                         "IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'admin2') THEN "
                         "CREATE ROLE admin2 LOGIN IN ROLE termguard_admin; END IF; END $$;")
        mark = ("INSERT INTO %s (host_id, partition, month, pruned_through, head_mac, records, dropped_by) "
                "VALUES ('%s', 'events_209901', '2099-01-01', 8, '\\x%s', 1, 'x');")
        for table in ("termguard.prune_marks", "termguard_report.prune_marks"):
            stmt = mark % (table, host, batch[7]["mac"])
            for who, run in (("host", lambda q: t.bundle.sql(q)),
                             ("auditor", lambda q: self.cluster.sql(q, user="auditor2", check=False)),
                             ("admin", lambda q: self.cluster.sql(q, user="admin2", check=False))):
                with self.subTest(table=table, who=who):
                    r = run(stmt)
                    self.assertNotEqual(r.returncode, 0, r.stdout)
                    self.assertRegex(r.stderr, "permission denied|cannot insert")
            for who, run in (("host", lambda q: t.bundle.sql(q)),
                             ("auditor", lambda q: self.cluster.sql(q, user="auditor2", check=False))):
                for stmt in ("UPDATE %s SET pruned_through = 8;" % table, "DELETE FROM %s;" % table):
                    with self.subTest(stmt=stmt, who=who):
                        self.assertNotEqual(run(stmt).returncode, 0)
        # the host cannot even read the marks
        self.assertNotEqual(t.bundle.sql("SELECT * FROM termguard_report.prune_marks;").returncode, 0)
        self.assertEqual(self.verify(host)[0], 0)
        # what only the owner or a superuser can do raises the tamper alert, and verify still
        # checks the chain against the mark: moved over a kept record, the next one's link fails
        self.cluster.sql("UPDATE termguard.prune_marks SET pruned_through = 7 WHERE host_id = '%s'" % host)
        self.assertEqual(self.cluster.sql("SELECT kind, seq, detail FROM termguard.alerts WHERE host_id = '%s' "
                                          "AND detail LIKE '%%prune_marks%%'" % host),
                         [["tamper", "5", "update on termguard.prune_marks by " + SUPERUSER]])
        code, out = self.verify(host)
        self.assertEqual(code, NOT_INTACT)
        self.assertTrue(out["tampered"])
        self.assertEqual(out["first_bad_seq"], 8)

    def test_terminal_pruned_before_forwarding(self):
        """The terminal's own retention deleted its oldest segments (a journal.pruned record
        says through which seq, with that record's MAC) before this centre stored them: the
        stored records start right after, consistently, and that is intact."""
        t = Terminal(self, "総務課", "pc-local-prune")
        env = dict(os.environ, TG_JOURNAL_SEGMENT_BYTES=str(64 + 128 * 1024))

        def jb(*args):
            r = subprocess.run([JOURNAL_BATCH, t.journal] + list(args), capture_output=True, text=True,
                               timeout=300, env=env)
            self.assertEqual(r.returncode, 0, r.stderr)
            return r.stdout

        jb("append", "800")
        jb("checkpoint")
        self.assertGreater(int(jb("prune", "801")), 0)
        jb("checkpoint")
        batch = json.loads(jb("batch", "1"))
        first = batch[0]["seq"]
        self.assertGreater(first, 1)
        pruned = [r for r in batch if r["type"] == "journal.pruned"]
        self.assertEqual(len(pruned), 1)
        self.assertEqual(dict(pruned[0]["fields"])["pruned_through"], str(first - 1))
        # one record fewer than the prune says: the start is not explained
        self.assertEqual(t.bundle.ingest(batch[1:]).returncode, 0)
        code, out = self.verify(t.bundle.host_id)
        self.assertEqual(code, NOT_INTACT)
        self.assertEqual([f["kind"] for f in out["findings"] if not f["note"]], ["gap"])
        # with it, intact and every MAC checked (the key evolved from the seed to the start)
        self.assertEqual(t.bundle.ingest(batch[:1]).returncode, 0)
        code, out = self.verify(t.bundle.host_id)
        self.assertEqual(code, 0, out)
        self.assertTrue(out["macs_checked"])
        self.assertEqual(out["first_seq"], first)


class ResumeTest(CentralTestCase):
    """Verification from the watermark of the last one: only new records are checked; a change
    to a record after it is found; one to a record before it raised the tamper alert."""

    def setUp(self):
        self.marks = tempfile.mkdtemp(prefix="watermarks-", dir=self.tmp)  # 0700

    def verify(self, host, *extra):
        r = self.central.run("verify", "--escrow", self.central.escrow, "--host", host, "--format", "json",
                             *extra, check=False)
        self.assertIn(r.returncode, (0, NOT_INTACT), r.stderr)
        return r.returncode, json.loads(r.stdout)["hosts"][0]

    def resume(self, host):
        return self.verify(host, "--watermarks", self.marks)

    def mark(self, host):
        with open(os.path.join(self.marks, host + ".verified")) as f:
            return f.read()

    def test_new_records_only(self):
        t = Terminal(self, "総務課", "pc-resume")
        host = t.bundle.host_id
        t.append(3)
        t.checkpoint()
        batch = t.forward()
        code, out = self.resume(host)
        self.assertEqual(code, 0, out)
        self.assertEqual((out["first_seq"], out["last_seq"], out["records"], out["verified_before"]), (1, 5, 5, 0))
        path = os.path.join(self.marks, host + ".verified")
        self.assertEqual(os.stat(path).st_mode & 0o777, 0o600)
        words = self.mark(host).split()
        self.assertEqual(words[:3], [host, "5", batch[-1]["mac"]])
        # the next run reads only what came since
        t.append(2)
        t.checkpoint()
        t.forward()
        code, out = self.resume(host)
        self.assertEqual(code, 0, out)
        self.assertEqual((out["first_seq"], out["last_seq"], out["records"], out["verified_before"]), (6, 8, 3, 5))
        self.assertTrue(out["macs_checked"])
        self.assertEqual(self.mark(host).split()[1], "8")
        r = self.central.run("verify", "--escrow", self.central.escrow, "--host", host, "--watermarks", self.marks)
        self.assertIn("intact, 0 records, seq 0..0 (up to 8 verified before)", r.stdout)
        # a record after the watermark altered: found, and the watermark stays where it was
        t.append(2)
        t.forward()
        self.cluster.sql("UPDATE termguard.events SET raw = overlay(raw placing '\\x00'::bytea from 80 for 1) "
                         "WHERE host_id = '%s' AND seq = 10" % host)
        code, out = self.resume(host)
        self.assertEqual(code, NOT_INTACT)
        self.assertEqual(self.mark(host).split()[1], "8")
        # a record before the watermark altered: the tripwire alerted at once, a resumed run
        # does not read it again, a full run finds it
        self.cluster.sql("UPDATE termguard.events SET type = 'usb.detach' WHERE host_id = '%s' AND seq = 3" % host)
        self.assertEqual(self.cluster.sql("SELECT kind FROM termguard.alerts WHERE host_id = '%s' AND seq = 3"
                                          % host), [["tamper"]])
        code, out = self.verify(host)
        self.assertEqual(code, NOT_INTACT)
        self.assertIn(3, [f["seq"] for f in out["findings"]])

    def test_deleted_after_watermark_and_bad_watermarks(self):
        t = Terminal(self, "総務課", "pc-resume-gap")
        host = t.bundle.host_id
        t.append(3)
        t.forward()
        self.assertEqual(self.resume(host)[0], 0)
        good = self.mark(host)
        t.append(3)
        t.forward()
        # the first record after the watermark deleted: a gap, as anywhere
        self.cluster.sql("DELETE FROM termguard.events WHERE host_id = '%s' AND seq = 5" % host)
        code, out = self.resume(host)
        self.assertEqual(code, NOT_INTACT)
        gap = [f for f in out["findings"] if f["kind"] == "gap"]
        self.assertEqual((gap[0]["seq"], gap[0]["expected"]), (6, 5))
        path = os.path.join(self.marks, host + ".verified")
        # a watermark with another key: the next MACs fail, never "intact"
        words = good.split()
        with open(path, "w") as f:
            f.write(" ".join(words[:3] + ["%064x" % 1]) + "\n")
        code, out = self.resume(host)
        self.assertEqual(code, NOT_INTACT)
        self.assertIn("mac", [f["kind"] for f in out["findings"]])
        # a watermark that is no watermark, or another host's: the run stops
        for text in ("garbage\n", good.replace(host, "00000000-0000-4000-8000-000000000000"), good.rstrip("\n")):
            with open(path, "w") as f:
                f.write(text)
            r = self.central.run("verify", "--escrow", self.central.escrow, "--host", host, "--watermarks",
                                 self.marks, check=False)
            self.assertNotIn(r.returncode, (0, NOT_INTACT), text)
            self.assertIn("watermark", r.stderr)
        # the directory: this user's, 0700; and only with the escrow
        os.chmod(self.marks, 0o755)
        r = self.central.run("verify", "--escrow", self.central.escrow, "--watermarks", self.marks, check=False)
        self.assertEqual(r.returncode, 2)
        os.chmod(self.marks, 0o700)
        r = self.central.run("verify", "--watermarks", self.marks, check=False)
        self.assertEqual(r.returncode, 2)


class Watcher:
    """termguard-central watch with a hook that writes each alert to a FIFO the test reads."""

    def __init__(self, case, dsn=None):
        self.case = case
        self.fifo = tempfile.mktemp(prefix="alerts-", dir=case.tmp)
        os.mkfifo(self.fifo, 0o600)
        # opened for reading first, non-blocking: the hook's open for writing never waits
        # Read and write: this end is a writer too, so the FIFO never reads as ended between two
        # hooks, and select() wakes only for data.
        self.fd = os.open(self.fifo, os.O_RDWR | os.O_NONBLOCK)
        self.buf = b""
        conf = self.fifo + ".conf"
        with open(conf, "w") as f:
            f.write("[Watch]\nAlertCommand=/usr/bin/python3 %s %s\nAlertTimeout=20s\nVerifyInterval=1d\n"
                    "EscrowDirectory=%s\n" % (HOOK, self.fifo, case.central.escrow))
        self.proc = subprocess.Popen(
            [os.path.join(BUILD, "central", "termguard-central"), "--dsn", dsn or case.cluster.dsn(), "watch", "--config",
             conf], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        # watch says when it listens: only then are the database's notifications its to get
        deadline = time.monotonic() + WAIT
        line = b""
        while b"listening" not in line:
            left = deadline - time.monotonic()
            ready, _, _ = select.select([self.proc.stderr], [], [], max(left, 0))
            case.assertTrue(ready, "watch did not start listening")
            line = self.proc.stderr.readline()
            if not line:
                case.fail("watch ended (%s) before listening" % self.proc.wait())

    def stop(self):
        self.proc.terminate()
        _, err = self.proc.communicate(timeout=30)
        os.close(self.fd)
        self.case.assertEqual(self.proc.returncode, 0, err)
        return err.decode(errors="replace")

    def next_alert(self):
        """The next alert the hook received, waiting for it up to WAIT seconds."""
        deadline = time.monotonic() + WAIT
        while b"\n" not in self.buf:
            left = deadline - time.monotonic()
            if left <= 0:
                self.case.fail("no alert within %d s" % WAIT)
            ready, _, _ = select.select([self.fd], [], [], left)
            if ready:
                try:
                    self.buf += os.read(self.fd, 65536)
                except BlockingIOError:
                    pass  # another hook opened the FIFO between select() and read()
        line, self.buf = self.buf.split(b"\n", 1)
        return json.loads(line)

    def alert_where(self, pred):
        while True:
            a = self.next_alert()
            if pred(a):
                return a


class WatchTest(CentralTestCase):
    def test_database_alerts_at_once(self):
        """The tamper tripwire and ingest's conflicts come through LISTEN to the hook."""
        t = Terminal(self, "総務課", "pc-w1")
        t.append(3)
        t.checkpoint()
        t.forward()
        w = Watcher(self)
        try:
            self.cluster.sql("DELETE FROM termguard.events WHERE host_id = '%s' AND seq = 2" % t.bundle.host_id)
            a = w.alert_where(lambda a: a["kind"] == "tamper" and "delete" in a["detail"])
            self.assertEqual(a["host_id"], t.bundle.host_id)
            self.assertEqual(a["seq"], 2)
            self.assertIn("delete on termguard.events", a["detail"])
            self.assertEqual(a["message_id"], "8e2f0c4a1b7d4e6f9a3c5d7e9f1a2b01")
            self.cluster.sql("UPDATE termguard.events SET type = 'usb.detach' WHERE host_id = '%s' AND seq = 3"
                             % t.bundle.host_id)
            a = w.alert_where(lambda a: a["kind"] == "tamper" and "update" in a["detail"])
            self.assertEqual(a["seq"], 3)
            # a conflicting record sent under a stored seq
            batch = json.loads(t.jb("batch", "4"))[:1]
            batch[0]["mac"] = "%064x" % 9
            self.assertEqual(t.bundle.ingest(batch).returncode, 0)
            a = w.alert_where(lambda a: a["kind"] == "conflict")
            self.assertEqual(a["host_id"], t.bundle.host_id)
            self.assertEqual(a["seq"], 4)
            self.assertEqual(a["message_id"], "8e2f0c4a1b7d4e6f9a3c5d7e9f1a2b02")
        finally:
            err = w.stop()
        # no journald here: the alerts went to stderr with their MESSAGE_ID
        if "MESSAGE_ID=" in err:
            self.assertIn("MESSAGE_ID=8e2f0c4a1b7d4e6f9a3c5d7e9f1a2b02", err)

    def test_first_round_alerts_bad_hosts(self):
        """Hosts silent or gapped before watch starts: its first verification alerts each."""
        silent = Terminal(self, "税務課", "pc-s")
        silent.append(1)
        silent.forward()
        self.cluster.sql("UPDATE termguard.hosts SET enrolled_at = now() - interval '3 hours' "
                         "WHERE host_id = '%s'" % silent.bundle.host_id)
        gapped = Terminal(self, "税務課", "pc-g")
        gapped.append(4)
        gapped.checkpoint()
        gapped.forward()
        self.cluster.sql("DELETE FROM termguard.events WHERE host_id = '%s' AND seq = 3" % gapped.bundle.host_id)
        w = Watcher(self)
        try:
            got = {}
            while len(got) < 2:
                a = w.next_alert()
                if a["host_id"] == silent.bundle.host_id:
                    got["silent"] = a
                elif a["host_id"] == gapped.bundle.host_id and a["detail"].startswith("gap"):
                    got["gap"] = a
            self.assertEqual(got["silent"]["kind"], "silent")
            self.assertEqual(got["silent"]["message_id"], "8e2f0c4a1b7d4e6f9a3c5d7e9f1a2b04")
            self.assertEqual(got["gap"]["kind"], "gap")
            self.assertEqual(got["gap"]["seq"], 4)
        finally:
            w.stop()

    def test_alerts_raised_while_stopped(self):
        """Alerts raised while watch is not running arrive when it starts, oldest first, each
        once: a restart does not repeat them; an alert whose delivery was not marked (a crash
        between the two) comes again with the same id."""
        t = Terminal(self, "総務課", "pc-offline")
        t.append(4)
        t.checkpoint()
        t.forward()
        w = Watcher(self)
        # whatever earlier tests raised is delivered now: a mark to find the end of it
        self.cluster.sql("DELETE FROM termguard.heartbeats WHERE host_id = '%s' AND seq = 6" % t.bundle.host_id)
        w.alert_where(lambda a: a["host_id"] == t.bundle.host_id and a["kind"] == "tamper")
        w.stop()
        host = t.bundle.host_id
        for seq in (2, 3, 4):
            self.cluster.sql("DELETE FROM termguard.events WHERE host_id = '%s' AND seq = %d" % (host, seq))
        ids = [int(r[0]) for r in self.cluster.sql("SELECT id FROM termguard.alerts WHERE host_id = '%s' "
                                                   "AND seq IN (2, 3, 4) ORDER BY id" % host)]
        self.assertEqual(len(ids), 3)
        self.assertEqual(self.cluster.sql("SELECT count(*) FROM termguard.alerts a WHERE NOT EXISTS (SELECT FROM "
                                          "termguard.alert_deliveries d WHERE d.alert_id = a.id)"), [["3"]])
        w = Watcher(self)
        try:
            got = [w.alert_where(lambda a: a["host_id"] == host and a["kind"] == "tamper") for _ in ids]
            self.assertEqual([a["id"] for a in got], ids)
            self.assertEqual([a["seq"] for a in got], [2, 3, 4])
        finally:
            w.stop()
        self.assertEqual(self.cluster.sql("SELECT count(*) FROM termguard.alerts a WHERE NOT EXISTS (SELECT FROM "
                                          "termguard.alert_deliveries d WHERE d.alert_id = a.id)"), [["0"]])
        # a restart repeats nothing: the first alert after it is a new one
        w = Watcher(self)
        try:
            self.cluster.sql("DELETE FROM termguard.events WHERE host_id = '%s' AND seq = 5" % host)
            # (the first verification round's alerts, found by watch itself, carry no id)
            a = w.alert_where(lambda a: a["id"] is not None)
            self.assertEqual((a["host_id"], a["seq"]), (host, 5))
            self.assertGreater(a["id"], ids[-1])
        finally:
            w.stop()
        # delivered but not marked (watch killed between the two): delivered again, same id
        self.cluster.sql("DELETE FROM termguard.alert_deliveries WHERE alert_id = %d" % ids[1])
        w = Watcher(self)
        try:
            a = w.alert_where(lambda a: a["id"] is not None)
            self.assertEqual((a["id"], a["seq"]), (ids[1], 3))
        finally:
            w.stop()

    def test_role_that_cannot_mark_refused(self):
        """A watch whose role cannot mark deliveries would repeat every alert: it does not start."""
        self.cluster.sql("DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'watch_aud') THEN "
                         "CREATE ROLE watch_aud LOGIN IN ROLE termguard_auditor; END IF; END $$;")
        conf = os.path.join(self.tmp, "watch.conf")
        with open(conf, "w") as f:
            f.write("[Watch]\nVerifyInterval=1d\n")
        run = lambda: subprocess.run([os.path.join(BUILD, "central", "termguard-central"), "--dsn",
                                      self.cluster.dsn(dbname="postgres", user="watch_aud"), "watch", "--config",
                                      conf], capture_output=True, text=True, timeout=60)
        r = run()
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("cannot mark alerts delivered", r.stderr)
        # as documented: a member of termguard_watch and termguard_auditor runs
        self.cluster.sql("GRANT termguard_watch TO watch_aud")
        w = Watcher(self, dsn=self.cluster.dsn(dbname="postgres", user="watch_aud"))
        try:
            t = Terminal(self, "総務課", "pc-watch-role")
            t.append(2)
            t.forward()
            self.cluster.sql("DELETE FROM termguard.events WHERE host_id = '%s' AND seq = 2" % t.bundle.host_id)
            a = w.alert_where(lambda a: a["host_id"] == t.bundle.host_id)
            self.assertEqual(a["seq"], 2)
            self.assertEqual(self.cluster.sql("SELECT delivered_by FROM termguard.alert_deliveries WHERE alert_id = %d"
                                              % a["id"]), [["watch_aud"]])
        finally:
            w.stop()

    def test_bad_config_refused(self):
        conf = os.path.join(self.tmp, "bad.conf")
        for text in ("[Watch]\nAlertCommand=mail root\n", "[Watch]\nAlertTimeout=forever\n",
                     "[Watch]\nNoSuchKey=1\n", "[Other]\nAlertCommand=/bin/true\n",
                     "[Watch]\nWatermarkDirectory=relative\n",
                     # watermarks' keys forge records: a directory others can read is refused
                     "[Watch]\nEscrowDirectory=%s\nWatermarkDirectory=/tmp\n" % self.central.escrow):
            with open(conf, "w") as f:
                f.write(text)
            r = subprocess.run([os.path.join(BUILD, "central", "termguard-central"), "--dsn", self.cluster.dsn(),
                                "watch", "--config", conf], capture_output=True, text=True, timeout=60)
            self.assertNotEqual(r.returncode, 0, text)


GOLDEN = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "unit", "golden")


class ReportTest(CentralTestCase):
    """Fleet reports through lib's report definitions: the golden records stored centrally give
    the golden CSV byte for byte, as termguardctl report does on a terminal."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        with open(os.path.join(GOLDEN, "records.jsonl"), encoding="utf-8") as f:
            records = [json.loads(line) for line in f]
        hosts = sorted({(r["host_id"], r["department"]) for r in records})
        sql = []
        for i, (host, dept) in enumerate(hosts):
            sql.append("INSERT INTO termguard.hosts (host_id, role, department, hostname) VALUES "
                       "('%s', 'golden_%d', %s, 'pc-golden-%d');" % (host, i, quote(dept), i))
        for r in records:
            # stored as ingest stores a record; the raw bytes are not the point here
            sql.append("INSERT INTO termguard.events (host_id, seq, time, time_usec, boot_id, clock, priority, "
                       "type, uid, pid, comm, unit, fields, prev_mac, mac, raw) VALUES ('%s', %d, "
                       "to_timestamp(%d / 1000000.0), %d, '%s', 1, 6, %s, 0, 1, '', '', %s::jsonb, '\\x00', "
                       "'\\x%02x', '\\x00');"
                       % (r["host_id"], r["seq"], r["time_usec"], r["time_usec"], r["boot_id"], quote(r["type"]),
                          quote(json.dumps(r["fields"], ensure_ascii=False)), r["seq"]))
        cls.cluster.sql("\n".join(sql))
        cls.golden_hosts = [h for h, _ in hosts]

    def report(self, *args):
        r = self.central.run("report", *args, check=False)
        self.assertEqual(r.returncode, 0, r.stderr)
        return r.stdout

    def test_golden_csv(self):
        for kind in ("usage", "media", "exceptions", "blocked", "mfa"):
            out = subprocess.run([os.path.join(BUILD, "central", "termguard-central"), "--dsn", self.cluster.dsn(),
                                  "report", kind, "--fiscal-year", "2026", "--format", "csv", "--lang", "en"],
                                 capture_output=True, timeout=120)
            self.assertEqual(out.returncode, 0, out.stderr)
            with open(os.path.join(GOLDEN, kind + ".csv"), "rb") as f:
                self.assertEqual(out.stdout, f.read(), kind)

    def test_filters_and_bad_arguments(self):
        everything = self.report("usage", "--fiscal-year", "2026", "--format", "json")
        one = self.report("usage", "--fiscal-year", "2026", "--format", "json", "--department", "総務課")
        self.assertNotEqual(everything, one)
        self.assertNotIn(self.golden_hosts[1], one)
        by_host = self.report("usage", "--fiscal-year", "2026", "--format", "json", "--host", self.golden_hosts[0])
        self.assertNotIn(self.golden_hosts[1], by_host)
        # a department is a value, never SQL
        quiet = self.report("usage", "--fiscal-year", "2026", "--format", "csv", "--department", "x' OR '1'='1")
        self.assertNotIn(self.golden_hosts[0], quiet)
        for args in (["nosuch", "--fiscal-year", "2026"], ["usage"], ["usage", "--month", "2026-13"],
                     ["usage", "--fiscal-year", "2026", "--month", "2026-04"], ["usage", "--from", "2026-04-01"],
                     ["usage", "--fiscal-year", "2026", "--format", "pdf"], ["usage", "--fiscal-year", "2026",
                                                                              "--host", "x"]):
            self.assertEqual(self.central.run("report", *args, check=False).returncode, 2, args)

    def test_hosts_report_from_verification(self):
        out = self.report("hosts", "--fiscal-year", "2026", "--format", "csv")
        for h in self.golden_hosts:
            self.assertIn(h, out)
        # the stored raw bytes here are placeholders: verification finds them, the report says so
        self.assertIn("tampered", out)
        html = self.report("hosts", "--fiscal-year", "2026", "--format", "html", "--lang", "ja")
        self.assertIn('<table id="t-hosts">', html)
        self.assertIn("全端末", html)


def quote(s):
    return "'" + s.replace("'", "''") + "'"


class AuditTest(CentralTestCase):
    """Reads of staff records are logged by pgaudit, set up by init."""

    def test_reads_are_logged(self):
        # init preloads pgaudit: pending until PostgreSQL restarts
        rows = self.cluster.sql("SELECT pending_restart FROM pg_settings WHERE name = 'shared_preload_libraries'")
        self.assertEqual(rows, [["t"]])
        self.cluster.stop()
        self.cluster.start()
        self.central.init()  # again: now it also creates the extension
        self.assertEqual(self.cluster.sql("SELECT extname FROM pg_extension WHERE extname = 'pgaudit'"),
                         [["pgaudit"]])
        t = Terminal(self, "総務課", "pc-audit")
        t.append(2)
        t.forward()
        self.cluster.sql("CREATE ROLE auditor_sato LOGIN IN ROLE termguard_auditor")
        start = os.path.getsize(self.cluster.log)
        rows = self.cluster.sql("SELECT count(*) FROM termguard_report.events WHERE host_id = '%s'"
                                % t.bundle.host_id, user="auditor_sato")
        self.assertEqual(rows, [["3"]])  # journal.initialized and two
        with open(self.cluster.log, errors="replace") as f:
            f.seek(start)
            log = f.read()
        self.assertIn("AUDIT: OBJECT", log)
        self.assertIn("termguard_report.events", log)
        # and verify's reads, which go through the same views
        start = os.path.getsize(self.cluster.log)
        self.assertEqual(self.central.run("verify", "--host", t.bundle.host_id, check=False).returncode, 0)
        with open(self.cluster.log, errors="replace") as f:
            f.seek(start)
            self.assertIn("termguard_report.heartbeats", f.read())
        # a terminal's ingest reads no view: nothing logged for it
        start = os.path.getsize(self.cluster.log)
        t.append(1)
        t.forward()
        with open(self.cluster.log, errors="replace") as f:
            f.seek(start)
            self.assertNotIn("termguard_report", f.read())


if __name__ == "__main__":
    unittest.main()
