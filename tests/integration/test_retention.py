# SPDX-License-Identifier: GPL-2.0-or-later
"""Retention of the audit journal by the real termguardd: [Journal] MaxAge= deletes whole
segments whose every record is forwarded (the journal.forwarded control command moves the mark)
once they are old enough, and near the [Journal] MaxUse= cap forwarded segments of any age; a
record not forwarded is never deleted. Each prune leaves a journal.pruned record and the journal
still verifies with the escrowed seed; a prune that fails is recorded and reported, never fatal.

The journal's segments are written first by journal-writer in small segments of 128 KiB (the
daemon's are 8 MiB); their last write is set with os.utime to make them old."""

import json
import os
import subprocess
import time

from gate_testbed import BUILD_DIR, TERMGUARDCTL, GateTestCase

WRITER = os.path.join(BUILD_DIR, "tests", "journal-writer")
DAY = 86400
# The smallest segment the journal takes (its header and one record of the largest size):
# about 31 records of FILL_SIZE bytes.
SEGMENT = 64 + 128 * 1024
FILL_SIZE = "4000"

# Hands one request to the control socket argv[1] (a JSON line), prints the reply line.
CONTROL = ("import socket,sys; s=socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); "
           "s.sendall(sys.argv[2].encode()+b'\\n'); print(s.makefile().readline())")


def seg_first(name):
    return int(name[len("seg-"):-len(".tgj")], 16)


