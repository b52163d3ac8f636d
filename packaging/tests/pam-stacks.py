#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""The documented PAM stacks on Debian 12, with the installed package.

Runs as root inside the packaging test's chroot, after termguard is installed and its three
pam-auth-update profiles are enabled. Drives the real programs through a pty (pexpect): login,
sudo, su, GDM's gdm-password stack and a screen locker's stack (both through pamtester, with
the files the Debian packages ship), and a real sshd with keyboard-interactive (paramiko).
The account phase: stacks that log in without common-auth's auth phase (sshd with a public key
alone, gdm-fingerprint, gdm-smartcard, login -f) refuse covered users.
Codes come from oathtool. Prints one "PASS: ..." or "FAIL: ..." line per check.
"""
import json
import os
import re
import socket
import subprocess
import sys
import time

import paramiko
import pexpect

CTL = "/usr/bin/termguardctl"
CONF_DROPIN = "/etc/termguard/termguard.conf.d/60-pamtest.conf"
BANNER = "/etc/termguard/pamtest-banner.txt"
SSHD_PORT = 2222
SSHD_PUBKEY_PORT = 2223  # AuthenticationMethods publickey, no termguard drop-in
SSHD_KEY_KBDINT_PORT = 2224  # AuthenticationMethods publickey,keyboard-interactive
USERS = {  # name: (password, in the MFA group)
    "alice": ("Alice-pw-7431", True),
    "bob": ("Bob-pw-1187", False),
    "carol": ("Carol-pw-5502", True),  # needs MFA, never enrolled
}
PW_PROMPT = r"(?i)password(?: for \S+)?: ?"
CODE_PROMPT = r"Verification code: ?"

failures = 0


def check(name, cond, detail=""):
    global failures
    if cond:
        print("PASS: %s" % name, flush=True)
    else:
        failures += 1
        print("FAIL: %s%s" % (name, ("\n      " + detail.replace("\n", "\n      ")) if detail else ""), flush=True)


def sh(*cmd, input=None):
    return subprocess.run(cmd, input=input, capture_output=True, text=True, timeout=60)


def code_for(key, offset=30):
    """The code of the next time step: the one accepted after an enrollment used the current."""
    r = sh("oathtool", "--totp", "-b", key, "--now=@%d" % int(time.time() + offset))
    assert r.returncode == 0, r.stderr
    return r.stdout.strip()


def status(user):
    r = sh(CTL, "--json", "mfa", "status", user)
    return json.loads(r.stdout) if r.returncode == 0 else {"error": r.stderr}


def enroll(user):
    """Fresh factor for USER, unlocked: returns the base32 key."""
    if status(user).get("enrolled"):
        sh(CTL, "mfa", "reset", user)
    sh(CTL, "mfa", "unlock", user)
    p = pexpect.spawn(CTL, ["mfa", "enroll", user], encoding="utf-8", timeout=20)
    p.expect(r"Key: ([A-Z2-7]+)")
    key = p.match.group(1)
    p.expect("confirm: ")
    p.sendline(code_for(key, 0))
    p.expect(pexpect.EOF)
    p.close()
    assert p.exitstatus == 0, "enrollment of %s failed: %s" % (user, p.before)
    return key


def converse(cmd, args, answers, shell_cmd=None, env=None):
    """Runs CMD on a pty and answers each prompt in order from ANSWERS (a list of
    (kind, text)); kind is "pw" or "code". Returns (prompts seen, output, exit status)."""
    p = pexpect.spawn(cmd, args, encoding="utf-8", timeout=20,
                      env=env or {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL": "C.UTF-8", "TERM": "dumb"})
    seen, out, answers = [], "", list(answers)
    while True:
        # login asks for the user name again after a failure: that is the end, too
        i = p.expect([PW_PROMPT, CODE_PROMPT, r"\$ $", r"\slogin: $", pexpect.EOF, pexpect.TIMEOUT])
        out += p.before + (p.after if isinstance(p.after, str) else "")
        if i in (0, 1):
            kind = "pw" if i == 0 else "code"
            seen.append(kind)
            text = answers.pop(0)[1] if answers and answers[0][0] == kind else "wrong-%s" % kind
            p.sendline(text)
        elif i == 2 and shell_cmd:
            p.sendline(shell_cmd)
            p.sendline("exit")
            shell_cmd = None
        else:
            break
    p.close()
    return seen, out, p.exitstatus if p.exitstatus is not None else -(p.signalstatus or 1)


def setup():
    sh("groupadd", "mfa-staff")
    for user, (pw, mfa) in USERS.items():
        sh("useradd", "-m", "-s", "/bin/bash", *(["-G", "mfa-staff"] if mfa else []), user)
        sh("chpasswd", input="%s:%s\n" % (user, pw))
    with open("/etc/sudoers.d/pamtest", "w") as f:
        f.write("alice ALL=(ALL) ALL\nbob ALL=(ALL) ALL\n")
    os.chmod("/etc/sudoers.d/pamtest", 0o440)
    with open(BANNER, "w") as f:
        f.write("Authorized use only / 許可された利用者のみ\n")
    with open(CONF_DROPIN, "w") as f:
        f.write("[MFA]\nRequireGroups=mfa-staff\nMaxFailures=3\nLockoutTime=1h\nBannerFile=%s\n" % BANNER)


def test_common_auth():
    mods = [(m.group(1), " ".join(m.group(2).split())) for m in
            (re.match(r"auth\s+(\[[^]]*\]|\S+)\s+(.*)", l) for l in open("/etc/pam.d/common-auth")) if m]
    text = "\n".join("%s %s" % m for m in mods)
    names = [m[1].split()[0] for m in mods]
    ok = (names[:5] == ["pam_termguard.so", "pam_unix.so", "pam_termguard.so", "pam_deny.so", "pam_permit.so"]
          and mods[0] == ("requisite", "pam_termguard.so preauth")
          and mods[2] == ("[default=die]", "pam_termguard.so authfail")
          and ("required", "pam_termguard.so") in mods[5:])
    check("common-auth: preauth before pam_unix, authfail after it, the code after pam_permit", ok, text)
    m = re.match(r"\[success=(\d+) default=ignore\]", mods[1][0])
    check("common-auth: pam_unix's success jumps over authfail and pam_deny", m and int(m.group(1)) == 2, text)


def test_common_account():
    mods = [(m.group(1), " ".join(m.group(2).split())) for m in
            (re.match(r"account\s+(\[[^]]*\]|\S+)\s+(.*)", l) for l in open("/etc/pam.d/common-account")) if m]
    text = "\n".join("%s %s" % m for m in mods)
    names = [m[1].split()[0] for m in mods]
    ok = ("pam_permit.so" in names and ("required", "pam_termguard.so") in mods
          and names.index("pam_termguard.so") > names.index("pam_permit.so"))
    check("common-account: pam_termguard after the primary block and pam_permit", ok, text)


def pamtester_account(service, user):
    """pam_acct_mgmt alone, as sshd with a key or GDM's fingerprint stack run it: no auth."""
    r = sh("pamtester", "-v", service, user, "acct_mgmt")
    return r.returncode == 0, r.stdout + r.stderr


