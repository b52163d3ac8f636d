# SPDX-License-Identifier: GPL-2.0-or-later
"""Idle lock figures (printed, never asserted): run with bench/idle-lock.sh.

The real termguardd on an empty umockdev testbed (it never touches this machine's USB), a real
dbus-daemon and dbusmock's logind (tests/integration/idle_testbed.py). Prints:
  * wakeups of termguardd per minute with N idle-tracked sessions whose deadlines all lie
    beyond the window (the goal: none; it wakes only at deadlines), and with the idle lock
    waiting for a bus, for comparison;
  * RSS of termguardd with the idle lock waiting (no bus) and attached with N sessions;
  * the time from each session's deadline to logind's Lock call, as dbus-monitor --profile
    stamps the call on the bus.
"""

import argparse
import os
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "integration"))

from idle_testbed import IdleTestCase, USEC, now_usec  # noqa: E402


def task_switches(pid):
    """Context switches of every thread of pid: each is a wakeup or a preemption."""
    total = 0
    for tid in os.listdir("/proc/%d/task" % pid):
        with open("/proc/%d/task/%s/status" % (pid, tid)) as f:
            for line in f:
                if line.startswith(("voluntary_ctxt_switches", "nonvoluntary_ctxt_switches")):
                    total += int(line.split()[1])
    return total


def rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        vm = next(int(l.split()[1]) for l in f if l.startswith("VmRSS:"))
    with open("/proc/%d/smaps_rollup" % pid) as f:
        exact = next(int(l.split()[1]) for l in f if l.startswith("Rss:"))
    return vm, exact


class Bench(IdleTestCase):
    def runTest(self):
        pass


def wakeups_per_minute(pid, seconds):
    before = task_switches(pid)
    time.sleep(seconds)  # a measurement window, not synchronisation
    return (task_switches(pid) - before) * 60.0 / seconds


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sessions", type=int, default=20)
    ap.add_argument("--window", type=float, default=60, help="seconds of each wakeup measurement")
    ap.add_argument("--locks", type=int, default=10, help="sessions locked for the latency figure")
    args = ap.parse_args()

    b = Bench()
    b.setUp()
    try:
        # 1. waiting for a bus
        b.write_config(b.idle_config(LockAfter="1h", WarnBefore="0"))
        b.start_daemon()
        b.wait_event("idle.unavailable")
        time.sleep(2)
        pid = b.daemon.pid
        rss_wait = rss_kib(pid)
        wake_wait = wakeups_per_minute(pid, args.window)
        b.stop_daemon()

        # 2. attached, N sessions idle since 0..30 min ago, deadlines 30..60 min ahead
        b.start_all(b.idle_config(LockAfter="1h", WarnBefore="0"))
        pid = b.daemon.pid
        now = now_usec()
        for i in range(args.sessions):
            b.add_session("b%d" % i, uid=65534, user="nobody", idle_since=now - i * 90 * USEC)
        b.wait_for(lambda: len(b.ctl_json("status")["sessions"]) == args.sessions, "the sessions")
        time.sleep(2)
        rss_on = rss_kib(pid)
        # the window starts after the ctl calls above settled
        wake_on = wakeups_per_minute(pid, args.window)
        b.stop_daemon()
        b.stop_bus()

        # 3. deadline to Lock call
        b.start_all(b.idle_config(LockAfter="5s", WarnBefore="0", ConfirmTimeout="5m"))
        mon = subprocess.Popen(["dbus-monitor", "--system", "--profile", "type='method_call',member='Lock'"],
                               env=b.helper_env(), stdout=subprocess.PIPE, text=True)
        time.sleep(1)  # dbus-monitor has no ready signal; its match must be in place first
        base = now_usec()
        deadlines = {}
        for i in range(args.locks):
            sid = "l%d" % i
            since = base - 3 * USEC + i * 500000  # deadlines from 2 s ahead, every 0.5 s
            deadlines[sid] = since + 5 * USEC
            b.add_session(sid, uid=65534, user="nobody", idle_since=since)
        b.wait_for(lambda: all(b.calls(s, "Lock") for s in deadlines), "every Lock call", timeout=60)
        mon.terminate()
        out, _ = mon.communicate(timeout=10)
        latency = []
        for line in out.splitlines():
            f = line.split("\t")
            # mc TIMESTAMP SERIAL SENDER DEST PATH INTERFACE MEMBER
            if len(f) >= 8 and f[0] == "mc" and f[7] == "Lock":
                sid = f[5].rsplit("/", 1)[-1]
                if sid in deadlines:
                    latency.append((float(f[1]) * USEC - deadlines[sid]) / 1000.0)
        b.stop_daemon()
    finally:
        b.doCleanups()

    print("idle lock benchmark (termguardd %s sessions, %.0f s windows)" % (args.sessions, args.window))
    print("  %-52s %10s" % ("figure", "value"))
    print("  %-52s %10.1f" % ("wakeups/min, idle lock waiting for the bus", wake_wait))
    print("  %-52s %10.1f" % ("wakeups/min, %d sessions, no deadline in the window" % args.sessions, wake_on))
    print("  %-52s %10d" % ("RSS KiB (VmRSS), waiting for the bus", rss_wait[0]))
    print("  %-52s %10d" % ("RSS KiB (smaps_rollup), waiting for the bus", rss_wait[1]))
    print("  %-52s %10d" % ("RSS KiB (VmRSS), attached, %d sessions" % args.sessions, rss_on[0]))
    print("  %-52s %10d" % ("RSS KiB (smaps_rollup), attached, %d sessions" % args.sessions, rss_on[1]))
    if latency:
        print("  %-52s %10.1f" % ("deadline to Lock call, ms, median of %d" % len(latency), statistics.median(latency)))
        print("  %-52s %10.1f" % ("deadline to Lock call, ms, min", min(latency)))
        print("  %-52s %10.1f" % ("deadline to Lock call, ms, max", max(latency)))
    else:
        print("  deadline to Lock call: no Lock call seen by dbus-monitor")


if __name__ == "__main__":
    main()
