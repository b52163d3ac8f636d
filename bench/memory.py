#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""bench/memory.py BUILD_DIR [--settle SECONDS]

termguardd's resident memory, what costs what, printed and never asserted. Run as root on the
host (no VM): the built termguardd in a temporary root (config, state with its audit journal,
runtime), twice: as installed (defaults) and with every job on (idle lock attached to
dbusmock's logind on a private system bus, IC card readers followed, media audit, journal).
After it is ready and has settled (each configuration started --runs times, medians),
/proc/PID/smaps_rollup (Rss, Pss, anonymous, file-backed,
private dirty), its threads, and Rss per mapped file (largest first; each the median over the runs),
split into code, read-only file pages and pages written (RELRO, data). Needs dbus-daemon and
python3-dbusmock (the integration tier's packages)."""

import argparse
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

BUS_CONFIG = """<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig><type>system</type><listen>unix:path=%s</listen><auth>EXTERNAL</auth>
<policy context="default"><allow user="*"/><allow own="*"/><allow send_destination="*"/>
<allow receive_sender="*"/></policy></busconfig>
"""


def wait_for(pred, what, timeout=30):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        v = pred()
        if v:
            return v
        time.sleep(0.05)
    sys.exit("timed out waiting for " + what)


def median(values):
    return sorted(values)[len(values) // 2]


def rollup(pid):
    out = {}
    with open("/proc/%d/smaps_rollup" % pid) as f:
        for line in f:
            m = re.match(r"(\w+):\s+(\d+) kB", line)
            if m:
                out[m.group(1)] = int(m.group(2))
    return out


def per_file(pid):
    """Rss (KiB) per mapped file or kind ([heap], [stack], anonymous), largest first."""
    sizes, name = {}, None
    with open("/proc/%d/smaps" % pid) as f:
        for line in f:
            head = re.match(r"^[0-9a-f]+-[0-9a-f]+ \S+ \S+ \S+ \S+\s*(.*)$", line)
            if head:
                name = head.group(1) or "[anonymous]"
                continue
            m = re.match(r"Rss:\s+(\d+) kB", line)
            if m and name is not None:
                sizes[name] = sizes.get(name, 0) + int(m.group(1))
    return sorted(sizes.items(), key=lambda kv: -kv[1])


def segments(pid):
    """Rss (KiB) per mapped file split by what the pages are: code (r-x), read-only file pages
    (ELF headers, symbol tables, .rodata; r--), and pages the process wrote: relocated RELRO
    (r-- once ld.so has protected it) and .data/.bss (rw-), which are anonymous copies."""
    out, cur = {}, None
    with open("/proc/%d/smaps" % pid) as f:
        for line in f:
            head = re.match(r"^[0-9a-f]+-[0-9a-f]+ (\S+) \S+ \S+ \S+\s*(.*)$", line)
            if head:
                cur = [head.group(1), head.group(2) or "[anonymous]", 0]
                continue
            m = re.match(r"(Rss|Anonymous):\s+(\d+) kB", line)
            if not m or cur is None:
                continue
            if m.group(1) == "Rss":
                cur[2] = int(m.group(2))
                continue
            anon = int(m.group(2))
            seg = out.setdefault(cur[1], {"code": 0, "read-only": 0, "written": 0})
            if "x" in cur[0]:
                seg["code"] += cur[2]
            else:
                seg["read-only"] += cur[2] - anon
                seg["written"] += anon
    return out


def measure(build, tmp, label, config, bus, settle, journal=True):
    conf = os.path.join(tmp, label, "conf")
    state = os.path.join(tmp, label, "state")
    run = os.path.join(tmp, label, "run")
    os.makedirs(conf)
    os.makedirs(state, mode=0o700)
    with open(os.path.join(conf, "termguard.conf"), "w") as f:
        f.write("[Daemon]\nStateDirectory=%s\nRuntimeDirectory=%s\n%s" % (state, run, config))
    env = {k: v for k, v in os.environ.items() if k not in ("LD_PRELOAD", "NOTIFY_SOCKET", "JOURNAL_STREAM")}
    env["DBUS_SYSTEM_BUS_ADDRESS"] = "unix:path=" + bus
    if journal:
        subprocess.run([os.path.join(build, "ctl", "termguardctl"), "--config", conf, "journal", "init",
                        "--seed-out", os.path.join(tmp, label, "seed")], check=True, env=env,
                       stdout=subprocess.DEVNULL)
    err = os.path.join(tmp, label, "stderr")
    with open(err, "wb") as e:
        p = subprocess.Popen([os.path.join(build, "agent", "termguardd"), "--config", conf], env=env,
                             stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=e)
    try:
        wait_for(lambda: os.path.exists(os.path.join(run, "control.socket")), "termguardd to start")
        if "LockAfter" in config:
            wait_for(lambda: b"idle.attached" in open(err, "rb").read(), "the idle lock to attach")
        time.sleep(settle)  # a figure, not a test: let start-up work finish
        r = rollup(p.pid)
        threads = len(os.listdir("/proc/%d/task" % p.pid))
        files = per_file(p.pid)
        segs = segments(p.pid)
    finally:
        p.send_signal(signal.SIGTERM)
        p.wait(timeout=30)
    return r, threads, files, segs


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("build")
    ap.add_argument("--settle", type=float, default=2.0)
    ap.add_argument("--top", type=int, default=14)
    ap.add_argument("--runs", type=int, default=5, help="starts per configuration; medians are printed")
    ap.add_argument("--no-journal", action="store_true",
                    help="without an audit journal (what the journal costs; storage then stays blocked)")
    a = ap.parse_args()
    build = os.path.abspath(a.build)
    tmp = tempfile.mkdtemp(prefix="tg-mem-", dir="/run")
    os.chmod(tmp, 0o755)
    bus = os.path.join(tmp, "bus")
    with open(os.path.join(tmp, "bus.conf"), "w") as f:
        f.write(BUS_CONFIG % bus)
    env = dict(os.environ, DBUS_SYSTEM_BUS_ADDRESS="unix:path=" + bus)
    env.pop("LD_PRELOAD", None)
    procs = [subprocess.Popen(["dbus-daemon", "--config-file=" + os.path.join(tmp, "bus.conf"), "--nofork",
                               "--nopidfile"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)]
    try:
        wait_for(lambda: os.path.exists(bus), "the private bus")
        procs.append(subprocess.Popen(["/usr/bin/python3", "-m", "dbusmock", "--system", "--template", "logind"],
                                      env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        wait_for(lambda: subprocess.run(["busctl", "--address=unix:path=" + bus, "status", "org.freedesktop.login1"],
                                        capture_output=True).returncode == 0, "dbusmock's logind")
        runs = [("defaults", ""),
                ("every job on", "[IdleLock]\nLockAfter=10m\nCardReaders=*\n[MediaAudit]\nHashMaxSize=64M\n")]
        results = []
        for label, cfg in runs:
            samples = [measure(build, tmp, "%s-%d" % (label.replace(" ", "-"), i), cfg, bus, a.settle,
                               not a.no_journal)
                       for i in range(a.runs)]
            med = {k: median([s[0][k] for s in samples]) for k in samples[0][0]}
            # Each mapping's median over the runs: where a library lands (ASLR) moves the 64 KiB
            # fault-around windows over its pages, so one run's figure moves by a window or two.
            mid = sorted(samples, key=lambda s: s[0]["Rss"])[len(samples) // 2]
            names = {n for s in samples for n, _ in s[2]}
            files = sorted(((n, median([dict(s[2]).get(n, 0) for s in samples])) for n in names),
                           key=lambda kv: -kv[1])
            segs = {n: {k: median([s[3].get(n, {}).get(k, 0) for s in samples])
                        for k in ("code", "read-only", "written")} for n in names}
            results.append((label, med, mid[1], files, segs))
    finally:
        for p in reversed(procs):
            p.terminate()
            p.wait(timeout=30)
        shutil.rmtree(tmp, ignore_errors=True)

    keys = [("Rss", "Rss"), ("Pss", "Pss"), ("Pss_Anon", "Pss anonymous"), ("Pss_File", "Pss file-backed"),
            ("Private_Dirty", "private dirty"), ("Shared_Clean", "shared clean")]
    print("%-28s" % ("termguardd (KiB, median of %d)" % a.runs) + "".join("%16s" % r[0] for r in results))
    for k, name in keys:
        print("%-28s" % name + "".join("%16s" % r[1].get(k, "-") for r in results))
    print("%-28s" % "threads" + "".join("%16s" % r[2] for r in results))
    for label, _, _, files, segs in results:
        print("\nRss by mapping, %s (KiB):" % label)
        print("  %6s  %6s %9s %7s  %s" % ("Rss", "code", "read-only", "written", "mapping"))
        for name, kib in files[:a.top]:
            seg = segs.get(name, {})
            print("  %6d  %6s %9s %7s  %s" % (kib, seg.get("code", "-"), seg.get("read-only", "-"),
                                             seg.get("written", "-"), name))


if __name__ == "__main__":
    main()