def test_account_phase():
    enroll("alice")
    check("gdm-fingerprint: shipped by gdm3", os.path.exists("/etc/pam.d/gdm-fingerprint"))
    if not os.path.exists("/etc/pam.d/gdm-smartcard") and os.path.exists("/etc/pam.d/gdm-fingerprint"):
        # gdm3 in bookworm ships no gdm-smartcard; a smart-card module package or the
        # administrator adds one. A stand-in of the same shape: the finger's module swapped
        # for a card's (not installed: only the account phase runs here).
        print("NOTE: gdm3 ships no /etc/pam.d/gdm-smartcard; testing gdm-fingerprint's stack with pam_pkcs11.so")
        with open("/etc/pam.d/gdm-fingerprint") as src, open("/etc/pam.d/gdm-smartcard", "w") as dst:
            dst.write(src.read().replace("pam_fprintd.so", "pam_pkcs11.so"))
    for service in ("gdm-fingerprint", "gdm-smartcard"):
        if not os.path.exists("/etc/pam.d/" + service):
            continue
        stack = open("/etc/pam.d/" + service).read()
        check("%s: its own auth, no common-auth (the gap this closes)" % service,
              "common-auth" not in stack and "common-account" in stack, stack)
        ok, out = pamtester_account(service, "alice")
        check("%s: account phase without the code refuses alice (covered)" % service, not ok, out)
        ok, out = pamtester_account(service, "bob")
        check("%s: account phase lets bob (not covered) through" % service, ok, out)
    ok, out = pamtester_account("gdm-password", "alice")
    check("gdm-password (not in MFAServices): the account phase alone does not refuse", ok, out)
    key = enroll("alice")
    seen, out, rc = converse("pamtester", ["-v", "gdm-password", "alice", "authenticate", "acct_mgmt"],
                             [("pw", USERS["alice"][0]), ("code", code_for(key))])
    check("gdm-password: password and code, then the account phase in the same handle passes",
          rc == 0 and seen == ["pw", "code"], "prompts %s rc %s\n%s" % (seen, rc, out))
    # cron has no PAM file here: "other" includes common-account, with PAM_SERVICE=cron
    ok, out = pamtester_account("cron", "alice")
    check("cron (not in MFAServices): alice's jobs are not refused", ok, out)
    # login -f: a login that is already authenticated (agetty --autologin) skips the auth phase
    seen, out, rc = converse("login", ["-f", "alice"], [], shell_cmd="echo TG-OK-$(id -un)")
    check("login -f alice (no code asked) is refused in the account phase",
          seen == [] and "TG-OK" not in out and "does not ask for the verification code" in out, out)
    seen, out, rc = converse("login", ["-f", "bob"], [], shell_cmd="echo TG-OK-$(id -un)")
    check("login -f bob (not covered) still logs in", "TG-OK-bob" in out, out)


