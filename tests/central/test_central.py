# SPDX-License-Identifier: GPL-2.0-or-later
"""The central store on a real PostgreSQL 15 server, through the real termguard-central
commands and real TLS client certificates (psql/libpq): ingest, resends and conflicts, the usage
rollup against the events, what a terminal's certificate can and cannot do, revocation and
re-enrolment, a foreign CA, the auditor's role, malformed batches refused whole, partitions and
retention, backup and restore into a fresh cluster, enrolment."""
import datetime
import json
import os
import stat
import subprocess
import tempfile
import unittest

from central_testbed import (CENTRAL, SQL_DIR, SUPERUSER, Bundle, Central, CentralTestCase, Cluster, ingest_sql, psql,
                             record, wait_for)

TOKYO = datetime.timezone(datetime.timedelta(hours=9))


def read(path):
    with open(path) as f:
        return f.read()


def usec(dt):
    return int(dt.timestamp()) * 1000000


def months_ago(n):
    """A time in the middle of the Asia/Tokyo month n months before this one, and that month's
    partition name."""
    now = datetime.datetime.now(TOKYO)
    y, m = now.year, now.month - n
    while m <= 0:
        y, m = y - 1, m + 12
    return usec(datetime.datetime(y, m, 15, 12, 0, tzinfo=TOKYO)), "events_%04d%02d" % (y, m)


# The month of record()'s default time, which other tests' records make a partition for.
DEFAULT_PART = datetime.datetime.fromtimestamp(record(1)["time_usec"] / 1e6, TOKYO).strftime("events_%Y%m")


def new_month(n):
    """months_ago(n), or the month before it where that one is record()'s default month: a
    month no other test stores records in."""
    t, part = months_ago(n)
    return months_ago(n + 1) if part == DEFAULT_PART else (t, part)


