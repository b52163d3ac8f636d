# SPDX-License-Identifier: GPL-2.0-or-later
"""A real PostgreSQL 15 server for the central store's tests: initdb and pg_ctl in a temporary
directory, run by an unprivileged user when the tests run as root, listening on loopback (a
free port) and on a Unix socket in that directory. termguard-central's init turns TLS on with a
server certificate from its own CA. Clients are psql with real TLS client certificates."""
import base64
import json
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
import unittest

PG_BIN = "/usr/lib/postgresql/15/bin"
BUILD = os.environ.get("TG_BUILD_DIR", "")
CENTRAL = os.path.join(BUILD, "central", "termguard-central")
SQL_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "central", "sql")
SUPERUSER = "tgsuper"


def pg_missing():
    """Why the tier cannot run here, or None."""
    for prog in ("initdb", "pg_ctl", "pg_dump", "pg_restore"):
        if not os.access(os.path.join(PG_BIN, prog), os.X_OK):
            return "PostgreSQL 15 server programs missing in %s (apt-get install postgresql-15)" % PG_BIN
    if not shutil.which("psql"):
        return "psql missing (apt-get install postgresql-client-15)"
    if not os.access(CENTRAL, os.X_OK):
        # A build that failed must not pass as a skipped tier.
        raise RuntimeError("termguard-central not built in %s" % BUILD)
    return None


def wait_for(predicate, what, timeout=float(os.environ.get("TG_IT_TIMEOUT", "90"))):
    """Polls predicate until it holds (bounded): the central store has no event to wait on."""
    deadline = time.monotonic() + timeout
    while True:
        if predicate():
            return
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting for %s" % what)
        time.sleep(0.1)


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Cluster:
    """One PostgreSQL cluster in its own directory, started and stopped by the test."""

    def __init__(self, parent, superuser=SUPERUSER, auth_local="trust"):
        self.superuser = superuser
        self.dir = tempfile.mkdtemp(prefix="cluster-", dir=parent)
        self.data = os.path.join(self.dir, "data")
        self.sock = os.path.join(self.dir, "sock")
        self.log = os.path.join(self.dir, "log")
        self.port = free_port()
        os.mkdir(self.sock)
        self.user = None
        if os.geteuid() == 0:
            # The server refuses to run as root: the postgres user if the package made it.
            try:
                self.user = pwd.getpwnam("postgres")
            except KeyError:
                self.user = pwd.getpwnam("nobody")
            os.chmod(self.dir, 0o755)
            for d in (self.dir, self.sock):
                os.chown(d, self.user.pw_uid, self.user.pw_gid)
        self.pg("initdb", "-D", self.data, "-U", superuser, "--auth-local=" + auth_local, "--auth-host=reject",
                "-E", "UTF8", "--locale=C", "--no-sync")
        self.started = False

    def pg(self, prog, *args):
        cmd = [os.path.join(PG_BIN, prog)] + list(args)
        if self.user:
            cmd = ["setpriv", "--reuid=%d" % self.user.pw_uid, "--regid=%d" % self.user.pw_gid,
                   "--clear-groups"] + cmd
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=120, cwd="/")
        if r.returncode != 0:
            log = open(self.log).read()[-3000:] if os.path.exists(self.log) else ""
            raise RuntimeError("%s failed: %s%s\n%s" % (prog, r.stdout, r.stderr, log))
        return r

    def start(self):
        # -w: pg_ctl returns once the server accepts connections.
        self.pg("pg_ctl", "-D", self.data, "-l", self.log, "-w", "-t", "60", "start", "-o",
                "-k %s -c listen_addresses=127.0.0.1 -p %d -c fsync=off" % (self.sock, self.port))
        self.started = True

    def stop(self):
        if self.started:
            self.pg("pg_ctl", "-D", self.data, "-m", "fast", "-w", "stop")
            self.started = False

    def dsn(self, dbname="postgres", user=None):
        user = user or self.superuser
        return "host=%s port=%d user=%s dbname=%s" % (self.sock, self.port, user, dbname)

    def sql(self, sql, dbname="termguard", user=None, check=True):
        """Runs sql over the Unix socket (trust); returns the rows as lists of strings."""
        return psql(self.dsn(dbname, user), sql, check=check)


def psql(dsn, sql, check=True):
    r = subprocess.run(["psql", "-X", "-q", "-A", "-t", "-F", "\t", "-v", "ON_ERROR_STOP=1", dsn],
                       input=sql, capture_output=True, text=True, timeout=60)
    if check and r.returncode != 0:
        raise AssertionError("psql failed: %s" % r.stderr)
    if not check:
        return r
    return [line.split("\t") for line in r.stdout.splitlines() if line]


