# SPDX-License-Identifier: GPL-2.0-or-later
"""The audit journal through the real termguardctl and a writer program using the journal
library as termguardd does: init and the seed file, verify finding each kind of tampering
(and naming where), reading rights, log formats and escaping, the usage register, and a
writer killed with SIGKILL at random points that loses no acknowledged record."""
import csv
import io
import json
import os
import random
import shutil
import signal
import subprocess
import tempfile
import time
import unicodedata
import unittest

BUILD = os.environ["TG_BUILD_DIR"]
CTL = os.path.join(BUILD, "ctl", "termguardctl")
WRITER = os.path.join(BUILD, "tests", "journal-writer")
NOBODY = 65534
EXIT_UNREACHABLE, EXIT_DENIED, EXIT_DAMAGED = 3, 4, 5


class JournalTest(unittest.TestCase):
    def setUp(self):
        if os.geteuid() != 0:
            self.skipTest("needs root: the journal and its key state are root's alone")
        self.tmp = tempfile.mkdtemp(prefix="tg-journal-")
        os.chmod(self.tmp, 0o755)
        self.conf = os.path.join(self.tmp, "conf")
        self.state = os.path.join(self.tmp, "state")
        os.makedirs(self.conf)
        os.makedirs(self.state)
        with open(os.path.join(self.conf, "termguard.conf"), "w") as f:
            f.write("[Daemon]\nStateDirectory=%s\nRuntimeDirectory=%s/run\n" % (self.state, self.tmp))
        self.dir = os.path.join(self.state, "journal")
        self.hostid = os.path.join(self.state, "host-id")
        self.seed = os.path.join(self.tmp, "seed")

    def tearDown(self):
        if hasattr(self, "tmp"):
            shutil.rmtree(self.tmp)

    def ctl(self, *args, user=None):
        cmd = [CTL, "--config", self.conf] + list(args)
        if user is not None:
            cmd = ["setpriv", "--reuid=%d" % user, "--regid=%d" % user, "--clear-groups"] + cmd
        return subprocess.run(cmd, capture_output=True, timeout=60,
                              env=dict(os.environ, LC_ALL="C.UTF-8", LANGUAGE=""))

    def writer(self, *args):
        r = subprocess.run([WRITER, self.dir, self.hostid] + list(args), capture_output=True, text=True,
                           timeout=30)
        self.assertEqual(r.returncode, 0, r.stderr)
        return r.stdout.strip()

    def init(self):
        r = self.ctl("journal", "init", "--seed-out", self.seed)
        self.assertEqual(r.returncode, 0, r.stderr)

    @staticmethod
    def read(path, mode="rb"):
        with open(path, mode) as f:
            return f.read()

    @staticmethod
    def write(path, data, mode="wb"):
        with open(path, mode) as f:
            f.write(data)

    def segment(self):
        segs = sorted(n for n in os.listdir(self.dir) if n.startswith("seg-"))
        return os.path.join(self.dir, segs[-1])

    def verify(self, *args):
        r = self.ctl("verify", "--key", self.seed, "--json", *args)
        return r.returncode, json.loads(r.stdout) if r.stdout else None, r

    def log_json(self, *args):
        r = self.ctl("log", "--json", *args)
        self.assertEqual(r.returncode, 0, r.stderr)
        return [json.loads(line) for line in r.stdout.decode().splitlines()]

    # init and the seed

    def test_init_writes_seed_for_escrow_and_never_replaces_the_key(self):
        self.init()
        st = os.stat(self.seed)
        self.assertEqual(st.st_mode & 0o7777, 0o600)
        text = self.read(self.seed, "r")
        self.assertTrue(text.startswith("termguard-journal-seed 1\nhost="))
        self.assertEqual(os.stat(self.dir).st_mode & 0o7777, 0o700)
        for name in os.listdir(self.dir):
            self.assertEqual(os.stat(os.path.join(self.dir, name)).st_mode & 0o7777, 0o600, name)
        # the seed is nowhere in the journal directory
        seed_hex = [l for l in text.splitlines() if l.startswith("seed=")][0][5:]
        for name in os.listdir(self.dir):
            data = self.read(os.path.join(self.dir, name))
            self.assertNotIn(bytes.fromhex(seed_hex), data)
        # a second init is refused and the old seed file is not overwritten
        os.unlink(self.seed)
        r = self.ctl("journal", "init", "--seed-out", self.seed)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn(b"already holds a journal", r.stderr)
        self.assertFalse(os.path.exists(self.seed))
        # never over an existing file, never to standard output
        other = os.path.join(self.tmp, "other")
        self.write(other, "", "w")
        shutil.rmtree(self.dir)
        r = self.ctl("journal", "init", "--seed-out", other)
        self.assertNotEqual(r.returncode, 0)
        self.assertFalse(os.path.exists(self.dir) and os.listdir(self.dir))
        r = self.ctl("journal", "init")
        self.assertEqual(r.returncode, 2)

    def test_init_imports_a_seed_for_this_host_only(self):
        self.init()
        shutil.rmtree(self.dir)
        r = self.ctl("journal", "init", "--seed-in", self.seed)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(self.verify()[0], 0)
        # a seed made for another host id
        shutil.rmtree(self.dir)
        text = self.read(self.seed, "r").replace("host=", "host=0")
        text = text.replace(text.split("host=")[1].split("\n")[0],
                            "00000000-0000-4000-8000-000000000000")
        other = os.path.join(self.tmp, "other-seed")
        with open(other, "w") as f:
            f.write(text)
        r = self.ctl("journal", "init", "--seed-in", other)
        self.assertEqual(r.returncode, 2)
        self.assertIn(b"another host id", r.stderr)

    def test_init_refused_for_non_root(self):
        r = self.ctl("journal", "init", "--seed-out", os.path.join(self.tmp, "s"), user=NOBODY)
        self.assertEqual(r.returncode, EXIT_DENIED)

    # verify

    def fill(self, n=10):
        self.init()
        for i in range(n):
            self.writer("append", "usb.attach", "device=1-%d" % i, "label=L%d" % i)

    def records_offsets(self):
        """Offsets of the records in the last segment (from their length fields)."""
        data = self.read(self.segment())
        offs, off = [], 64
        while off < len(data):
            offs.append(off)
            off += int.from_bytes(data[off + 4:off + 8], "little")
        return data, offs

    def test_verify_intact(self):
        self.fill()
        rc, out, r = self.verify()
        self.assertEqual(rc, 0, r.stdout)
        self.assertTrue(out["intact"])
        self.assertTrue(out["macs_checked"])
        self.assertEqual(out["records"], 11)
        r = self.ctl("verify")
        self.assertEqual(r.returncode, 0)
        self.assertIn(b"Journal intact.", r.stdout)

    def test_verify_flipped_byte_names_record_and_file(self):
        self.fill()
        data, offs = self.records_offsets()
        data = bytearray(data)
        data[offs[5] + 80] ^= 0x01
        self.write(self.segment(), data)
        rc, out, r = self.verify()
        self.assertEqual(rc, EXIT_DAMAGED)
        self.assertFalse(out["intact"])
        first = out["findings"][0]
        self.assertEqual(first["kind"], "corrupt")
        self.assertEqual(first["file"], os.path.basename(self.segment()))
        self.assertEqual(first["offset"], offs[5])
        r = self.ctl("verify")
        self.assertEqual(r.returncode, EXIT_DAMAGED)
        self.assertIn(b"JOURNAL NOT INTACT", r.stdout)
        # log goes on past the damage and says so
        r = self.ctl("log")
        self.assertEqual(r.returncode, EXIT_DAMAGED)
        self.assertIn(b"verify", r.stderr)

    def test_verify_deleted_record(self):
        self.fill()
        data, offs = self.records_offsets()
        self.write(self.segment(), data[:offs[3]] + data[offs[4]:])
        rc, out, _ = self.verify()
        self.assertEqual(rc, EXIT_DAMAGED)
        kinds = {(f["kind"], f["seq"]) for f in out["findings"]}
        self.assertIn(("gap", 5), kinds)
        self.assertIn(("chain", 5), kinds)

    def test_verify_reordered_records(self):
        self.fill()
        data, offs = self.records_offsets()
        a, b = data[offs[3]:offs[4]], data[offs[4]:offs[5]]
        self.write(self.segment(), data[:offs[3]] + b + a + data[offs[5]:])
        rc, out, _ = self.verify()
        self.assertEqual(rc, EXIT_DAMAGED)
        self.assertIn("reorder", {f["kind"] for f in out["findings"]})

    def test_verify_truncation_and_rollback_against_checkpoint(self):
        self.fill(4)
        saved = os.path.join(self.tmp, "saved")
        shutil.copytree(self.dir, saved)
        for i in range(3):
            self.writer("append", "usb.detach", "device=1-%d" % i)
        head = self.writer("checkpoint")
        cp = os.path.join(self.tmp, "checkpoint")
        with open(cp, "w") as f:
            f.write(head + "\n")
        self.assertEqual(self.verify("--checkpoint", cp)[0], 0)
        # journal and key state restored together from the older copy
        shutil.rmtree(self.dir)
        shutil.copytree(saved, self.dir)
        self.assertEqual(self.verify()[0], 0, "consistent in itself")
        rc, out, _ = self.verify("--checkpoint", head)
        self.assertEqual(rc, EXIT_DAMAGED)
        self.assertEqual(out["findings"][0]["kind"], "truncated")
        # new records fill the seqs again: the record at the checkpoint's seq differs
        for i in range(5):
            self.writer("append", "usb.attach", "device=9-%d" % i)
        rc, out, _ = self.verify("--checkpoint", cp)
        self.assertEqual(rc, EXIT_DAMAGED)
        self.assertEqual([f["kind"] for f in out["findings"]], ["rollback"])
        self.assertEqual(out["findings"][0]["seq"], int(head.split(":")[0]))

    def test_verify_wrong_key_and_bad_arguments(self):
        self.fill(2)
        other = os.path.join(self.tmp, "other")
        text = self.read(self.seed, "r")
        seed_hex = text.split("seed=")[1].strip()
        with open(other, "w") as f:
            f.write(text.replace(seed_hex, "00" * 32))
        rc, out, _ = self.verify_with(other)
        self.assertEqual(rc, EXIT_DAMAGED)
        self.assertEqual({f["kind"] for f in out["findings"]}, {"mac"})
        for bad in (["--checkpoint", "12:zz"], ["--key", "/nonexistent"], ["--bogus"], ["extra"]):
            r = self.ctl("verify", *bad)
            self.assertEqual(r.returncode, 2, bad)
        r = self.ctl("verify", "--journal", os.path.join(self.tmp, "none"))
        self.assertEqual(r.returncode, 1)

    def verify_with(self, key):
        r = self.ctl("verify", "--key", key, "--json")
        return r.returncode, json.loads(r.stdout), r

    # reading rights

    def test_non_root_is_refused_clearly(self):
        self.fill(1)
        for args in (["log", "--journal", self.dir], ["verify"],
                     ["report", "usage", "--from", "2026-01-01", "--to", "2026-12-31"],
                     ["report", "mfa", "--fiscal-year", "2026", "--format", "html"]):
            r = self.ctl(*args, user=NOBODY)
            self.assertEqual(r.returncode, EXIT_DENIED, args)
            self.assertIn(b"Only root reads the journal", r.stderr)
            self.assertEqual(r.stdout.strip(b"\xef\xbb\xbf\r\n").count(b"\n"), 0, "nothing listed")
        # "log" alone asks termguardd for the caller's own records (test_records.py); none runs here
        r = self.ctl("log", user=NOBODY)
        self.assertEqual(r.returncode, EXIT_UNREACHABLE, r.stderr)
        self.assertIn(b"cannot reach termguardd", r.stderr)
        self.assertEqual(r.stdout, b"")

    # log

    def test_log_filters_and_formats(self):
        self.init()
        self.writer("append", "--time", "2026-04-01T09:00:00+09:00", "usb.attach", "device=1-1", "user=tanaka",
                    "label=総務課-01")
        self.writer("append", "--time", "2026-04-02T09:00:00+09:00", "usb.decision", "device=1-1",
                    "user=suzuki", "decision=read-only", "label=総務課-01")
        self.writer("append", "--time", "2026-04-03T09:00:00+09:00", "mfa.failure", "user=tanaka")
        recs = self.log_json("--since", "2026-04-01T00:00:00Z", "--until", "2026-05-01T00:00:00Z")
        self.assertEqual([r["type"] for r in recs], ["usb.attach", "usb.decision", "mfa.failure"])
        self.assertEqual(recs[0]["time"], "2026-04-01T00:00:00.000000Z")
        self.assertEqual(recs[0]["clock"], "synced")
        self.assertEqual(recs[0]["fields"]["label"], "総務課-01")
        self.assertEqual(len(self.log_json("--type", "usb.*")), 2)
        self.assertEqual(len(self.log_json("--user", "tanaka", "--type", "[um]*")), 2)
        self.assertEqual(len(self.log_json("--device", "総務課-01")), 2)
        self.assertEqual(len(self.log_json("--since", "2026-04-02T00:00:00Z",
                                           "--until", "2026-04-03T00:00:00Z")), 1)
        self.assertEqual(self.ctl("log", "--since", "yesterday").returncode, 2)
        # the table lines up Japanese labels by display width
        r = self.ctl("log", "--type", "usb.*")
        lines = r.stdout.decode().splitlines()
        self.assertEqual(len(lines), 3)
        def width(text):
            return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)
        self.assertIn("総務課-01", lines[2])
        self.assertEqual(width(lines[2][:lines[2].index("decision=")]), width(lines[0][:lines[0].index("DETAILS")]))

    def test_log_escapes_hostile_values(self):
        self.init()
        self.writer("append", "usb.attach", "device=1-1", "product=\x1b]0;pwned\x07\u202eexe.txt",
                    "label==HYPERLINK(\"http://x\")", "user=@SUM(1)")
        r = self.ctl("log")
        self.assertNotIn(b"\x1b", r.stdout)
        self.assertIn(b"\\x1b", r.stdout)
        self.assertIn(b"\\u202e", r.stdout)
        rec = self.log_json()[-1]
        self.assertEqual(rec["fields"]["product"], "\\x1b]0;pwned\\x07\\u202eexe.txt")
        r = self.ctl("log", "--csv")
        self.assertTrue(r.stdout.startswith(b"\xef\xbb\xbf"))
        rows = list(csv.reader(io.StringIO(r.stdout.decode("utf-8-sig"), newline="")))
        self.assertEqual(rows[0][:5], ["seq", "time", "clock", "host_id", "type"])
        hostile = rows[-1]
        self.assertEqual(hostile[5], "'@SUM(1)")
        self.assertEqual(hostile[6], "'=HYPERLINK(\"http://x\")")
        self.assertNotIn("\x1b", r.stdout.decode())
        self.assertTrue(r.stdout.endswith(b"\r\n"))

    # the audit reports (termguardctl report ...; their contents are unit-tested in test_report.c)

    def report(self, *args):
        r = self.ctl("report", *args)
        self.assertEqual(r.returncode, 0, r.stderr)
        return r

    def report_json(self, *args):
        r = self.report(*args, "--format", "json")
        self.assertTrue(r.stdout.endswith(b"}\n"))
        return json.loads(r.stdout)

    def test_report_usage(self):
        self.init()
        w = self.writer
        # a registered medium used by tanaka, with two files written
        w("append", "--time", "2026-03-01T00:00:00Z", "register.media-added", "label=総務課-01", "vid=0781",
          "pid=5581", "serial=AA01", "department=総務課", "mode=read-only", "actor=admin")
        w("append", "--time", "2026-04-01T01:00:00Z", "usb.attach", "device=1-1", "vid=0781", "pid=5581",
          "serial=AA01", "user=tanaka")
        w("append", "--time", "2026-04-01T01:00:01Z", "usb.decision", "device=1-1", "vid=0781", "pid=5581",
          "serial=AA01", "label=総務課-01", "decision=read-write", "interfaces=1.0:08:allow", "user=tanaka")
        w("append", "--time", "2026-04-01T01:05:00Z", "media.file-written", "device=1-1", "path=/a.xlsx", "size=10")
        w("append", "--time", "2026-04-01T01:06:00Z", "media.file-written", "device=1-1", "path=/=b.xlsx", "size=20")
        w("append", "--time", "2026-04-01T02:00:00Z", "usb.detach", "device=1-1", "label=総務課-01", "user=tanaka")
        # an unregistered stick blocked for suzuki
        w("append", "--time", "2026-04-02T01:00:00Z", "usb.attach", "device=1-2", "vid=1234", "pid=5678",
          "serial=ZZ", "user=suzuki")
        w("append", "--time", "2026-04-02T01:00:01Z", "usb.decision", "device=1-2", "vid=1234", "pid=5678",
          "serial=ZZ", "decision=storage-blocked", "interfaces=1.0:08:deny", "user=suzuki")
        w("append", "--time", "2026-04-02T01:01:00Z", "usb.detach", "device=1-2", "user=suzuki")
        # a keyboard: not storage
        w("append", "--time", "2026-04-02T03:00:00Z", "usb.attach", "device=1-3", "vid=046d", "pid=c31c")
        w("append", "--time", "2026-04-02T03:00:01Z", "usb.decision", "device=1-3", "decision=allowed",
          "interfaces=1.0:03:allow")
        w("append", "--time", "2026-04-03T00:00:00Z", "mfa.lockout", "user=suzuki", "service=login")
        # outside the period (April in Japan time)
        w("append", "--time", "2026-04-30T15:00:00Z", "usb.attach", "device=1-4", "vid=0781", "pid=5581",
          "serial=AA01", "user=tanaka")
        w("append", "--time", "2026-04-30T15:00:01Z", "usb.decision", "device=1-4", "decision=read-only",
          "label=総務課-01", "user=tanaka")
        for period in (["--from", "2026-04-01", "--to", "2026-04-30"], ["--month", "2026-04"],
                       ["--from", "2026-04-01T00:00:00+09:00", "--to", "2026-05-01T00:00:00+09:00"]):
            rep = self.report_json("usage", *period)
            self.assertEqual(rep["period"], {"from": "2026-04-01", "to": "2026-04-30", "time_zone": "Asia/Tokyo",
                                             "start": "2026-04-01 00:00:00", "end": "2026-05-01 00:00:00"})
            uses = rep["sections"]["uses"]
            self.assertEqual([(u["medium"], u["user"], u["decision"], u["files_written"], u["medium_department"])
                              for u in uses],
                             [("総務課-01", "tanaka", "read-write", 2, "総務課"),
                              ("1234:5678 ZZ", "suzuki", "storage-blocked", 0, "")], period)
            self.assertEqual(uses[0]["attached"], "2026-04-01 10:00:00")  # Japan time
            self.assertEqual(uses[0]["detached"], "2026-04-01 11:00:00")
            self.assertIn("medium's department", rep["department_basis"])
        self.assertEqual(len(self.report_json("usage", "--fiscal-year", "2026")["sections"]["per_month"]), 12)
        r = self.report("usage", "--month", "2026-04", "--csv")
        rows = list(csv.reader(io.StringIO(r.stdout.decode("utf-8-sig"), newline="")))
        self.assertTrue(r.stdout.startswith(b"\xef\xbb\xbf\"report\",\"usage\"\r\n"))
        files = rows[rows.index(["section", "files"]) + 2:]
        self.assertEqual([f[4] for f in files[:2]], ["/a.xlsx", "/=b.xlsx"])
        # the table, in Japanese by the locale, and in English by --lang
        r = subprocess.run([CTL, "--config", self.conf, "report", "usage", "--month", "2026-04"],
                           capture_output=True, env=dict(os.environ, LC_ALL="ja_JP.UTF-8", LANGUAGE=""))
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("外部記録媒体 使用簿", r.stdout.decode())
        out = self.report("usage", "--month", "2026-04", "--lang", "en").stdout.decode()
        self.assertIn("Usage register of removable media", out)
        self.assertIn("Asia/Tokyo (UTC+09:00)", out)
        # the other reports from the same journal
        self.assertEqual(len(self.report_json("blocked", "--month", "2026-04")["sections"]["attempts"]), 1)
        self.assertEqual(self.report_json("mfa", "--month", "2026-04")["sections"]["per_user"][0]["lockouts"], 1)
        media = self.report_json("media", "--month", "2026-04")["sections"]["media"]
        self.assertEqual([(m["label"], m["medium_department"], m["added_by"]) for m in media],
                         [("総務課-01", "総務課", "admin")])
        self.assertEqual(self.report_json("exceptions", "--month", "2026-04")["sections"]["exceptions"], [])
        # --out: a file for the caller alone
        out = os.path.join(self.tmp, "report.html")
        self.report("usage", "--fiscal-year", "2026", "--format", "html", "--out", out)
        self.assertEqual(os.stat(out).st_mode & 0o777, 0o600)
        html = self.read(out).decode()
        self.assertTrue(html.startswith("<!DOCTYPE html>"))
        self.assertIn("<svg", html)
        # a symbolic link at FILE is replaced, not followed
        victim = os.path.join(self.tmp, "victim")
        with open(victim, "w") as f:
            f.write("keep")
        link = os.path.join(self.tmp, "link.csv")
        os.symlink(victim, link)
        self.report("mfa", "--month", "2026-04", "--format", "csv", "--out", link)
        self.assertEqual(self.read(victim), b"keep")
        self.assertFalse(os.path.islink(link))
        self.assertTrue(self.read(link).startswith(b"\xef\xbb\xbf"))
        self.assertEqual([n for n in os.listdir(self.tmp) if n.startswith(("link.csv.", "report.html."))], [])
        # wrong periods and options
        for bad in (["--from", "2026-04-01"], ["--from", "2026-04-01", "--to", "2026-03-01"], ["--month", "2026-13"],
                    ["--month", "2026-04", "--fiscal-year", "2026"], ["--fiscal-year", "26"],
                    ["--month", "2026-04", "--format", "pdf"], ["--month", "2026-04", "--lang", "fr"],
                    ["--from", "2026-02-30", "--to", "2026-03-01"], ["--month", "2026-04", "extra"], []):
            r = self.ctl("report", "usage", *bad)
            self.assertEqual(r.returncode, 2, bad)
            self.assertEqual(r.stdout, b"", bad)
        r = self.ctl("report", "hosts", "--month", "2026-04")
        self.assertEqual(r.returncode, 2)
        r = self.ctl("report", "usage", "--month", "2026-04", "--out", os.path.join(self.tmp, "none", "x.csv"))
        self.assertEqual(r.returncode, 1)
        self.assertIn(b"cannot write", r.stderr)

    # crashes

    def test_writer_killed_at_random_points_loses_no_acknowledged_record(self):
        self.init()
        rng = random.Random(os.environ.get("TG_CRASH_SEED", "termguard"))
        acked = []
        for round_ in range(120):
            p = subprocess.Popen([WRITER, self.dir, self.hostid, "loop"], stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE)
            # let it acknowledge some records, then kill it somewhere in its loop
            for _ in range(rng.randint(0, 20)):
                line = p.stdout.readline()
                if not line:
                    break
                acked.append(int(line))
            # a random moment within the next appends: where in the loop the kill lands is
            # what this varies, nothing waits on it
            time.sleep(rng.random() * 0.003)
            p.send_signal(signal.SIGKILL)
            rest, err = p.communicate(timeout=30)
            # everything printed before it died was acknowledged
            acked += [int(x) for x in rest.split()]
            self.assertEqual(p.returncode, -signal.SIGKILL, err)
        # the next writer recovers; the journal verifies, keeps every acknowledged record,
        # and no seq was used twice
        self.writer("append", "usb.detach", "device=1-1")
        rc, out, r = self.verify()
        self.assertEqual(rc, 0, r.stdout)
        self.assertEqual(out["problems"], 0)
        seqs = [rec["seq"] for rec in self.log_json()]
        self.assertEqual(seqs, sorted(set(seqs)))
        self.assertFalse(set(acked) - set(seqs), "acknowledged records missing")
        self.assertGreater(len(acked), 500)


if __name__ == "__main__":
    unittest.main()