def test_login():
    key = enroll("alice")
    seen, out, rc = converse("login", ["alice"], [("pw", USERS["alice"][0]), ("code", code_for(key))],
                             shell_cmd="echo TG-OK-$(id -un)")
    check("login: password, then code, then a shell for alice", seen == ["pw", "code"] and "TG-OK-alice" in out,
          "prompts %s\n%s" % (seen, out))
    check("login: the banner is shown before the code", "Authorized use only" in out, out)

    key = enroll("alice")
    seen, out, rc = converse("login", ["alice"], [("pw", USERS["alice"][0]), ("code", "000000")])
    check("login: a wrong code is refused", "TG-OK" not in out and "Authentication failed." in out and
          "Login incorrect" in out, out)

    seen, out, rc = converse("login", ["bob"], [("pw", USERS["bob"][0])], shell_cmd="echo TG-OK-$(id -un)")
    check("login: bob (not in the policy) logs in with the password alone", seen == ["pw"] and "TG-OK-bob" in out,
          "prompts %s\n%s" % (seen, out))

    seen, out, rc = converse("login", ["carol"], [("pw", USERS["carol"][0]), ("code", "123456")])
    check("login: carol (needs MFA, not enrolled) is refused after being asked for a code",
          seen[:2] == ["pw", "code"] and "TG-OK" not in out and "Login incorrect" in out, "prompts %s\n%s" % (seen, out))


