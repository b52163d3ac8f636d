# SPDX-License-Identifier: GPL-2.0-or-later
"""termguardctl central enroll with real bundles in temporary directories: what it installs
(owners and modes: the key the forwarder's alone), the journal it creates with the bundle's seed
(verified with that seed), the forwarder's system user and group it makes, enrolling twice, and
every refusal: a journal of another key chain, a private key others can read, a bundle of two
hosts, a role not this host's, a caller who is not root. Creates the system user
termguard-forwarder and group termguard-audit when missing, as the package does."""
import grp
import os
import pwd
import shutil
import stat
import subprocess
import tempfile
import unittest
import uuid

BUILD = os.environ["TG_BUILD_DIR"]
CTL = os.path.join(BUILD, "ctl", "termguardctl")
NOBODY = 65534
FORWARDER, AUDIT = "termguard-forwarder", "termguard-audit"


def make_bundle(path, host=None, seed=None, role_host=None, key_mode=0o600):
    host = host or uuid.uuid4()
    seed = seed or os.urandom(32)
    os.makedirs(path, mode=0o700)
    files = {
        "host-id": "%s\n" % host,
        "department": "総務課\n",
        "ca.crt": "-----BEGIN CERTIFICATE-----\nCA\n-----END CERTIFICATE-----\n",
        "client.crt": "-----BEGIN CERTIFICATE-----\nHOST\n-----END CERTIFICATE-----\n",
        "client.key": "-----BEGIN PRIVATE KEY-----\nSECRET\n-----END PRIVATE KEY-----\n",
        "central.conf": "[Central]\nHost=127.0.0.1\nPort=5432\nDatabase=termguard\nRole=tg_host_%s\n"
        % (role_host or host).hex,
        "seed": "termguard-journal-seed 1\nhost=%s\nseed=%s\n" % (host, seed.hex()),
    }
    for name, text in files.items():
        p = os.path.join(path, name)
        with open(p, "w") as f:
            f.write(text)
        os.chmod(p, key_mode if name == "client.key" else 0o600)
    return host, seed