class CentralStoreTest(CentralTestCase):
    def count(self, sql):
        return int(self.cluster.sql(sql)[0][0])

    def assertRefused(self, r, what):
        self.assertNotEqual(r.returncode, 0, "%s was not refused: %s" % (what, r.stdout))

    # Ingest ---------------------------------------------------------------------------------

    def test_ingest_resend_and_conflict(self):
        b = self.central.enroll("総務課", "pc-ingest")
        batch = [record(1), record(2, type_="usb.attach"), record(3, type_="journal.checkpoint")]
        r = b.ingest(batch)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout.strip(), "3")
        # Events with the department; the checkpoint among the heartbeats, not the events.
        rows = self.cluster.sql("SELECT seq, department, type, encode(mac, 'hex'), encode(raw, 'escape') "
                                "FROM termguard_report.events WHERE host_id = '%s' ORDER BY seq" % b.host_id)
        self.assertEqual(rows, [["1", "総務課", "usb.decision", "%064x" % 0xabc001, "record 1"],
                                ["2", "総務課", "usb.attach", "%064x" % 0xabc002, "record 2"]])
        self.assertEqual(self.count("SELECT count(*) FROM termguard.heartbeats WHERE host_id = '%s' AND seq = 3"
                                    % b.host_id), 1)
        self.assertEqual(self.cluster.sql("SELECT type, count FROM termguard.usage_monthly WHERE host_id = '%s' "
                                          "ORDER BY type" % b.host_id), [["usb.attach", "1"], ["usb.decision", "1"]])

        # A resend of the same records is harmless.
        r = b.ingest(batch)
        self.assertEqual(r.stdout.strip(), "0", r.stderr)
        self.assertEqual(self.count("SELECT count(*) FROM termguard.events WHERE host_id = '%s'" % b.host_id), 2)
        self.assertEqual(self.cluster.sql("SELECT sum(count) FROM termguard.usage_monthly WHERE host_id = '%s'"
                                          % b.host_id), [["2"]])

        # Another record under seq 2: kept in conflicts with an alert (row and NOTIFY); the
        # stored record stays. The session listens, so it sees the notification at commit.
        other = record(2, mac="ee" * 32, fields=[["device", "9-9"]])
        r = b.sql("LISTEN termguard_alert;\n" + ingest_sql([other, record(4)]))
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("1", r.stdout.split())  # seq 4 stored
        self.assertIn('"kind" : "conflict"', r.stdout)
        self.assertIn(b.host_id, r.stdout)
        self.assertEqual(self.cluster.sql("SELECT seq, encode(stored_mac, 'hex'), encode(received_mac, 'hex'), "
                                          "record->'fields' FROM termguard.conflicts WHERE host_id = '%s'"
                                          % b.host_id),
                         [["2", "%064x" % 0xabc002, "ee" * 32, '[["device", "9-9"]]']])
        self.assertEqual(self.cluster.sql("SELECT kind, seq FROM termguard_report.alerts WHERE host_id = '%s'"
                                          % b.host_id), [["conflict", "2"]])
        self.assertEqual(self.cluster.sql("SELECT encode(mac, 'hex'), fields FROM termguard.events WHERE "
                                          "host_id = '%s' AND seq = 2" % b.host_id),
                         [["%064x" % 0xabc002, '[["device", "1-1"], ["decision", "read-only"]]']])
        self.assertEqual(self.cluster.sql("SELECT last_seq FROM termguard.hosts WHERE host_id = '%s'"
                                          % b.host_id), [["4"]])

    def test_usage_rollup_matches_the_events(self):
        """The usage register from the rollup (what auditors read) gives the same rows as
        counting the events: several terminals, records on both sides of Tokyo month
        boundaries (one in December in Tokyo but November in UTC), clocks far off (the
        default partition), checkpoints, a resend, a conflict, a gap filled later."""
        def at(y, mo, d, h=0, mi=0, s=0, us=0):
            return usec(datetime.datetime(y, mo, d, h, mi, s, tzinfo=TOKYO)) + us

        nov_last = at(2025, 11, 30, 23, 59, 59, 999999)
        dec_first = at(2025, 12, 1)
        dec_utc_nov = at(2025, 12, 1, 8, 59, 59)  # 2025-11-30 23:59:59 UTC
        jan_first = at(2026, 1, 1, 0, 0, 0, 1)
        far = at(2031, 1, 15, 12)  # beyond the partition window: events_default
        old = at(1985, 3, 1)
        a = self.central.enroll("保険年金課", "pc-rollup-a")
        b = self.central.enroll("保険年金課", "pc-rollup-b")
        c = self.central.enroll("介護保険課", "pc-rollup-c")

        def stored(bundle, batch):
            r = bundle.ingest(batch)
            self.assertEqual(r.returncode, 0, r.stderr)
            return int(r.stdout.strip())

        first = [record(1, nov_last), record(2, dec_first, "usb.attach"),
                 record(3, dec_utc_nov, "media.file-written"), record(4, nov_last, "journal.checkpoint"),
                 record(5, far), record(6, old, "mfa.success"), record(10, jan_first, "usb.attach")]
        self.assertEqual(stored(a, first), 7)
        # A resend of two records, a conflict under seq 3 (another type and month, not counted),
        # seqs 7..9 below last_seq but never stored (counted), a new one.
        self.assertEqual(stored(a, [record(3, jan_first, "usb.attach", mac="ee" * 32),
                                    record(5, far), record(6, old, "mfa.success"),
                                    record(7, dec_first, "media.file-written"), record(8, dec_utc_nov),
                                    record(9, nov_last, "journal.checkpoint"), record(11, dec_first)]), 4)
        self.assertEqual(self.count("SELECT count(*) FROM termguard.conflicts WHERE host_id = '%s'" % a.host_id), 1)
        batch_b = [record(i, t, ty) for i, (t, ty) in enumerate(
            [(nov_last - 1, "usb.decision"), (nov_last, "usb.attach"), (dec_first, "usb.decision"),
             (dec_first + 1, "usb.attach"), (dec_utc_nov, "media.file-written"),
             (dec_utc_nov, "journal.checkpoint"), (jan_first, "media.file-written")], start=1)]
        self.assertEqual(stored(b, batch_b), 7)
        self.assertEqual(stored(b, batch_b), 0)  # the whole batch again
        self.assertEqual(stored(c, [record(1, dec_first, "journal.checkpoint"), record(2, dec_utc_nov)]), 2)

        hosts = ", ".join("'%s'" % x.host_id for x in (a, b, c))
        naive = self.cluster.sql(
            "SELECT h.department, date_trunc('month', e.time AT TIME ZONE 'Asia/Tokyo')::date, e.type, count(*) "
            "FROM termguard.events e JOIN termguard.hosts h USING (host_id) WHERE host_id IN (%s) "
            "GROUP BY 1, 2, 3 ORDER BY 1, 2, 3" % hosts)
        rollup = self.cluster.sql(
            "SELECT department, month, type, sum(count) FROM termguard_report.usage_monthly "
            "WHERE host_id IN (%s) GROUP BY 1, 2, 3 ORDER BY 1, 2, 3" % hosts)
        self.assertEqual(rollup, naive)
        # What the register must say, not only that both agree.
        self.assertEqual(rollup, [
            ["介護保険課", "2025-12-01", "usb.decision", "1"],
            ["保険年金課", "1985-03-01", "mfa.success", "1"],
            ["保険年金課", "2025-11-01", "usb.attach", "1"],
            ["保険年金課", "2025-11-01", "usb.decision", "2"],
            ["保険年金課", "2025-12-01", "media.file-written", "3"],
            ["保険年金課", "2025-12-01", "usb.attach", "2"],
            ["保険年金課", "2025-12-01", "usb.decision", "3"],
            ["保険年金課", "2026-01-01", "media.file-written", "1"],
            ["保険年金課", "2026-01-01", "usb.attach", "1"],
            ["保険年金課", "2031-01-01", "usb.decision", "1"]])
        # Per terminal too: the rollup's rows are the events grouped by host, month and type.
        per_host = ("SELECT host_id, %s, type, %s FROM %s WHERE host_id IN (" + hosts + ") "
                    "GROUP BY 1, 2, 3 ORDER BY 1, 2, 3")
        self.assertEqual(self.cluster.sql(per_host % ("month", "sum(count)", "termguard.usage_monthly")),
                         self.cluster.sql(per_host % ("termguard.month_of(time)", "count(*)", "termguard.events")))
        # The register for one fiscal year by department and month, as the bench compares it:
        # a month without one of the types is 0 from the rollup as from the events.
        fy = self.cluster.sql(
            "SELECT department, month, coalesce(sum(count) FILTER (WHERE type = 'media.file-written'), 0) "
            "FROM termguard_report.usage_monthly WHERE host_id IN (%s) AND month >= '2025-04-01' "
            "AND month < '2026-04-01' GROUP BY 1, 2 ORDER BY 1, 2" % hosts)
        self.assertEqual(fy, [["介護保険課", "2025-12-01", "0"], ["保険年金課", "2025-11-01", "0"],
                              ["保険年金課", "2025-12-01", "3"], ["保険年金課", "2026-01-01", "1"]])

    def test_malformed_batches_refused_whole(self):
        b = self.central.enroll("税務課")
        big = "x" * 4097

        def bad(**changes):
            rec = record(2)
            for k, v in changes.items():
                if v is KeyError:
                    del rec[k]
                else:
                    rec[k] = v
            return rec

        cases = {
            "seq 0": [bad(seq=0)],
            "seq as text": [bad(seq="2")],
            "seq fractional": [bad(seq=2.5)],
            "seq negative": [bad(seq=-2)],
            "seq out of order": [record(3), record(2)],
            "seq repeated": [record(2), record(2)],
            "priority 8": [bad(priority=8)],
            "clock 3": [bad(clock=3)],
            "uid too large": [bad(uid=2 ** 32)],
            "pid as text": [bad(pid="1")],
            "time_usec negative": [bad(time_usec=-1)],
            "time_usec beyond 9999": [bad(time_usec=253402300800000000)],
            "type upper case": [bad(type="USB.decision")],
            "type too long": [bad(type="a" * 65)],
            "type empty": [bad(type="")],
            "comm too long": [bad(comm="c" * 65)],
            "unit not text": [bad(unit=5)],
            "value too long": [bad(fields=[["name", big]])],
            "key bad": [bad(fields=[["bad key", "v"]])],
            "key too long": [bad(fields=[["k" * 65, "v"]])],
            "too many fields": [bad(fields=[["k%d" % i, "v"] for i in range(65)])],
            "field not a pair": [bad(fields=[["a", "b", "c"]])],
            "field value number": [bad(fields=[["a", 1]])],
            "fields an object": [bad(fields={"a": "b"})],
            "mac not hex": [bad(mac="zz" * 32)],
            "mac short": [bad(mac="ab" * 31)],
            "prev_mac long": [bad(prev_mac="ab" * 33)],
            "boot_id not a uuid": [bad(boot_id="not-a-uuid")],
            "raw not base64": [bad(raw="!!!!")],
            "raw empty": [bad(raw="")],
            "raw over 128 KiB": [bad(raw="QUJD" * (131072 // 3 + 1))],
            "missing key": [bad(mac=KeyError)],
            "unknown key": [dict(record(2), extra=1)],
            "a host_id of its own": [dict(record(2), host_id="00000000-0000-4000-8000-000000000000")],
            "element not an object": [record(2), [1, 2]],
        }
        for name, batch in cases.items():
            with self.subTest(name):
                # A good record first: it must not be stored either.
                r = b.ingest([record(1)] + batch)
                self.assertRefused(r, name)
                self.assertIn("ERROR", r.stderr)
        for name, text in {
            "NUL escape": json.dumps([record(1), dict(record(2), comm="a\u0000b")]),
            "not an array": json.dumps(record(1)),
            "empty batch": "[]",
            "not JSON": "[{\"seq\": 1,",
            "too many records": json.dumps([record(i) for i in range(1, 10002)]),
        }.items():
            with self.subTest(name):
                self.assertRefused(b.ingest(text), name)
        self.assertEqual(self.count("SELECT count(*) FROM termguard.events WHERE host_id = '%s'" % b.host_id), 0)
        self.assertEqual(self.cluster.sql("SELECT last_seq FROM termguard.hosts WHERE host_id = '%s'" % b.host_id),
                         [["0"]])
        # The same host is not locked out by its bad batches.
        self.assertEqual(b.ingest([record(1)]).stdout.strip(), "1")

    # What a terminal's certificate allows ----------------------------------------------------

    def test_host_cannot_act_as_another(self):
        a = self.central.enroll("企画課")
        b = self.central.enroll("企画課")
        # No parameter names the host; a host_id in the payload is refused.
        r = a.sql("SELECT termguard.ingest('[]'::jsonb, '%s'::uuid);" % b.host_id)
        self.assertRefused(r, "ingest with a host argument")
        self.assertRefused(a.ingest([dict(record(1), host_id=b.host_id)]), "a host_id in the record")
        # Nor can it become the other role.
        self.assertRefused(a.sql("SET ROLE %s;" % b.role), "SET ROLE to another host")
        self.assertRefused(a.sql("SET SESSION AUTHORIZATION %s;" % b.role), "SET SESSION AUTHORIZATION")
        # A's certificate is not B's: logging in as B with it fails.
        r = psql(a.dsn(user=b.role), "SELECT 1;", check=False)
        self.assertRefused(r, "A's certificate as B")
        # What A sends lands under A.
        self.assertEqual(a.ingest([record(1)]).stdout.strip(), "1")
        self.assertEqual(self.cluster.sql("SELECT host_id FROM termguard.events WHERE host_id IN ('%s', '%s')"
                                          % (a.host_id, b.host_id)), [[a.host_id]])

    def test_host_cannot_read_change_or_call_anything_else(self):
        b = self.central.enroll("会計課")
        self.assertEqual(b.ingest([record(1)]).stdout.strip(), "1")
        tables = ["termguard.hosts", "termguard.events", "termguard.events_default", "termguard.heartbeats",
                  "termguard.conflicts", "termguard.alerts", "termguard.usage_monthly", "termguard.certificates",
                  "termguard.prunes", "termguard.schema_migrations", "termguard_report.events",
                  "termguard_report.hosts", "termguard_report.heartbeats", "termguard_report.alerts",
                  "termguard_report.conflicts", "termguard_report.usage_monthly", "termguard.prune_marks",
                  "termguard_report.prune_marks", "termguard.alert_deliveries"]
        for t in tables:
            column = {"termguard.schema_migrations": "version", "termguard.prunes": "month",
                      "termguard.alert_deliveries": "alert_id"}.get(t, "host_id")
            for stmt in ("SELECT * FROM %s LIMIT 1;" % t, "DELETE FROM %s;" % t,
                         "UPDATE %s SET %s = %s;" % (t, column, column), "TRUNCATE %s;" % t):
                with self.subTest(stmt):
                    r = b.sql(stmt)
                    self.assertRefused(r, stmt)
                    self.assertRegex(r.stderr, "permission denied|must be owner")
        with self.subTest("insert"):
            self.assertRefused(b.sql("INSERT INTO termguard.events SELECT * FROM termguard.events;"), "INSERT")
        for call in ["termguard.enroll_host(gen_random_uuid(), 'x', NULL, 'ab', now())",
                     "termguard.revoke_host('%s')" % b.host_id,
                     "termguard.reenroll_host('%s', 'ab', now())" % b.host_id,
                     "termguard.prune(1)", "termguard.ensure_partition(now())",
                     "termguard.ensure_partitions_ahead(1)", "termguard.restore_host_roles()",
                     "termguard.in_partition_window(now())", "termguard.month_start(now())",
                     "termguard.host_role(gen_random_uuid())", "termguard.undelivered_alerts(10)",
                     "termguard.alert_delivered(1)"]:
            with self.subTest(call):
                r = b.sql("SELECT %s;" % call)
                self.assertRefused(r, call)
                self.assertIn("permission denied", r.stderr)
        with self.subTest("temporary table"):
            self.assertRefused(b.sql("CREATE TEMP TABLE t (a int);"), "CREATE TEMP TABLE")
        with self.subTest("other database"):
            self.assertRefused(b.sql("SELECT 1;", dbname="postgres"), "another database")
        # Nothing changed.
        self.assertEqual(self.count("SELECT count(*) FROM termguard.events WHERE host_id = '%s'" % b.host_id), 1)

    def test_no_password_no_plain_connection(self):
        b = self.central.enroll("市民課")
        r = psql("host=127.0.0.1 port=%d dbname=termguard user=%s sslmode=disable" % (b.port, b.role),
                 "SELECT 1;", check=False)
        self.assertRefused(r, "a connection without TLS")
        r = psql("host=127.0.0.1 port=%d dbname=termguard user=%s sslmode=require sslrootcert=%s"
                 % (b.port, b.role, os.path.join(b.path, "ca.crt")), "SELECT 1;", check=False)
        self.assertRefused(r, "TLS without a client certificate")

    def test_revoked_host_refused_records_stay(self):
        b = self.central.enroll("環境課")
        self.assertEqual(b.ingest([record(1)]).stdout.strip(), "1")
        self.central.run("revoke-host", b.host_id)
        r = b.ingest([record(2)])
        self.assertRefused(r, "a revoked host's certificate")
        self.assertRegex(r.stderr, "not permitted to log in|revoked")
        self.assertEqual(self.count("SELECT count(*) FROM termguard.events WHERE host_id = '%s'" % b.host_id), 1)
        self.assertEqual(self.cluster.sql("SELECT revoked_at IS NOT NULL FROM termguard.hosts WHERE host_id = '%s'"
                                          % b.host_id), [["t"]])
        self.assertEqual(self.count("SELECT count(*) FROM termguard.certificates WHERE host_id = '%s' AND "
                                    "revoked_at IS NULL" % b.host_id), 0)
        # Twice, or re-enrolment of a revoked host: refused.
        self.assertNotEqual(self.central.run("revoke-host", b.host_id, check=False).returncode, 0)
        out = os.path.join(self.central.dir, "reenroll-revoked")
        self.assertNotEqual(self.central.run("reenroll-host", b.host_id, "--out", out, check=False).returncode, 0)
        self.assertFalse(os.path.exists(out))

    def test_reenroll_new_certificate_old_one_revoked(self):
        b = self.central.enroll("建設課")
        self.assertEqual(b.ingest([record(1)]).stdout.strip(), "1")
        out = os.path.join(self.central.dir, "reenroll-%s" % b.host_id)
        self.central.run("reenroll-host", b.host_id, "--out", out, "--central-host", "127.0.0.1",
                         "--port", str(self.cluster.port))
        nb = Bundle(out, self.cluster.port)
        self.assertEqual((nb.host_id, nb.role), (b.host_id, b.role))
        self.assertFalse(os.path.exists(os.path.join(out, "seed")))  # the journal's chain goes on
        # The old certificate is in the CRL now: refused at the handshake.
        r = b.ingest([record(2)])
        self.assertRefused(r, "the replaced certificate")
        self.assertEqual(nb.ingest([record(2)]).stdout.strip(), "1")
        self.assertEqual(self.cluster.sql("SELECT max(seq) FROM termguard.events WHERE host_id = '%s'"
                                          % b.host_id), [["2"]])

    def test_reenroll_ends_sessions_of_the_replaced_certificate(self):
        """PostgreSQL checks a certificate when a connection starts: a session opened with the
        old (perhaps stolen) key must not go on sending after re-enrolment."""
        b = self.central.enroll("上下水道局")
        held = subprocess.Popen(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", b.dsn()], stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.addCleanup(held.wait)
        self.addCleanup(held.kill)
        session = "SELECT count(*) FROM pg_stat_activity WHERE usename = '%s'" % b.role
        wait_for(lambda: self.count(session) == 1, "the old certificate's session")
        out = os.path.join(self.central.dir, "reenroll-held-%s" % b.host_id)
        r = self.central.run("reenroll-host", b.host_id, "--out", out, "--central-host", "127.0.0.1",
                             "--port", str(self.cluster.port))
        self.assertNotIn("could not be ended", r.stderr)
        wait_for(lambda: self.count(session) == 0, "the old certificate's session to end")
        _, err = held.communicate(ingest_sql([record(1)]), timeout=60)
        self.assertNotEqual(held.returncode, 0)
        self.assertEqual(self.count("SELECT count(*) FROM termguard.events WHERE host_id = '%s'" % b.host_id), 0)
        self.assertEqual(Bundle(out, self.cluster.port).ingest([record(1)]).stdout.strip(), "1")

    def test_certificate_from_another_ca_refused(self):
        b = self.central.enroll("福祉課")
        d = tempfile.mkdtemp(dir=self.central.dir)
        key, crt = os.path.join(d, "k.pem"), os.path.join(d, "c.pem")
        # A self-made certificate with the right CN, as anyone could make.
        subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                        "-keyout", key, "-out", crt, "-days", "30", "-subj", "/CN=%s" % b.role],
                       check=True, capture_output=True)
        os.chmod(key, 0o600)
        r = psql(b.dsn(cert=crt, key=key), ingest_sql([record(1)]), check=False)
        self.assertRefused(r, "a certificate of another CA")
        self.assertEqual(self.count("SELECT count(*) FROM termguard.events WHERE host_id = '%s'" % b.host_id), 0)

    # Auditors ---------------------------------------------------------------------------------

    def test_auditor_reads_views_cannot_write(self):
        b = self.central.enroll("監査対象課")
        self.assertEqual(b.ingest([record(1), record(2, type_="journal.checkpoint")]).stdout.strip(), "2")
        self.cluster.sql("DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'auditor1') THEN "
                         "CREATE ROLE auditor1 LOGIN IN ROLE termguard_auditor; END IF; END $$;")
        aud = lambda s: self.cluster.sql(s, user="auditor1", check=False)
        for v in ("events", "hosts", "heartbeats", "conflicts", "alerts", "usage_monthly", "prunes", "prune_marks"):
            with self.subTest(v):
                r = aud("SELECT count(*) FROM termguard_report.%s;" % v)
                self.assertEqual(r.returncode, 0, r.stderr)
        r = aud("SELECT department, seq FROM termguard_report.events WHERE host_id = '%s';" % b.host_id)
        self.assertEqual(r.stdout.split(), ["監査対象課", "1"])
        for stmt in ["DELETE FROM termguard_report.events;", "UPDATE termguard_report.hosts SET department = 'x';",
                     "INSERT INTO termguard_report.alerts (kind, detail) VALUES ('x', 'y');",
                     "SELECT * FROM termguard.events;", "DELETE FROM termguard.events;",
                     "UPDATE termguard.hosts SET department = 'x';", "SELECT termguard.ingest('[]');",
                     "SELECT termguard.prune(1);", "CREATE TABLE termguard_report.t (a int);",
                     "SELECT * FROM termguard.undelivered_alerts(10);", "SELECT termguard.alert_delivered(1);"]:
            with self.subTest(stmt):
                self.assertRefused(aud(stmt), stmt)
        self.assertEqual(self.count("SELECT count(*) FROM termguard.events WHERE host_id = '%s'" % b.host_id), 1)

    def test_admin_role_manages_hosts_reads_no_records(self):
        self.cluster.sql("DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'admin1') THEN "
                         "CREATE ROLE admin1 LOGIN IN ROLE termguard_admin; END IF; END $$;")
        admin = Central(self.cluster, self.tmp, "central-admin")
        admin.ca = self.central.ca
        admin.escrow = self.central.escrow
        dsn = self.cluster.dsn(user="admin1")
        out = os.path.join(admin.dir, "bundle")
        r = subprocess.run([CENTRAL, "--dsn", dsn, "--ca-dir", admin.ca, "enroll-host",
                            "--department", "情報政策課", "--out", out, "--escrow", admin.escrow, "--central-host",
                            "127.0.0.1", "--port", str(self.cluster.port)], capture_output=True, text=True,
                           env=dict(os.environ, TG_CENTRAL_SQL_DIR=SQL_DIR))
        self.assertEqual(r.returncode, 0, r.stderr)
        b = Bundle(out, self.cluster.port)
        self.assertEqual(b.ingest([record(1)]).stdout.strip(), "1")
        aid = lambda q: self.cluster.sql(q, user="admin1", check=False)
        self.assertEqual(aid("SELECT department FROM termguard.hosts WHERE host_id = '%s';" % b.host_id).stdout,
                         "情報政策課\n")
        for stmt in ["SELECT * FROM termguard.events;", "SELECT * FROM termguard_report.events;",
                     "SELECT * FROM termguard.heartbeats;", "DELETE FROM termguard.hosts;",
                     "UPDATE termguard.hosts SET department = 'x';", "SELECT termguard.ingest('[]');",
                     "SELECT termguard.restore_host_roles();", "DROP TABLE termguard.events;",
                     # the retention floor is the database owner's: an admin can neither lower it
                     # nor go around prune() to drop partitions unseen
                     "UPDATE termguard.retention_floor SET min_months = 1;", "SELECT termguard.prune(1);",
                     "SELECT termguard.prune_partitions(1);"]:
            with self.subTest(stmt):
                self.assertRefused(aid(stmt), stmt)
        r = aid("SELECT termguard.revoke_host('%s');" % b.host_id)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertRefused(b.ingest([record(2)]), "a host the admin revoked")

    # Partitions and retention -----------------------------------------------------------------

    def test_partition_made_for_a_new_month(self):
        b = self.central.enroll("水道課")
        t, part = new_month(13)
        self.assertEqual(self.count("SELECT count(*) FROM pg_class WHERE relname = '%s'" % part), 0)
        self.assertEqual(b.ingest([record(1, time_usec=t)]).stdout.strip(), "1")
        self.assertEqual(self.cluster.sql("SELECT tableoid::regclass FROM termguard.events WHERE host_id = '%s'"
                                          % b.host_id), [["termguard." + part]])
        # A clock decades off: kept in the default partition, no table made for it.
        old = usec(datetime.datetime(1985, 3, 1, tzinfo=TOKYO))
        self.assertEqual(b.ingest([record(2, time_usec=old)]).stdout.strip(), "1")
        self.assertEqual(self.cluster.sql("SELECT tableoid::regclass FROM termguard.events WHERE host_id = '%s' "
                                          "AND seq = 2" % b.host_id), [["termguard.events_default"]])
        self.assertEqual(self.count("SELECT count(*) FROM pg_class WHERE relname = 'events_198503'"), 0)
        # A month whose rows sit in the default partition: they move into the new partition.
        t20, part20 = new_month(20)
        self.cluster.sql("INSERT INTO termguard.events_default SELECT host_id, 100, '%s'::timestamptz, time_usec, "
                         "boot_id, clock, priority, type, uid, pid, comm, unit, fields, prev_mac, mac, raw, "
                         "received_at FROM termguard.events WHERE host_id = '%s' AND seq = 2"
                         % (datetime.datetime.fromtimestamp(t20 / 1e6, TOKYO).isoformat(), b.host_id))
        self.assertEqual(b.ingest([record(3, time_usec=t20 + 1)]).stdout.strip(), "1")
        self.assertEqual(self.cluster.sql("SELECT seq, tableoid::regclass FROM termguard.events WHERE host_id = '%s' "
                                          "AND seq IN (3, 100) ORDER BY seq" % b.host_id),
                         [["3", "termguard." + part20], ["100", "termguard." + part20]])
        # init made this month's and the next ones ahead.
        _, this = months_ago(0)
        self.assertEqual(self.count("SELECT count(*) FROM pg_class WHERE relname = '%s'" % this), 1)

    def test_concurrent_first_ingests_of_a_new_month(self):
        hosts = [self.central.enroll("下水道課") for _ in range(6)]
        roles = "', '".join(b.role for b in hosts)

        # Every host's first record of a month whose partition another session is making:
        # they wait for it, then find it made, and store their record in it.
        t, part = new_month(50)
        holder = subprocess.Popen(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1",
                                   self.cluster.dsn("termguard") + " application_name=tg-holder"],
                                  stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        try:
            holder.stdin.write("BEGIN;\nSELECT termguard.ensure_partition(to_timestamp(%d / 1e6));\n" % t)
            holder.stdin.flush()
            wait_for(lambda: self.cluster.sql("SELECT state FROM pg_stat_activity WHERE application_name = "
                                              "'tg-holder'") == [["idle in transaction"]], "the partition made")
            started = [b.ingest_started([record(1, time_usec=t + i)]) for i, b in enumerate(hosts)]
            wait_for(lambda: self.count("SELECT count(*) FROM pg_stat_activity WHERE usename IN ('%s') AND "
                                        "wait_event_type = 'Lock'" % roles) == len(hosts),
                     "every ingest waiting for the partition's maker")
            holder.stdin.write("COMMIT;\n")
            holder.stdin.close()
            self.assertEqual(holder.wait(timeout=60), 0, holder.stderr.read())
        finally:
            if holder.poll() is None:
                holder.kill()
                holder.wait()
            holder.stderr.close()
        for b, p in zip(hosts, started):
            out, err = p.communicate(timeout=60)
            self.assertEqual((p.returncode, out.strip()), (0, "1"), err)
        self.assertEqual(self.count("SELECT count(*) FROM termguard.%s WHERE host_id IN (%s)"
                                    % (part, ", ".join("'%s'" % b.host_id for b in hosts))), len(hosts))

        # Free for all: every host's batch spans six new months, each host starting at another
        # one, all at once. Every batch is stored, each month has one partition.
        months = [new_month(n) for n in range(60, 72, 2)]
        started = []
        for i, b in enumerate(hosts):
            order = months[i % len(months):] + months[:i % len(months)]
            started.append(b.ingest_started([record(2 + k, time_usec=tm + i) for k, (tm, _) in enumerate(order)]))
        for b, p in zip(hosts, started):
            out, err = p.communicate(timeout=120)
            self.assertEqual((p.returncode, out.strip()), (0, str(len(months))), err)
        for tm, name in months:
            self.assertEqual(self.cluster.sql("SELECT count(*), count(DISTINCT host_id) FROM termguard.%s" % name),
                             [[str(len(hosts)), str(len(hosts))]])
        self.assertEqual(self.count("SELECT count(*) FROM termguard.events_default WHERE host_id IN (%s)"
                                    % ", ".join("'%s'" % b.host_id for b in hosts)), 0)
        self.assertEqual(self.cluster.sql("SELECT DISTINCT last_seq FROM termguard.hosts WHERE role IN ('%s')" % roles),
                         [[str(1 + len(months))]])

    def test_prune_drops_whole_old_partitions(self):
        b = self.central.enroll("教育委員会")
        t_old, old = months_ago(40)
        t_keep, keep = months_ago(30)
        self.assertEqual(b.ingest([record(1, time_usec=t_old), record(2, time_usec=t_old + 1),
                                   record(3, time_usec=t_keep)]).stdout.strip(), "3")
        bad = self.central.run("prune", "--older-than", "0", check=False)
        self.assertEqual(bad.returncode, 2)
        # Below the retention floor (12 months unless the database's owner sets another): refused,
        # whoever asks, and nothing dropped.
        floor = self.central.run("prune", "--older-than", "11", check=False)
        self.assertNotEqual(floor.returncode, 0)
        self.assertIn("kept at least 12 months", floor.stderr)
        self.assertEqual(self.count("SELECT count(*) FROM pg_class WHERE relname = '%s'" % old), 1)
        r = self.central.run("prune", "--older-than", "36")
        self.assertIn("dropped %s" % old, r.stdout)
        # the auditors hear of every partition dropped
        self.assertEqual(self.cluster.sql("SELECT count(*) FROM termguard.alerts WHERE kind = 'pruned' "
                                          "AND detail LIKE 'partition %s dropped by %s%%'" % (old, SUPERUSER)),
                         [["1"]])
        self.assertEqual(self.count("SELECT count(*) FROM pg_class WHERE relname = '%s'" % old), 0)
        self.assertEqual(self.count("SELECT count(*) FROM pg_class WHERE relname = '%s'" % keep), 1)
        self.assertEqual(self.cluster.sql("SELECT seq FROM termguard.events WHERE host_id = '%s'" % b.host_id),
                         [["3"]])
        self.assertEqual(self.cluster.sql("SELECT records, dropped_by FROM termguard.prunes WHERE partition = '%s'"
                                          % old), [["2", SUPERUSER]])

    # Enrolment -----------------------------------------------------------------------------------

    def test_enroll_twice_two_host_ids_seed_escrowed_not_in_database(self):
        a = self.central.enroll("総務課", "pc-a")
        b = self.central.enroll("総務課", "pc-a")
        self.assertNotEqual(a.host_id, b.host_id)
        self.assertNotEqual(a.role, b.role)
        for x in (a, b):
            self.assertEqual(x.role, "tg_host_" + x.host_id.replace("-", ""))
            self.assertEqual(stat.S_IMODE(os.stat(x.path).st_mode), 0o700)
            self.assertEqual(stat.S_IMODE(os.stat(os.path.join(x.path, "client.key")).st_mode), 0o600)
            seed = read(os.path.join(x.path, "seed"))
            esc = os.path.join(self.central.escrow, x.host_id + ".seed")
            self.assertEqual(read(esc), seed)
            self.assertEqual(stat.S_IMODE(os.stat(esc).st_mode), 0o600)
            self.assertIn("host=%s\n" % x.host_id, seed)
            seed_hex = seed.split("seed=")[1].strip()
            dump = subprocess.run(["pg_dump", "--data-only", self.cluster.dsn("termguard")], capture_output=True,
                                  text=True, check=True).stdout
            self.assertIn(x.host_id, dump)
            self.assertNotIn(seed_hex, dump)
        # A bad department: refused, nothing left behind.
        out = os.path.join(self.central.dir, "bad-bundle")
        r = self.central.run("enroll-host", "--department", "a\nb", "--out", out, "--escrow", self.central.escrow,
                             check=False)
        self.assertNotEqual(r.returncode, 0)
        self.assertFalse(os.path.exists(out))
        # One escrow file per enrolled host, none for the refused one.
        self.assertEqual(len(os.listdir(self.central.escrow)), self.count("SELECT count(*) FROM termguard.hosts"))

    def test_init_again_changes_nothing(self):
        hba = os.path.join(self.cluster.data, "pg_hba.conf")
        before = read(hba)
        r = self.central.init()
        self.assertIn("schema up to date", r.stdout)
        self.assertEqual(read(hba), before)
        self.assertEqual(before.count("termguard-central: begin"), 1)
        versions = sorted(int(n[:3]) for n in os.listdir(SQL_DIR) if n[:3].isdigit() and n.endswith(".sql"))
        self.assertEqual(self.cluster.sql("SELECT version FROM termguard.schema_migrations ORDER BY 1"),
                         [[str(v)] for v in versions])


class BackupRestoreTest(CentralTestCase):
    def test_backup_restore_into_fresh_cluster(self):
        a = self.central.enroll("総務課", "pc-1")
        b = self.central.enroll("税務課", "pc-2")
        self.assertEqual(a.ingest([record(1), record(2, type_="journal.checkpoint")]).stdout.strip(), "2")
        self.assertEqual(b.ingest([record(1)]).stdout.strip(), "1")
        self.assertEqual(b.ingest([record(1, mac="ff" * 32)]).stdout.strip(), "0")  # a conflict
        self.central.run("revoke-host", b.host_id)
        tables = ["hosts", "events", "heartbeats", "conflicts", "alerts", "usage_monthly", "certificates",
                  "prunes", "schema_migrations", "prune_marks", "alert_deliveries"]

        def snapshot(cluster):
            return {t: cluster.sql("SELECT md5(string_agg(x::text, ',' ORDER BY x::text)), count(*) "
                                   "FROM termguard.%s x" % t) for t in tables}

        before = snapshot(self.cluster)
        out = os.path.join(self.tmp, "backup")
        self.central.run("backup", "--out", out)
        self.assertEqual(stat.S_IMODE(os.stat(out).st_mode), 0o700)
        for f in ("termguard.dump", "ca.tar"):
            self.assertEqual(stat.S_IMODE(os.stat(os.path.join(out, f)).st_mode), 0o600)
        # Refuses an existing directory.
        self.assertNotEqual(self.central.run("backup", "--out", out, check=False).returncode, 0)

        fresh = Cluster(self.tmp)
        try:
            fresh.start()
            new = Central(fresh, self.tmp, "central2")
            new.ca = os.path.join(new.dir, "ca-restored")  # another name than the backed-up one
            # A server with a CA or the database in place is refused.
            self.assertNotEqual(Central(self.cluster, self.tmp, "central3").run("restore", out,
                                                                                check=False).returncode, 0)
            r = new.run("restore", out)
            self.assertIn("2 host roles", r.stdout)
            self.assertEqual(snapshot(fresh), before)
            self.assertTrue(os.path.exists(os.path.join(new.ca, "ca.key")))
            self.assertEqual(stat.S_IMODE(os.stat(os.path.join(new.ca, "ca.key")).st_mode), 0o600)
            self.assertEqual(fresh.sql("SELECT rolcanlogin FROM pg_roles WHERE rolname IN ('%s', '%s') "
                                       "ORDER BY rolname = '%s'" % (a.role, b.role, b.role), dbname="postgres"),
                             [["t"], ["f"]])
            # init sets up TLS and pg_hba on the new cluster with the restored CA: the terminal's
            # bundle goes on working, the revoked one does not.
            new.init()
            a.port = b.port = fresh.port
            self.assertEqual(a.ingest([record(3)]).stdout.strip(), "1")
            self.assertRefused(b.ingest([record(2)]), "the revoked host after restore")
        finally:
            fresh.stop()

    def test_as_root_on_the_local_cluster(self):
        """Without --dsn, as root on the server: the cluster's postgres superuser by peer
        authentication (no trust anywhere), pg_dump and pg_restore through runuser."""
        if os.geteuid() != 0 or self.cluster.user is None or self.cluster.user.pw_name != "postgres":
            self.skipTest("needs root and the postgres user")
        local = Cluster(self.tmp, superuser="postgres", auth_local="peer")
        try:
            local.start()
            c = Central(local, self.tmp, "central-local", local=True)
            r = c.init()
            self.assertIn("applied migration 001-schema.sql", r.stdout)
            b = c.enroll("総務課", "pc-local")
            self.assertEqual(b.ingest([record(1)]).stdout.strip(), "1")
            # The program went back to root: its files are root's.
            self.assertEqual(os.stat(os.path.join(b.path, "client.key")).st_uid, 0)
            self.assertEqual(os.stat(os.path.join(c.escrow, b.host_id + ".seed")).st_uid, 0)
            self.assertIn(b.host_id, c.run("list-hosts").stdout)
            out = os.path.join(self.tmp, "backup-local")
            c.run("backup", "--out", out)
            self.assertGreater(os.path.getsize(os.path.join(out, "termguard.dump")), 0)
            self.assertEqual(os.stat(os.path.join(out, "termguard.dump")).st_uid, 0)
        finally:
            local.stop()

    def assertRefused(self, r, what):
        self.assertNotEqual(r.returncode, 0, "%s was not refused: %s" % (what, r.stdout))


if __name__ == "__main__":
    unittest.main()