def test_login_shows_last_login():
    key = enroll("alice")
    converse("login", ["alice"], [("pw", USERS["alice"][0]), ("code", code_for(key))], shell_cmd="true")
    key = enroll("alice")
    seen, out, rc = converse("login", ["alice"], [("pw", "wrong-password")])
    check("login: a wrong password is asked for the code all the same, then refused",
          seen[:2] == ["pw", "code"] and "Authentication failed." in out and "Login incorrect" in out,
          "prompts %s\n%s" % (seen, out))
    # Whether a name is an account, is under the policy or is locked does not show.
    for name in ("bob", "no-such-user-tg"):
        seen, out, rc = converse("login", [name], [("pw", "wrong-password")])
        check("login: a wrong password for %s gets the same prompts and message" % name,
              seen[:2] == ["pw", "code"] and "Authentication failed." in out and "Login incorrect" in out,
              "prompts %s\n%s" % (seen, out))
    seen, out, rc = converse("login", ["alice"], [("pw", USERS["alice"][0]), ("code", code_for(key))],
                             shell_cmd="echo TG-OK-$(id -un)")
    check("login: 'last login' and the failed attempts since are shown",
          re.search(r"Last login: \d{4}-\d\d-\d\d .* from ", out) and "1 failed attempt since the last login." in out
          and "TG-OK-alice" in out, out)


def test_sudo():
    key = enroll("alice")
    seen, out, rc = converse("runuser", ["-u", "alice", "--", "sudo", "-k", "id", "-un"],
                             [("pw", USERS["alice"][0]), ("code", code_for(key))])
    check("sudo: alice gets root after password and code", seen == ["pw", "code"] and rc == 0 and
          out.rstrip().endswith("root"), "prompts %s rc %s\n%s" % (seen, rc, out))
    enroll("alice")
    seen, out, rc = converse("runuser", ["-u", "alice", "--", "sudo", "-k", "id", "-un"],
                             [("pw", USERS["alice"][0]), ("code", "999999")])
    check("sudo: a wrong code gives no root", seen[:2] == ["pw", "code"] and rc != 0 and
          not out.rstrip().endswith("root"),
          "prompts %s rc %s\n%s" % (seen, rc, out))
    seen, out, rc = converse("runuser", ["-u", "bob", "--", "sudo", "-k", "id", "-un"], [("pw", USERS["bob"][0])])
    check("sudo: bob needs only his password", seen == ["pw"] and rc == 0, "prompts %s rc %s\n%s" % (seen, rc, out))


def test_su():
    key = enroll("alice")
    seen, out, rc = converse("runuser", ["-u", "bob", "--", "su", "-", "alice", "-c", "echo TG-OK-$(id -un)"],
                             [("pw", USERS["alice"][0]), ("code", code_for(key))])
    check("su: bob becomes alice only with alice's password and code",
          seen == ["pw", "code"] and "TG-OK-alice" in out, "prompts %s\n%s" % (seen, out))


def pamtester(service, user, answers, as_user=None):
    cmd, args = "pamtester", ["-v", service, user, "authenticate"]
    if as_user:
        cmd, args = "runuser", ["-u", as_user, "--", "pamtester"] + args
    seen, out, rc = converse(cmd, args, answers)
    return seen, out, rc == 0 and "successfully authenticated" in out


def test_gdm_password():
    key = enroll("alice")
    seen, out, ok = pamtester("gdm-password", "alice", [("pw", USERS["alice"][0]), ("code", code_for(key))])
    check("gdm-password: password and code", ok and seen == ["pw", "code"], "prompts %s\n%s" % (seen, out))
    enroll("alice")
    seen, out, ok = pamtester("gdm-password", "alice", [("pw", USERS["alice"][0]), ("code", "111111")])
    check("gdm-password: a wrong code is refused", not ok and "Authentication failed." in out, out)


