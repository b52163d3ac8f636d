# SPDX-License-Identifier: GPL-2.0-or-later
"""termguard-forwarder end to end: a terminal enrolled with termguardctl central enroll from a
bundle of termguard-central enroll-host, the real termguardd writing its journal (under
umockdev-wrapper: an empty emulated sysfs, the host's USB untouched), the forwarder as the
termguard-forwarder system user, and a real PostgreSQL. Faults: PostgreSQL stopped mid-stream
and started again, the forwarder killed with SIGKILL at varying points, the network cut (the
forwarder in a network namespace whose veth goes down). After recovery the central (seq, mac)
of the host are exactly the local journal's, each once, and no conflict was raised. Retention
after a partial forward deletes no record after the mark. Another user cannot move the
forwarded mark."""
import grp
import json
import os
import pwd
import random
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import unittest

from central_testbed import BUILD, Bundle, CentralTestCase, wait_for

CTL = os.path.join(BUILD, "ctl", "termguardctl")
DAEMON = os.path.join(BUILD, "agent", "termguardd")
FORWARDER = os.path.join(BUILD, "forwarder", "termguard-forwarder")
LIST = os.path.join(BUILD, "tests", "journal-list")
WRITER = os.path.join(BUILD, "tests", "journal-writer")
TIMEOUT = float(os.environ.get("TG_IT_TIMEOUT", "90"))
NOBODY = 65534


class Terminal:
    """One enrolled terminal: config, state and runtime under /run (the daemon insists on
    root-only parents), termguardd, and at most one forwarder."""

    def __init__(self, test, bundle):
        self.test = test
        self.dir = tempfile.mkdtemp(prefix="tg-fwd-", dir="/run")
        os.chmod(self.dir, 0o755)
        self.conf = os.path.join(self.dir, "conf")
        self.state = os.path.join(self.dir, "state")
        self.run_dir = os.path.join(self.dir, "run")
        self.central_dir = os.path.join(self.dir, "central")
        self.journal = os.path.join(self.state, "journal")
        self.socket = os.path.join(self.run_dir, "control.socket")
        for d in (self.conf, self.state):
            os.makedirs(d)
            os.chmod(d, 0o755)
        with open(os.path.join(self.conf, "termguard.conf"), "w") as f:
            f.write("[Daemon]\nStateDirectory=%s\nRuntimeDirectory=%s\n" % (self.state, self.run_dir))
        self.bundle = bundle
        r = self.ctl("central", "enroll", bundle.path, "--central-dir", self.central_dir)
        test.assertEqual(r.returncode, 0, r.stderr)
        self.daemon = None
        self.forwarder = None
        self.n_media = 0
        self.start_daemon()

    def ctl(self, *args):
        return subprocess.run([CTL, "--config", self.conf, "--socket", self.socket] + list(args),
                              capture_output=True, text=True, timeout=60,
                              env=dict(os.environ, LC_ALL="C.UTF-8", LANGUAGE=""))

    def start_daemon(self):
        env = dict(os.environ, DBUS_SYSTEM_BUS_ADDRESS="unix:path=%s/no-bus" % self.dir)
        for k in ("JOURNAL_STREAM", "NOTIFY_SOCKET", "LD_PRELOAD"):
            env.pop(k, None)
        if getattr(self, "daemon_log", None):
            self.daemon_log.close()
        self.daemon_log = open(os.path.join(self.dir, "termguardd.log"), "ab")
        self.daemon = subprocess.Popen(["umockdev-wrapper", DAEMON, "--config", self.conf], env=env,
                                       stdin=subprocess.DEVNULL, stdout=self.daemon_log, stderr=self.daemon_log)
        wait_for(lambda: self.status() is not None, "termguardd's control socket")

    def status(self):
        if not os.path.exists(self.socket):
            return None
        r = self.ctl("--json", "status")
        return json.loads(r.stdout) if r.returncode == 0 else None

    def records(self, n):
        """n more records in the journal: media added through the daemon, one record each."""
        for _ in range(n):
            self.n_media += 1
            r = self.ctl("media", "add", "--vid", "0951", "--pid", "1666", "--serial", "S-%d" % self.n_media,
                         "--label", "総務-%d" % self.n_media)
            self.test.assertEqual(r.returncode, 0, r.stderr)

    def start_forwarder(self, batch=3, netns=None, idle_disconnect=None):
        self.test.assertIsNone(self.forwarder)
        cmd = [FORWARDER, "--journal", self.journal, "--central", self.central_dir, "--socket", self.socket,
               "--batch-records", str(batch)]
        if idle_disconnect is not None:
            cmd += ["--idle-disconnect", str(idle_disconnect)]
        cmd = ["setpriv", "--reuid=termguard-forwarder", "--regid=termguard-forwarder", "--init-groups"] + cmd
        if netns:
            cmd = ["ip", "netns", "exec", netns] + cmd
        self.forwarder_log = open(os.path.join(self.dir, "forwarder.log"), "ab")
        self.forwarder = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=self.forwarder_log,
                                          stderr=self.forwarder_log, cwd="/")

    def kill_forwarder(self, sig=signal.SIGKILL):
        p, self.forwarder = self.forwarder, None
        if p and p.poll() is None:
            p.send_signal(sig)
        if p:
            p.wait(timeout=30)
            self.forwarder_log.close()

    def local(self):
        r = subprocess.run([LIST, self.journal], capture_output=True, text=True, timeout=60)
        self.test.assertEqual(r.returncode, 0, r.stderr)
        return [tuple(line.split()) for line in r.stdout.splitlines()]

    def close(self):
        self.kill_forwarder(signal.SIGTERM)
        if self.daemon and self.daemon.poll() is None:
            self.daemon.send_signal(signal.SIGTERM)
            self.daemon.wait(timeout=60)
        self.daemon_log.close()
        shutil.rmtree(self.dir)