class EnrollTest(unittest.TestCase):
    def setUp(self):
        if os.geteuid() != 0:
            self.skipTest("needs root: enrolment installs root's and the forwarder's files")
        self.tmp = tempfile.mkdtemp(prefix="tg-enroll-")
        os.chmod(self.tmp, 0o755)
        self.conf = os.path.join(self.tmp, "conf")
        self.state = os.path.join(self.tmp, "state")
        self.central = os.path.join(self.tmp, "central")
        os.makedirs(self.conf)
        os.makedirs(self.state)
        with open(os.path.join(self.conf, "termguard.conf"), "w") as f:
            f.write("[Daemon]\nStateDirectory=%s\n" % self.state)
        self.journal = os.path.join(self.state, "journal")

    def tearDown(self):
        if hasattr(self, "tmp"):
            shutil.rmtree(self.tmp)

    def ctl(self, *args, user=None):
        cmd = [CTL, "--config", self.conf] + list(args)
        if user is not None:
            cmd = ["setpriv", "--reuid=%d" % user, "--regid=%d" % user, "--clear-groups"] + cmd
        return subprocess.run(cmd, capture_output=True, text=True, timeout=60,
                              env=dict(os.environ, LC_ALL="C.UTF-8", LANGUAGE=""))

    def enroll(self, bundle, **kw):
        return self.ctl("central", "enroll", bundle, "--central-dir", self.central, **kw)

    def test_installs_bundle_and_creates_journal(self):
        bundle = os.path.join(self.tmp, "bundle")
        host, seed = make_bundle(bundle)
        r = self.enroll(bundle)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn(str(host), r.stdout)
        self.assertIn("restart termguardd", r.stdout)
        # the forwarder's user, a member of the auditor group
        fwd = pwd.getpwnam(FORWARDER)
        self.assertIn(FORWARDER, grp.getgrnam(AUDIT).gr_mem)
        self.assertLess(fwd.pw_uid, 1000)  # a system user
        # the key and certificate: the forwarder's alone; the rest root's, readable
        for name, owner, mode in (("client.key", fwd.pw_uid, 0o600), ("client.crt", fwd.pw_uid, 0o600),
                                  ("ca.crt", 0, 0o644), ("central.conf", 0, 0o644), ("department", 0, 0o644)):
            st = os.stat(os.path.join(self.central, name))
            self.assertEqual((st.st_uid, stat.S_IMODE(st.st_mode)), (owner, mode), name)
        with open(os.path.join(self.central, "client.key")) as f:
            self.assertIn("SECRET", f.read())
        with open(os.path.join(self.state, "host-id")) as f:
            self.assertEqual(f.read().strip(), str(host))
        # the unit's privileged pre-start gives the journal to the auditor group; the forwarder's
        # user then reads segments, never the key state
        r = subprocess.run([os.path.join(BUILD, "agent", "termguardd"), "--config", self.conf, "--share-journal"],
                           capture_output=True, text=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        st = os.stat(self.journal)
        self.assertEqual((stat.S_IMODE(st.st_mode), st.st_gid), (0o2750, grp.getgrnam(AUDIT).gr_gid))
        seg = os.path.join(self.journal, "seg-0000000000000001.tgj")
        self.assertEqual(stat.S_IMODE(os.stat(seg).st_mode), 0o640)
        as_fwd = ["setpriv", "--reuid=" + FORWARDER, "--regid=" + FORWARDER, "--init-groups"]
        self.assertEqual(subprocess.run(as_fwd + ["cat", seg], capture_output=True).returncode, 0)
        self.assertNotEqual(subprocess.run(as_fwd + ["cat", os.path.join(self.journal, "state")],
                                           capture_output=True).returncode, 0)
        # the journal's MACs verify with the bundle's seed (the auditors' escrow copy)
        r = self.ctl("verify", "--key", os.path.join(bundle, "seed"))
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        # enrolling again with the same bundle keeps the journal and succeeds
        r = self.enroll(bundle)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertNotIn("restart termguardd", r.stdout)

    def test_refuses_journal_of_another_chain(self):
        first = os.path.join(self.tmp, "first")
        make_bundle(first)
        self.assertEqual(self.enroll(first).returncode, 0)
        with open(os.path.join(self.central, "central.conf")) as f:
            before = f.read()
        with open(os.path.join(self.state, "host-id")) as f:
            host_before = f.read()
        second = os.path.join(self.tmp, "second")
        make_bundle(second)
        r = self.enroll(second)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("another key chain", r.stderr)
        self.assertIn("reenroll-host", r.stderr)  # says what to do
        # nothing changed
        with open(os.path.join(self.central, "central.conf")) as f:
            self.assertEqual(f.read(), before)
        with open(os.path.join(self.state, "host-id")) as f:
            self.assertEqual(f.read(), host_before)

    def test_refuses_bad_bundles(self):
        cases = [
            ("readable-key", dict(key_mode=0o644), "readable by others"),
            ("other-role", dict(role_host=uuid.uuid4()), "not this host's"),
        ]
        for name, kw, message in cases:
            bundle = os.path.join(self.tmp, name)
            make_bundle(bundle, **kw)
            r = self.enroll(bundle)
            self.assertNotEqual(r.returncode, 0, name)
            self.assertIn(message, r.stderr, name)
        # host-id of one host, seed of another
        bundle = os.path.join(self.tmp, "two-hosts")
        make_bundle(bundle)
        with open(os.path.join(bundle, "host-id"), "w") as f:
            f.write("%s\n" % uuid.uuid4())
        r = self.enroll(bundle)
        self.assertIn("not one host's", r.stderr)
        # a bundle directory others may write
        bundle = os.path.join(self.tmp, "open-dir")
        make_bundle(bundle)
        os.chmod(bundle, 0o777)
        r = self.enroll(bundle)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("chmod 700", r.stderr)
        # a central.conf with an option smuggled into a value
        bundle = os.path.join(self.tmp, "smuggled")
        host, _ = make_bundle(bundle)
        with open(os.path.join(bundle, "central.conf"), "w") as f:
            f.write("[Central]\nHost=db sslmode=disable\nPort=5432\nDatabase=termguard\nRole=tg_host_%s\n" % host.hex)
        r = self.enroll(bundle)
        self.assertIn("Host=", r.stderr)
        # none of them left anything behind
        self.assertFalse(os.path.exists(self.central))
        self.assertFalse(os.path.exists(self.journal))

    def test_reenrolment_bundle_keeps_the_journal(self):
        first = os.path.join(self.tmp, "first")
        host, _ = make_bundle(first)
        self.assertEqual(self.enroll(first).returncode, 0)
        # reenroll-host: the same host id, a new certificate, no seed
        again = os.path.join(self.tmp, "again")
        make_bundle(again, host=host)
        os.unlink(os.path.join(again, "seed"))
        with open(os.path.join(again, "client.crt"), "w") as f:
            f.write("-----BEGIN CERTIFICATE-----\nRENEWED\n-----END CERTIFICATE-----\n")
        r = self.enroll(again)
        self.assertEqual(r.returncode, 0, r.stderr)
        with open(os.path.join(self.central, "client.crt")) as f:
            self.assertIn("RENEWED", f.read())
        r = self.ctl("verify", "--key", os.path.join(first, "seed"))
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        # a seedless bundle of another host is refused
        other = os.path.join(self.tmp, "other")
        make_bundle(other)
        os.unlink(os.path.join(other, "seed"))
        r = self.enroll(other)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("has no seed", r.stderr)

    def test_not_root(self):
        bundle = os.path.join(self.tmp, "bundle")
        make_bundle(bundle)
        r = self.enroll(bundle, user=NOBODY)
        self.assertEqual(r.returncode, 4)
        self.assertIn("must be run as root", r.stderr)


if __name__ == "__main__":
    unittest.main()