def test_screen_locker():
    """xscreensaver's stack, run as the locked user as lockers do: the setuid helper verifies."""
    key = enroll("alice")
    seen, out, ok = pamtester("xscreensaver", "alice", [("pw", USERS["alice"][0]), ("code", code_for(key))],
                              as_user="alice")
    check("screen locker (as the user): password and code unlock", ok and seen == ["pw", "code"],
          "prompts %s\n%s" % (seen, out))
    seen, out, ok = pamtester("xscreensaver", "alice", [("pw", USERS["alice"][0]), ("code", code_for(key))],
                              as_user="alice")
    check("screen locker: the same code does not work twice", not ok, out)
    check("screen locker: the user still cannot read the secrets",
          sh("runuser", "-u", "alice", "--", "cat", "/var/lib/termguard/mfa/alice.json").returncode != 0)
    seen, out, ok = pamtester("xscreensaver", "bob", [("pw", USERS["bob"][0])], as_user="bob")
    check("screen locker: bob unlocks with the password alone", ok and seen == ["pw"], "prompts %s\n%s" % (seen, out))


def test_lockout():
    key = enroll("alice")
    for _ in range(3):
        pamtester("gdm-password", "alice", [("pw", USERS["alice"][0]), ("code", "222222")])
    st = status("alice")
    check("lockout: three wrong codes lock the account", st.get("locked") is True, json.dumps(st))
    # A lock does not show before the password: a wrong password looks as it always does, and
    # only the right password and the right code learn of the lock (no oracle for either).
    seen, out, ok = pamtester("gdm-password", "alice", [("pw", "wrong-password")])
    check("lockout: a wrong password while locked looks like any wrong password",
          not ok and seen == ["pw", "code"] and "Authentication failed." in out and "locked" not in out,
          "prompts %s\n%s" % (seen, out))
    seen, out, ok = pamtester("gdm-password", "alice", [("pw", USERS["alice"][0]), ("code", "333333")])
    check("lockout: the right password and a wrong code while locked look like a wrong code",
          not ok and seen == ["pw", "code"] and "Authentication failed." in out and "locked" not in out,
          "prompts %s\n%s" % (seen, out))
    seen, out, ok = pamtester("gdm-password", "alice", [("pw", USERS["alice"][0]), ("code", code_for(key))])
    check("lockout: the right password and code are refused, and the lock is named",
          not ok and seen == ["pw", "code"] and "locked after too many failed attempts" in out,
          "prompts %s\n%s" % (seen, out))
    seen, out, rc = converse("login", ["alice"], [("pw", USERS["alice"][0]), ("code", code_for(key))],
                             shell_cmd="echo TG-OK-$(id -un)")
    check("lockout: holds on every stack (login)", "TG-OK" not in out, out)
    r = sh(CTL, "mfa", "unlock", "alice")
    seen, out, ok = pamtester("gdm-password", "alice", [("pw", USERS["alice"][0]), ("code", code_for(key))])
    check("lockout: termguardctl mfa unlock lets alice in again", r.returncode == 0 and ok, r.stderr + out)

    key = enroll("alice")
    # sudo asks three times: three wrong passwords, each followed by the code prompt
    seen, out, rc = converse("runuser", ["-u", "alice", "--", "sudo", "-k", "true"], [])
    st = status("alice")
    check("lockout: wrong passwords count too (authfail)",
          seen == ["pw", "code"] * 3 and rc != 0 and st.get("failures") == 3 and st.get("locked") is True,
          "prompts %s rc %s %s\n%s" % (seen, rc, json.dumps(st), out))
    sh(CTL, "mfa", "unlock", "alice")


def start_sshd():
    os.makedirs("/run/sshd", exist_ok=True)
    os.makedirs("/etc/ssh/sshd_config.d", exist_ok=True)
    ex = "/usr/share/doc/termguard/examples/sshd_config.d-termguard.conf"
    with open(ex) as src, open("/etc/ssh/sshd_config.d/termguard.conf", "w") as dst:
        dst.write(src.read())
    p = subprocess.Popen(["/usr/sbin/sshd", "-D", "-e", "-p", str(SSHD_PORT)], stdout=subprocess.DEVNULL,
                         stderr=open("/var/log/sshd-test.log", "w"))
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", SSHD_PORT), 1).close()
            return p
        except OSError:
            time.sleep(0.1)
    return p