class RetentionTest(GateTestCase):
    def setUp(self):
        super().setUp()
        self.journal = os.path.join(self.statedir, "journal")
        self.hostid = os.path.join(self.statedir, "host-id")

    def configure(self, journal_keys):
        # the journal stays root's alone: whether a group termguard-audit exists here or not
        self.write_config("[Journal]\nAuditorGroup=\n" + journal_keys)

    def env(self):
        return {k: v for k, v in os.environ.items() if k != "LD_PRELOAD"}

    def writer(self, *args):
        r = subprocess.run([WRITER, self.journal, self.hostid] + list(args), capture_output=True, text=True,
                           timeout=60, env=dict(self.env(), TG_JOURNAL_SEGMENT_BYTES=str(SEGMENT)))
        self.assertEqual(r.returncode, 0, r.stderr)
        return r.stdout.strip()

    def segments(self):
        """The segment files, oldest first: (first seq, name)."""
        return sorted((seg_first(n), n) for n in os.listdir(self.journal) if n.startswith("seg-"))

    def used(self):
        return sum(os.path.getsize(os.path.join(self.journal, n)) for _, n in self.segments())

    def make_journal(self, n_segments):
        """A journal of at least n_segments closed segments of about 128 KiB."""
        self.init_journal_once()
        while len(self.segments()) <= n_segments:
            self.writer("fill", "40", FILL_SIZE)
        return self.segments()

    def age(self, name, days):
        t = time.time() - days * DAY
        os.utime(os.path.join(self.journal, name), (t, t))

    def control(self, request):
        r = subprocess.run(["/usr/bin/python3", "-c", CONTROL, self.socket, json.dumps(request)],
                           capture_output=True, text=True, timeout=30, env=self.env())
        self.assertEqual(r.returncode, 0, r.stderr)
        return json.loads(r.stdout)

    def forward(self, seq):
        reply = self.control({"command": "journal.forwarded", "seq": seq})
        self.assertTrue(reply["ok"], reply)
        return reply

    def status(self):
        return self.ctl_json("status")

    def verify(self):
        r = subprocess.run([TERMGUARDCTL, "--config", self.confdir, "verify", "--key", self.journal_seed, "--json"],
                           capture_output=True, text=True, timeout=60, env=self.env())
        return r.returncode, r.stdout, r.stderr

    def assert_intact(self):
        rc, out, err = self.verify()
        self.assertEqual(rc, 0, out + err)
        self.assertTrue(json.loads(out)["intact"], out)

    def wait_pruned(self, n):
        """The journal.pruned records mirrored so far, once there are n."""
        return self.wait_for(lambda: len(self.events("journal.pruned")) >= n and self.events("journal.pruned"),
                             "%d journal.pruned records" % n)

    def test_old_forwarded_segments_go_unforwarded_and_young_ones_stay(self):
        self.configure("MaxAge=30d\n")
        segs = self.make_journal(16)
        firsts = [f for f, _ in segs]
        for _, name in segs[:10]:
            self.age(name, 40)
        self.start_daemon()
        # nothing forwarded: nothing goes, however old
        self.wait_for(lambda: self.status()["journal_next_prune_at"] > self.iso(time.time() + DAY / 2),
                      "the first prune at start")
        self.assertEqual(self.segments()[:len(segs)], segs)
        self.assertEqual(self.events("journal.pruned"), [])
        # forwarded through the sixth segment and into the seventh: six old segments go; the
        # seventh is old but holds records not forwarded; the eighth to tenth are old, not forwarded
        self.forward(firsts[6] + 1)
        self.wait_for(lambda: self.segments()[0] == segs[6], "the six old forwarded segments to go")
        # in bounded steps of four segments, each one recorded
        evs = self.wait_pruned(2)
        self.assertEqual([int(e["pruned_through"]) for e in evs], [firsts[4] - 1, firsts[6] - 1])
        self.assertTrue(all(len(e["head_mac"]) == 64 for e in evs))
        left = self.segments()
        self.assertEqual(left[0], segs[6])
        self.assertEqual(left[:len(segs) - 6], segs[6:])
        # everything up to the twelfth segment forwarded: the old ones go, the two young ones stay
        self.forward(firsts[12] - 1)
        ev = self.wait_pruned(3)[-1]
        self.assertEqual(int(ev["pruned_through"]), firsts[10] - 1)
        self.assertEqual(self.segments()[0], segs[10])
        self.assertEqual(len(self.events("journal.pruned")), 3)
        st = self.status()
        self.assertEqual(st["journal_max_age"], 30 * DAY)
        self.assertEqual(st["journal_oldest_seq"], firsts[10])
        self.assertEqual(st["journal_pruned_through"], firsts[10] - 1)
        self.assertEqual(st["journal_prune_error"], "")
        # the next prune: when the oldest segment left (forwarded, young) turns 30 days old
        mtime = os.stat(os.path.join(self.journal, segs[10][1])).st_mtime
        self.assertEqual(st["journal_next_prune_at"][:13], self.iso(mtime + 30 * DAY)[:13])
        text = self.ctl_ok("status").stdout.decode()
        self.assertIn("oldest record kept:", text)
        self.assertIn("seq %d" % (firsts[10] - 1), text)
        self.assertIn("30 days", text)
        self.stop_daemon()
        self.assert_intact()
        # a restart prunes nothing more and says the same
        self.start_daemon()
        self.assertEqual(self.status()["journal_oldest_seq"], firsts[10])

    @staticmethod
    def iso(t):
        return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))

    def test_without_forwarding_nothing_is_deleted_even_near_the_cap(self):
        """A terminal without central forwarding never has a forwarded mark: old segments stay,
        and near the cap the journal says so (journal.near-cap) rather than delete anything."""
        self.configure("MaxAge=1d\nMaxUse=2M\n")
        self.init_journal_once()
        limit = 2 * 1024 * 1024 - 256 * 1024  # less the reserve, an eighth
        while self.used() < limit * 92 // 100:
            self.writer("fill", "10", FILL_SIZE)
        segs = self.segments()
        for _, name in segs:
            self.age(name, 400)
        self.assertLess(self.used(), limit)
        self.start_daemon()
        self.wait_event("journal.near-cap")
        self.wait_for(lambda: self.status()["journal_next_prune_at"] > self.iso(time.time() + DAY / 2),
                      "the first prune at start")
        self.assertEqual(self.segments()[:len(segs)], segs)
        self.assertEqual(self.events("journal.pruned"), [])
        st = self.status()
        self.assertEqual(st["journal"], "near-cap")
        self.assertEqual(st["journal_pruned_through"], 0)
        self.assertIn("nothing pruned", self.ctl_ok("status").stdout.decode())

    def test_the_cap_takes_young_forwarded_segments_never_unforwarded_ones(self):
        self.configure("MaxUse=4M\n")  # MaxAge= not set: kept for ever but for the cap
        self.init_journal_once()
        limit = 4 * 1024 * 1024 - 512 * 1024  # less the reserve, an eighth
        while self.used() < limit * 93 // 100:
            self.writer("fill", "10", FILL_SIZE)
        self.assertLess(self.used(), limit)
        segs = self.segments()
        firsts = [f for f, _ in segs]
        mark = firsts[len(segs) * 2 // 3]
        self.start_daemon()
        self.wait_event("journal.near-cap")
        self.assertEqual(self.events("journal.pruned"), [])  # nothing forwarded yet
        self.forward(mark)
        self.wait_for(lambda: self.status()["journal"] == "ok", "the journal to be below the near-cap mark")
        # the steps have ended once no next prune is planned (MaxAge= is not set)
        self.wait_for(lambda: self.status()["journal_next_prune_at"] == "", "the prune's steps to end")
        ev = self.wait_pruned(1)[-1]
        through = int(ev["pruned_through"])
        self.assertLessEqual(through, mark)
        left = self.segments()
        # what went is forwarded and went oldest first; every record past the mark is still there
        self.assertEqual(left[0][0], through + 1)
        self.assertTrue(all(s in left for s in segs if s[0] > mark))
        # room down to three quarters of what the cap less its reserve allows, not much more
        self.assertLessEqual(self.used(), limit * 3 // 4)
        self.assertGreater(self.used(), limit * 3 // 4 - 2 * SEGMENT)
        self.stop_daemon()
        self.assert_intact()

    def test_a_prune_that_fails_is_recorded_and_reported_not_fatal(self):
        """The journal's directory cannot be changed (immutable, even for root) when a prune
        runs: it is recorded as journal.prune-failed and shown by status; the daemon goes on,
        and the next prune, once the directory can be changed, deletes what is due."""
        self.configure("MaxAge=30d\n")
        segs = self.make_journal(8)
        for _, name in segs[:6]:
            self.age(name, 40)
        self.writer("forwarded", str(segs[6][0] - 1))  # what the forwarder had said before a restart
        r = subprocess.run(["chattr", "+i", self.journal], capture_output=True, text=True)
        if r.returncode != 0:
            self.skipTest("chattr +i not possible here: " + r.stderr.strip())
        self.addCleanup(subprocess.run, ["chattr", "-i", self.journal])
        self.start_daemon()
        ev = self.wait_event("journal.prune-failed")
        self.assertIn("not permitted", ev["error"])
        st = self.status()
        self.assertIn("not permitted", st["journal_prune_error"])
        self.assertIn("PRUNE FAILED:", self.ctl_ok("status").stdout.decode())
        self.assertEqual(self.segments()[:len(segs)], segs)
        self.assertEqual(self.events("journal.pruned"), [])  # nothing claims a prune that did not happen
        self.assertIsNone(self.daemon.poll())
        # recorded once, not at every retry (a forwarded mark that moves retries at once)
        self.control({"command": "journal.forwarded", "seq": segs[6][0] - 1})
        self.status()
        self.assertEqual(len(self.events("journal.prune-failed")), 1)
        # once the directory can be changed again, the next prune (a reload) works
        subprocess.run(["chattr", "-i", self.journal], check=True)
        self.daemon.send_signal(1)  # SIGHUP
        self.wait_for(lambda: self.segments()[0] == segs[6], "the prune after the reload")
        self.wait_for(lambda: self.status()["journal_prune_error"] == "", "the error to clear")
        self.stop_daemon()
        self.assert_intact()

if __name__ == "__main__":
    import unittest
    unittest.main()