class Central:
    """termguard-central against one cluster, its CA and escrow in the test's directory."""

    def __init__(self, cluster, parent, name="central", local=False):
        """local: no --dsn; the program finds the cluster as root does on a server (its
        postgres superuser by peer authentication), here through PGHOST and PGPORT."""
        self.cluster = cluster
        self.local = local
        self.dir = os.path.join(parent, name)
        os.mkdir(self.dir, 0o700)
        self.ca = os.path.join(self.dir, "ca")
        self.escrow = os.path.join(self.dir, "escrow")

    def run(self, *args, check=True):
        env = dict(os.environ, TG_CENTRAL_SQL_DIR=SQL_DIR)
        if self.local:
            cmd = [CENTRAL, "--ca-dir", self.ca] + list(args)
            env.update(PGHOST=self.cluster.sock, PGPORT=str(self.cluster.port))
        else:
            cmd = [CENTRAL, "--dsn", self.cluster.dsn(), "--ca-dir", self.ca] + list(args)
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=180, env=env)
        if check and r.returncode != 0:
            raise AssertionError("%s failed (%d): %s%s" % (" ".join(args), r.returncode, r.stdout, r.stderr))
        return r

    def init(self):
        return self.run("init", "--escrow", self.escrow, "--server-name", "localhost")

    def enroll(self, department, hostname=None):
        out = tempfile.mktemp(prefix="bundle-", dir=self.dir)
        args = ["enroll-host", "--department", department, "--out", out, "--escrow", self.escrow,
                "--central-host", "127.0.0.1", "--port", str(self.cluster.port)]
        if hostname:
            args += ["--hostname", hostname]
        self.run(*args)
        return Bundle(out, self.cluster.port)


class Bundle:
    """An enrolment bundle as a terminal gets it, and a TLS session with its certificate."""

    def __init__(self, path, port):
        self.path = path
        self.port = port
        with open(os.path.join(path, "host-id")) as f:
            self.host_id = f.read().strip()
        with open(os.path.join(path, "central.conf")) as f:
            self.role = [l.split("=", 1)[1].strip() for l in f if l.startswith("Role=")][0]

    def dsn(self, dbname="termguard", cert=None, key=None, user=None):
        return ("host=127.0.0.1 port=%d dbname=%s user=%s sslmode=verify-full sslrootcert=%s sslcert=%s "
                "sslkey=%s" % (self.port, dbname, user or self.role, os.path.join(self.path, "ca.crt"),
                               cert or os.path.join(self.path, "client.crt"),
                               key or os.path.join(self.path, "client.key")))

    def sql(self, sql, **kw):
        """psql over TLS with the bundle's certificate; the CompletedProcess."""
        return psql(self.dsn(**kw), sql, check=False)

    def ingest(self, records):
        return self.sql(ingest_sql(records))

    def ingest_started(self, records):
        """The same, running: a Popen whose communicate() gives stdout and stderr."""
        return subprocess.Popen(["psql", "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", self.dsn(),
                                 "-c", ingest_sql(records)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def ingest_sql(records):
    text = records if isinstance(records, str) else json.dumps(records, ensure_ascii=False)
    assert "$tgb$" not in text
    return "SELECT termguard.ingest($tgb$%s$tgb$::jsonb);" % text


def record(seq, time_usec=1764500000000000, type_="usb.decision", mac=None, fields=None):
    """A well-formed batch element; the MACs are distinct per seq unless given."""
    return {
        "seq": seq,
        "boot_id": "0f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9",
        "time_usec": time_usec,
        "clock": 1,
        "priority": 6,
        "type": type_,
        "uid": 0,
        "pid": 123,
        "comm": "termguardd",
        "unit": "termguardd.service",
        "fields": fields if fields is not None else [["device", "1-1"], ["decision", "read-only"]],
        "prev_mac": "%064x" % (seq - 1),
        "mac": mac or "%064x" % (0xabc000 + seq),
        "raw": base64.b64encode(("record %d" % seq).encode()).decode(),
    }


class CentralTestCase(unittest.TestCase):
    """One cluster for the class, initialised by termguard-central init."""

    @classmethod
    def setUpClass(cls):
        why = pg_missing()
        if why:
            raise unittest.SkipTest(why)
        cls.tmp = tempfile.mkdtemp(prefix="tg-central-")
        os.chmod(cls.tmp, 0o711)
        cls.cluster = Cluster(cls.tmp)
        try:
            cls.cluster.start()
            cls.central = Central(cls.cluster, cls.tmp)
            cls.central.init()
        except Exception:
            cls.cluster.stop()
            shutil.rmtree(cls.tmp)
            raise

    @classmethod
    def tearDownClass(cls):
        cls.cluster.stop()
        shutil.rmtree(cls.tmp)