def start_sshd_with(port, methods):
    """A second sshd without the termguard drop-in: only AuthenticationMethods METHODS."""
    conf = "/etc/ssh/sshd_config.pamtest-%d" % port
    keys = sorted(f for f in os.listdir("/etc/ssh") if re.match(r"ssh_host_\w+_key$", f))
    with open(conf, "w") as f:
        f.write("".join("HostKey /etc/ssh/%s\n" % k for k in keys))
        f.write("UsePAM yes\nPubkeyAuthentication yes\nPasswordAuthentication no\n"
                "KbdInteractiveAuthentication %s\nAuthenticationMethods %s\n"
                % ("yes" if "keyboard-interactive" in methods else "no", methods))
    p = subprocess.Popen(["/usr/sbin/sshd", "-D", "-e", "-f", conf, "-p", str(port)], stdout=subprocess.DEVNULL,
                         stderr=open("/var/log/sshd-test-%d.log" % port, "w"))
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), 1).close()
            return p
        except OSError:
            time.sleep(0.1)
    return p


def ssh_key(user, port, answers=None):
    """Public key first, then (when sshd asks for more) keyboard-interactive with ANSWERS.
    Returns (authenticated, output of id -un)."""
    t = paramiko.Transport(("127.0.0.1", port))
    try:
        t.start_client(timeout=10)
        try:
            more = t.auth_publickey(user, paramiko.Ed25519Key.from_private_key_file("/root/pamtest_key"))
            if more and answers is not None:
                t.auth_interactive(user, lambda title, inst, prompts: [
                    answers.pop(0)[1] if answers and answers[0][0] == ("code" if "Verification code" in p else "pw")
                    else "wrong" for p, _echo in prompts])
        except (paramiko.AuthenticationException, paramiko.BadAuthenticationType):
            return False, ""
        if not t.is_authenticated():
            return False, ""
        ch = t.open_session()
        ch.exec_command("id -un")
        return True, ch.makefile().read().decode().strip()
    finally:
        t.close()


def test_sshd_account_phase():
    for user in ("alice", "bob"):
        os.makedirs("/home/%s/.ssh" % user, exist_ok=True)
        with open("/root/pamtest_key.pub") as src, open("/home/%s/.ssh/authorized_keys" % user, "w") as dst:
            dst.write(src.read())
        sh("chown", "-R", "%s:%s" % (user, user), "/home/%s/.ssh" % user)
    servers = [start_sshd_with(SSHD_PUBKEY_PORT, "publickey"),
               start_sshd_with(SSHD_KEY_KBDINT_PORT, "publickey,keyboard-interactive")]
    try:
        key = enroll("alice")
        ok, out = ssh_key("alice", SSHD_PUBKEY_PORT)
        check("sshd AuthenticationMethods publickey: alice (covered) with her key is refused (account phase)",
              not ok, "out %r" % out)
        ok, out = ssh_key("bob", SSHD_PUBKEY_PORT)
        check("sshd AuthenticationMethods publickey: bob (not covered) with his key gets in",
              ok and out == "bob", "ok %s out %r" % (ok, out))
        ok, out = ssh_key("alice", SSHD_KEY_KBDINT_PORT, [("pw", USERS["alice"][0]), ("code", code_for(key))])
        check("sshd publickey,keyboard-interactive: key, password and code let alice in",
              ok and out == "alice", "ok %s out %r" % (ok, out))
        enroll("alice")
        ok, out = ssh_key("alice", SSHD_KEY_KBDINT_PORT, [("pw", USERS["alice"][0]), ("code", "444444")])
        check("sshd publickey,keyboard-interactive: a wrong code is refused", not ok, "out %r" % out)
        sh(CTL, "mfa", "unlock", "alice")
    finally:
        for p in servers:
            p.terminate()
            p.wait(10)
        if failures:
            for port in (SSHD_PUBKEY_PORT, SSHD_KEY_KBDINT_PORT):
                with open("/var/log/sshd-test-%d.log" % port) as f:
                    print(f.read()[-2000:])