class ForwarderTest(CentralTestCase):
    def setUp(self):
        for prog in (CTL, DAEMON, FORWARDER, LIST):
            if not os.access(prog, os.X_OK):
                self.skipTest("%s not built" % prog)
        if not shutil.which("umockdev-wrapper"):
            self.skipTest("umockdev-wrapper missing (apt-get install umockdev)")

    def make_terminal(self, central_host="127.0.0.1"):
        out = tempfile.mktemp(prefix="bundle-", dir=self.central.dir)
        self.central.run("enroll-host", "--department", "総務課", "--out", out, "--escrow", self.central.escrow,
                         "--central-host", central_host, "--port", str(self.cluster.port))
        self.term = Terminal(self, Bundle(out, self.cluster.port))
        self.addCleanup(self.term.close)
        self.host = self.term.bundle.host_id

    def central_rows(self):
        rows = self.cluster.sql(
            "SELECT seq, encode(mac, 'hex') FROM termguard.events WHERE host_id = '%s' "
            "UNION ALL SELECT seq, encode(mac, 'hex') FROM termguard.heartbeats WHERE host_id = '%s' "
            "ORDER BY 1" % (self.host, self.host))
        return [(r[0], r[1]) for r in rows]

    def all_forwarded(self):
        local = self.term.local()
        return len(self.central_rows()) >= len(local)

    def assert_exactly_once(self):
        """The central (seq, mac) of the host are the local journal's, each once; no conflict."""
        local = self.term.local()
        self.assertGreater(len(local), 0)
        self.assertEqual(self.central_rows(), local)
        self.assertEqual(self.cluster.sql("SELECT count(*) FROM termguard.conflicts WHERE host_id = '%s'"
                                          % self.host), [["0"]])

    def wait_all(self):
        wait_for(self.all_forwarded, "every record in the central store")
        # the daemon heard of the last commit: nothing pending for retention
        wait_for(lambda: self.term.status()["journal_pending"] == 0, "the forwarded mark at the journal's end")

    def test_forwards_everything_once(self):
        self.make_terminal()
        self.term.records(10)
        self.term.start_forwarder()
        self.wait_all()
        self.assert_exactly_once()
        st = self.term.status()
        self.assertNotEqual(st["forwarder_last_commit_at"], "")
        self.assertEqual(st["forwarder_last_error"], "")
        self.assertEqual(st["journal_forwarded_seq"], st["journal_next_seq"] - 1)
        # new records follow without a restart (inotify)
        self.term.records(4)
        self.wait_all()
        self.assert_exactly_once()
        r = self.term.ctl("status")
        self.assertIn("forwarding:", r.stdout)
        self.assertIn("0 records pending", r.stdout)

    def sessions(self):
        """The server processes of the terminal's role: (pid, backend start)."""
        return [tuple(r) for r in self.cluster.sql("SELECT pid, backend_start FROM pg_stat_activity WHERE usename = '%s'"
                                                     % self.term.bundle.role)]

    def test_connection_kept_while_records_come_closed_when_idle(self):
        self.make_terminal()
        self.term.records(6)
        self.term.start_forwarder(batch=2, idle_disconnect=15)
        self.wait_all()
        # several batches, one server process: the connection stays while records come
        first = self.sessions()
        self.assertEqual(len(first), 1)
        for _ in range(3):
            self.term.records(3)
            self.wait_all()
        self.assertEqual(self.sessions(), first)
        # nothing more to send: closed after the idle time, and made again for new records
        wait_for(lambda: self.sessions() == [], "the idle connection closed")
        self.term.records(2)
        self.wait_all()
        again = self.sessions()
        self.assertEqual(len(again), 1)
        self.assertNotEqual(again, first)
        # the server ends the session (as at a restart): the next batch goes on a new one,
        # without an error shown
        self.cluster.sql("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = '%s'"
                         % self.term.bundle.role, dbname="postgres")
        wait_for(lambda: self.sessions() == [], "the session ended")
        self.term.records(2)
        self.wait_all()
        self.assert_exactly_once()
        self.assertEqual(self.term.status()["forwarder_last_error"], "")
        self.assertEqual(len(self.sessions()), 1)
        self.assertNotIn(self.sessions()[0], first + again)

    def test_idle_disconnect_bounded(self):
        for bad in ("-1", "86401", "5s", ""):
            r = subprocess.run([FORWARDER, "--idle-disconnect", bad, "--once"], capture_output=True, text=True,
                               timeout=30)
            self.assertEqual(r.returncode, 2, bad)
            self.assertIn("--idle-disconnect", r.stderr)

    def test_postgresql_stopped_mid_stream(self):
        self.make_terminal()
        self.term.records(30)
        self.term.start_forwarder(batch=2)
        wait_for(lambda: len(self.central_rows()) > 0, "a first commit")
        self.cluster.stop()
        try:
            self.term.records(5)
            # the forwarder says so, and the records wait
            wait_for(lambda: self.term.status()["forwarder_last_error"] != "", "the forwarder's error")
            st = self.term.status()
            self.assertGreater(st["journal_pending"], 0)
            r = self.term.ctl("status")
            self.assertIn("FORWARDING ERROR:", r.stdout)
        finally:
            self.cluster.start()
        self.wait_all()
        self.assert_exactly_once()
        wait_for(lambda: self.term.status()["forwarder_last_error"] == "", "the error cleared")

    def test_forwarder_killed_mid_batch(self):
        self.make_terminal()
        rnd = random.Random(4242)
        for i in range(20):
            self.term.records(3)
            self.term.start_forwarder(batch=2)
            # a varying point: before, during or after a batch's transaction
            time.sleep(rnd.uniform(0, 0.15))
            self.term.kill_forwarder()
        self.term.start_forwarder(batch=5)
        self.wait_all()
        self.assert_exactly_once()

    def test_network_cut(self):
        """The forwarder in a network namespace; its only way to the centre a veth whose host side
        goes down and up again. The namespace's /etc/hosts (ip netns exec) names the host's side
        of the veth "localhost", the name in the server's certificate."""
        tag = "%d" % (os.getpid() % 100000)
        ns, host_if, ns_if = "tgfwd" + tag, "tgh" + tag, "tgn" + tag
        host_addr, ns_addr = "10.231.7.1", "10.231.7.2"
        subprocess.run(["ip", "netns", "add", ns], check=True)
        self.addCleanup(subprocess.run, ["ip", "netns", "del", ns])
        etc = os.path.join("/etc/netns", ns)
        os.makedirs(etc)
        self.addCleanup(shutil.rmtree, etc)
        with open(os.path.join(etc, "hosts"), "w") as f:
            f.write("%s localhost\n" % host_addr)
        subprocess.run(["ip", "link", "add", host_if, "type", "veth", "peer", "name", ns_if, "netns", ns], check=True)
        self.addCleanup(subprocess.run, ["ip", "link", "del", host_if], capture_output=True)
        subprocess.run(["ip", "addr", "add", host_addr + "/30", "dev", host_if], check=True)
        subprocess.run(["ip", "link", "set", host_if, "up"], check=True)
        in_ns = ["ip", "netns", "exec", ns]
        subprocess.run(in_ns + ["ip", "addr", "add", ns_addr + "/30", "dev", ns_if], check=True)
        subprocess.run(in_ns + ["ip", "link", "set", ns_if, "up"], check=True)
        subprocess.run(in_ns + ["ip", "link", "set", "lo", "up"], check=True)
        # the cluster listens on the host's side of the veth too (pg_hba takes any address)
        self.cluster.stop()
        self.cluster.pg("pg_ctl", "-D", self.cluster.data, "-l", self.cluster.log, "-w", "-t", "60", "start", "-o",
                        "-k %s -c listen_addresses=127.0.0.1,%s -p %d -c fsync=off"
                        % (self.cluster.sock, host_addr, self.cluster.port))
        self.cluster.started = True
        self.addCleanup(self.cluster.start)
        self.addCleanup(self.cluster.stop)
        self.make_terminal(central_host="localhost")
        self.term.records(20)
        self.term.start_forwarder(batch=2, netns=ns)
        wait_for(lambda: len(self.central_rows()) > 0, "a first commit over the veth")
        subprocess.run(["ip", "link", "set", host_if, "down"], check=True)
        self.term.records(5)
        wait_for(lambda: self.term.status()["forwarder_last_error"] != "", "the forwarder's error")
        self.assertGreater(self.term.status()["journal_pending"], 0)
        subprocess.run(["ip", "link", "set", host_if, "up"], check=True)
        self.wait_all()
        self.assert_exactly_once()

    def test_retention_keeps_unforwarded_records(self):
        """Retention after a forward, with closed segments of records never forwarded after the
        mark: only segments at or below the mark go; every record after it stays and reaches
        the centre later, once."""
        self.make_terminal()
        t = self.term
        host_id = os.path.join(t.state, "host-id")
        env = dict(os.environ, TG_JOURNAL_SEGMENT_BYTES=str(64 + 128 * 1024),
                   TG_JOURNAL_READER_GID=str(grp.getgrnam("termguard-audit").gr_gid))

        def write(n, tag):
            # with termguardd stopped: the writer takes the journal's lock; about 30 a segment
            for i in range(n):
                r = subprocess.run([WRITER, t.journal, host_id, "append", "usb.attach", "device=%s-%d" % (tag, i),
                                    "label=" + "x" * 4000], capture_output=True, text=True, env=env)
                self.assertEqual(r.returncode, 0, r.stderr)

        def stop_daemon():
            t.daemon.send_signal(signal.SIGTERM)
            t.daemon.wait(timeout=60)

        stop_daemon()
        write(90, "a")
        t.start_daemon()
        t.start_forwarder(batch=20)
        self.wait_all()
        t.kill_forwarder()
        mark = t.status()["journal_forwarded_seq"]
        stop_daemon()
        # several closed segments of records the centre has not seen
        write(90, "b")
        before = t.local()
        self.assertGreater(int(before[-1][0]) - mark, 60)
        r = subprocess.run([WRITER, t.journal, host_id, "prune"], capture_output=True, text=True, env=env)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertGreater(int(r.stdout), 0)  # forwarded segments went
        after = t.local()
        gone = [x for x in before if x not in after]
        self.assertTrue(gone)
        self.assertTrue(all(int(x[0]) <= mark for x in gone), "an unforwarded record was deleted")
        self.assertEqual([x for x in before if int(x[0]) > mark], [x for x in after if x in before and int(x[0]) > mark])
        # the rest arrives, each record once (the pruned ones were there already)
        t.start_daemon()
        t.start_forwarder(batch=50)
        self.wait_all()
        rows = self.central_rows()
        self.assertEqual(len(rows), len(set(rows)))
        self.assertEqual(sorted(set(before) | set(t.local()), key=lambda x: int(x[0])), rows)

    def test_only_the_forwarder_moves_the_mark(self):
        self.make_terminal()
        self.term.records(3)
        def call(uid, request):
            script = ("import socket,sys; s=socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); "
                      "s.sendall(sys.argv[2].encode()+b'\\n'); print(s.makefile().readline())")
            cmd = ["setpriv", "--reuid=%s" % uid, "--regid=%s" % uid, "--init-groups" if isinstance(uid, str)
                   else "--clear-groups", "/usr/bin/python3", "-c", script, self.term.socket, json.dumps(request)]
            r = subprocess.run(cmd, capture_output=True, text=True, timeout=30)
            self.assertEqual(r.returncode, 0, r.stderr)
            return json.loads(r.stdout)
        mark = {"command": "journal.forwarded", "seq": 2}
        reply = call(NOBODY, mark)
        self.assertFalse(reply["ok"])
        self.assertEqual(reply["code"], "permission-denied")
        reply = call(NOBODY, {"command": "forwarder.status", "last_commit_usec": 1, "pending": 0,
                              "last_error": "forged"})
        self.assertEqual(reply["code"], "permission-denied")
        self.assertEqual(self.term.status()["journal_forwarded_seq"], 0)
        self.assertEqual(self.term.status()["forwarder_last_error"], "")
        # a forwarder run by another user gets nowhere: it cannot read the journal either
        r = subprocess.run(["setpriv", "--reuid=%d" % NOBODY, "--regid=%d" % NOBODY, "--clear-groups", FORWARDER,
                            "--once", "--journal", self.term.journal, "--central", self.term.central_dir,
                            "--socket", self.term.socket], capture_output=True, text=True, timeout=60)
        self.assertNotEqual(r.returncode, 0)
        self.assertEqual(self.term.status()["journal_forwarded_seq"], 0)
        # the forwarder's user may
        reply = call("termguard-forwarder", mark)
        self.assertTrue(reply["ok"], reply)
        self.assertEqual(reply["forwarded_seq"], 2)
        self.assertEqual(self.term.status()["journal_forwarded_seq"], 2)


if __name__ == "__main__":
    unittest.main()