def ssh_kbdint(user, answers):
    """keyboard-interactive login; returns (ok, prompts seen, instructions, output of id -un)."""
    seen, texts = [], []

    def handler(title, instructions, prompts):
        texts.append(instructions)
        res = []
        for prompt, _echo in prompts:
            kind = "code" if "Verification code" in prompt else "pw"
            seen.append(kind)
            res.append(answers.pop(0)[1] if answers and answers[0][0] == kind else "wrong")
        return res

    t = paramiko.Transport(("127.0.0.1", SSHD_PORT))
    try:
        t.start_client(timeout=10)
        try:
            t.auth_interactive(user, handler)
        except paramiko.AuthenticationException:
            return False, seen, "".join(texts), ""
        ch = t.open_session()
        ch.exec_command("id -un")
        out = ch.makefile().read().decode()
        return t.is_authenticated(), seen, "".join(texts), out.strip()
    finally:
        t.close()


def ssh_other(user, method):
    t = paramiko.Transport(("127.0.0.1", SSHD_PORT))
    try:
        t.start_client(timeout=10)
        try:
            if method == "password":
                t.auth_password(user, USERS[user][0])
            else:
                t.auth_publickey(user, paramiko.Ed25519Key.from_private_key_file("/root/pamtest_key"))
        except (paramiko.AuthenticationException, paramiko.BadAuthenticationType):
            return False
        return t.is_authenticated()
    finally:
        t.close()


def test_sshd():
    sh("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", "/root/pamtest_key")
    os.makedirs("/home/alice/.ssh", exist_ok=True)
    with open("/root/pamtest_key.pub") as src, open("/home/alice/.ssh/authorized_keys", "w") as dst:
        dst.write(src.read())
    sh("chown", "-R", "alice:alice", "/home/alice/.ssh")
    p = start_sshd()
    try:
        key = enroll("alice")
        ok, seen, text, out = ssh_kbdint("alice", [("pw", USERS["alice"][0]), ("code", code_for(key))])
        check("sshd keyboard-interactive: password and code", ok and seen == ["pw", "code"] and out == "alice",
              "ok %s prompts %s out %r" % (ok, seen, out))
        enroll("alice")
        ok, seen, text, out = ssh_kbdint("alice", [("pw", USERS["alice"][0]), ("code", "333333")])
        check("sshd keyboard-interactive: a wrong code is refused", not ok, "prompts %s" % seen)
        ok, seen, text, out = ssh_kbdint("bob", [("pw", USERS["bob"][0])])
        check("sshd keyboard-interactive: bob with the password alone", ok and seen == ["pw"] and out == "bob",
              "ok %s prompts %s out %r" % (ok, seen, out))
        sh(CTL, "mfa", "unlock", "alice")
        check("sshd: a public key alone does not bypass MFA (AuthenticationMethods)", not ssh_other("alice", "key"))
        check("sshd: password authentication (no second prompt) is off", not ssh_other("alice", "password"))
    finally:
        p.terminate()
        p.wait(10)
        with open("/var/log/sshd-test.log") as f:
            log = f.read()
        if failures:
            print(log[-3000:])


def main():
    setup()
    tests = [test_common_auth, test_common_account, test_login, test_login_shows_last_login, test_sudo, test_su,
             test_gdm_password, test_screen_locker, test_lockout, test_sshd, test_sshd_account_phase,
             test_account_phase]
    for t in tests:
        try:
            t()
        except Exception as e:  # a crashed test is a failure, never a skip
            check("%s ran to the end" % t.__name__, False, "%s: %s" % (type(e).__name__, e))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
