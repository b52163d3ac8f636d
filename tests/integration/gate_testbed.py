#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Device-integration tests of the USB gate of termguardd.

What is real here: the built termguardd and termguardctl, libudev (enumeration and the "kernel"
uevent monitor), the daemon's sysfs reads and writes, its control socket, its config and
register files. What is emulated: the kernel's sysfs and uevents, by umockdev. The daemon runs
with the umockdev preload library, so its /sys is the testbed built here and the uevents sent
with Testbed.uevent() reach its netlink monitor.

The test process itself must run with the preload too (umockdev's add_device() and uevent()
resolve /sys paths through it): run the suite with run.sh, which uses umockdev-wrapper.

Behaviour of umockdev 0.17 these tests rely on (verified, see README.md in this folder):
  * Testbed.uevent() reaches a libudev monitor created with
    udev_monitor_new_from_netlink(udev, "kernel") in the preloaded daemon. The message is in
    libudev's format and carries only ACTION, DEVPATH, SUBSYSTEM, SEQNUM, DEVNAME, DEVTYPE;
    the daemon reads everything else from the (emulated) sysfs.
  * add_device() and add_from_string() send an "add" uevent for each device they create.
    add_from_string() sends it after the device's binary (H:) attributes are written, so a
    device appears with its descriptors in place, as from the kernel.
  * remove_device() sends no uevent: the tests send "remove" themselves, before removing. It
    also leaves the /sys/bus/usb/devices/NAME link behind, and adding a device of the same
    name again then aborts the test process; unplug() removes the link.
  * The preload does not emulate /sys/bus/usb/drivers_probe: a write fails with ENOENT. The
    tests create it in the testbed as a FIFO and read every write the daemon makes to it.
  * Writes to emulated attributes are plain file writes (no kernel side effects), so the tests
    act as the kernel where it matters (e.g. creating interfaces once a device is authorized).
  * ioctl() on an emulated device node goes to the testbed: an unhandled one fails with ENOTTY;
    Testbed.attach_ioctl() with an IoctlBase subclass answers BLKROSET here (BlockIoctls).
  * /proc paths that exist in the testbed replace the real ones for the daemon; the tests
    provide /proc/self/mountinfo so that the daemon's unmount step only sees test mounts.

Environment: TG_BUILD_DIR (the build directory; set by run.sh), TG_IT_TIMEOUT (seconds for
bounded polling, default 20), TG_IT_KEEP=1 keeps each test's temporary directory.
"""

import calendar
import grp
import hashlib
import json
import os
import socket
import shutil
import signal
import struct
import subprocess
import tempfile
import threading
import time
import unicodedata
import unittest

import gi

gi.require_version("UMockdev", "1.0")
from gi.repository import UMockdev  # noqa: E402

BUILD_DIR = os.environ.get("TG_BUILD_DIR", "")
TERMGUARDD = os.path.join(BUILD_DIR, "agent", "termguardd")
TERMGUARDCTL = os.path.join(BUILD_DIR, "ctl", "termguardctl")
TIMEOUT = float(os.environ.get("TG_IT_TIMEOUT", "20"))
NOBODY = 65534

# termguardctl exit codes (ctl/ctl.h)
EXIT_DENIED = 4

# Bounds from include/termguard/escape.h and agent/daemon.h: device strings are cut at
# TG_DEVICE_STRING_MAX * 3 input bytes and escaped into a buffer of TG_ESCAPED_MAX bytes.
TG_DEVICE_STRING_MAX = 126
TG_ESCAPED_MAX = TG_DEVICE_STRING_MAX * 4 + 8
ELLIPSIS = "\u2026"

HUB_PATH = "/sys/devices/pci0000:00/0000:00:14.0/usb1"


def setUpModule():
    problems = []
    if not BUILD_DIR:
        problems.append("TG_BUILD_DIR is not set (run tests/integration/run.sh BUILD_DIR)")
    for b in (TERMGUARDD, TERMGUARDCTL):
        if not os.access(b, os.X_OK):
            problems.append("%s is missing or not executable" % b)
    if "libumockdev-preload" not in os.environ.get("LD_PRELOAD", ""):
        problems.append("the test process must run under umockdev-wrapper (see run.sh)")
    if os.geteuid() != 0:
        problems.append("these tests need root (the daemon accepts admin commands from root)")
    if shutil.which("setpriv") is None:
        problems.append("setpriv (util-linux) is missing")
    if problems:
        raise RuntimeError("; ".join(problems))


# ---- USB descriptors, built byte by byte as a device sends them ----

MASS_STORAGE = (0x08, 0x06, 0x50)  # SCSI transparent, bulk-only
HID_KEYBOARD = (0x03, 0x01, 0x01)  # boot keyboard
VENDOR_MTP = (0xFF, 0xFF, 0x00)


def device_descriptor(vid, pid, n_configs=1, cls=0):
    return struct.pack("<BBHBBBBHHHBBBB", 18, 1, 0x0200, cls, 0, 0, 64, vid, pid, 0x0100,
                       1, 2, 3, n_configs)


def endpoint_descriptor(address, attributes, max_packet, interval=0):
    return struct.pack("<BBBBHB", 7, 5, address, attributes, max_packet, interval)


def interface_descriptors(number, cls, subclass, protocol, alt=0):
    """One interface descriptor (one altsetting) with the class-typical descriptors after it."""
    if cls == 0x03:
        hid = struct.pack("<BBHBBBH", 9, 0x21, 0x0111, 0, 1, 0x22, 63)
        eps = [endpoint_descriptor(0x81 + number, 0x03, 8, 10)]
        extra = hid
    elif cls == 0x09:
        eps = [endpoint_descriptor(0x81, 0x03, 4, 12)]
        extra = b""
    else:
        eps = [endpoint_descriptor(0x81 + number, 0x02, 512), endpoint_descriptor(0x02 + number, 0x02, 512)]
        extra = b""
    head = struct.pack("<9B", 9, 4, number, alt, len(eps), cls, subclass, protocol, 0)
    return head + extra + b"".join(eps)


def config_descriptor(interfaces, value=1, total_length=None):
    """interfaces: list of (number, cls, subclass, protocol[, alt])."""
    body = b"".join(interface_descriptors(*i) for i in interfaces)
    n_ifaces = len({i[0] for i in interfaces})
    total = 9 + len(body) if total_length is None else total_length
    return struct.pack("<BBHBBBBB", 9, 2, total, n_ifaces, value, 0, 0x80, 50) + body


def usb_descriptors(vid, pid, interfaces, cls=0):
    return device_descriptor(vid, pid, cls=cls) + config_descriptor(interfaces)


class UsbDevice:
    """A USB device as sysfs shows it: attributes, raw descriptors and interface children."""

    def __init__(self, name, vid, pid, serial, interfaces, devnum, manufacturer=b"Example",
                 product=b"Device", descriptors=None, authorized=False, interfaces_authorized=False):
        self.name = name
        self.vid, self.pid = vid, pid
        self.serial = serial.encode() if isinstance(serial, str) else serial  # None: no serial
        self.interfaces = interfaces  # [(number, cls, subclass, protocol[, alt])]
        self.devnum = devnum
        self.manufacturer, self.product = manufacturer, product
        self.descriptors = usb_descriptors(vid, pid, interfaces) if descriptors is None else descriptors
        self.authorized = authorized
        self.interfaces_authorized = interfaces_authorized
        self.syspath = "%s/%s" % (HUB_PATH, name)

    def interface_names(self):
        seen = []
        for i in self.interfaces:
            n = "%s:1.%d" % (self.name, i[0])
            if n not in seen:
                seen.append(n)
        return seen

    def interface_path(self, number):
        return "%s/%s:1.%d" % (self.syspath, self.name, number)

    def record(self):
        """umockdev-record text for the device alone."""
        p = self.syspath[len("/sys"):]
        lines = [
            "P: " + p,
            "E: SUBSYSTEM=usb",
            "E: DEVTYPE=usb_device",
            "E: PRODUCT=%x/%x/100" % (self.vid, self.pid),
            "E: TYPE=0/0/0",
            "E: BUSNUM=001",
            "E: DEVNUM=%03d" % self.devnum,
            "A: idVendor=%04x\\n" % self.vid,
            "A: idProduct=%04x\\n" % self.pid,
            "A: bcdDevice=0100\\n",
            "A: bDeviceClass=00\\n",
            "A: bNumConfigurations=1\\n",
            "A: bConfigurationValue=1\\n",
            "A: speed=480\\n",
            "A: busnum=1\\n",
            "A: devnum=%d\\n" % self.devnum,
            "A: authorized=%d\\n" % (1 if self.authorized else 0),
        ]
        # Strings as raw bytes: devices may send anything.
        for attr in ("serial", "manufacturer", "product"):
            value = getattr(self, attr)
            if value is not None:
                lines.append("H: %s=%s" % (attr, (value + b"\n").hex().upper()))
        if self.descriptors is not None:
            lines.append("H: descriptors=" + self.descriptors.hex().upper())
        return "\n".join(lines) + "\n\n"

    def interface_records(self):
        out = []
        done = set()
        for i in self.interfaces:
            number, cls, sub, proto = i[:4]
            if number in done:
                continue
            done.add(number)
            out.append("\n".join([
                "P: " + self.interface_path(number)[len("/sys"):],
                "E: SUBSYSTEM=usb",
                "E: DEVTYPE=usb_interface",
                "E: INTERFACE=%d/%d/%d" % (cls, sub, proto),
                "A: bInterfaceNumber=%02x\\n" % number,
                "A: bAlternateSetting= 0\\n",
                "A: bInterfaceClass=%02x\\n" % cls,
                "A: bInterfaceSubClass=%02x\\n" % sub,
                "A: bInterfaceProtocol=%02x\\n" % proto,
                "A: authorized=%d\\n" % (1 if self.interfaces_authorized else 0),
            ]) + "\n\n")
        return out


def stick(name="1-1", serial="KST-0001", devnum=2, **kw):
    """A Kingston DataTraveler-like mass-storage stick."""
    return UsbDevice(name, 0x0951, 0x1666, serial, [(0,) + MASS_STORAGE], devnum,
                     manufacturer=b"Kingston", product=b"DataTraveler 3.0", **kw)


def keyboard(name="1-2", devnum=3, **kw):
    return UsbDevice(name, 0x046D, 0xC31C, None, [(0,) + HID_KEYBOARD], devnum,
                     manufacturer=b"Logitech", product=b"USB Keyboard", **kw)


def iso_utc(t):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


def parse_iso_utc(s):
    return calendar.timegm(time.strptime(s, "%Y-%m-%dT%H:%M:%SZ"))


BLKROSET = 0x125D  # _IO(0x12, 93)
ENOTTY = 25


class BlockIoctls(UMockdev.IoctlBase):
    """Answers the ioctls on emulated block device nodes: records BLKROSET and its argument,
    and succeeds or fails with self.blkroset_errno. umockdev calls this from its own thread."""

    def __init__(self):
        super().__init__()
        self.lock = threading.Lock()
        self.calls = []  # (devnode, value)
        self.blkroset_errno = 0

    def do_handle_ioctl(self, client):
        if client.get_request() != BLKROSET:
            client.complete(-1, ENOTTY)
            return True
        data = bytes(client.get_arg().resolve(0, 4).data)
        with self.lock:
            self.calls.append((client.get_devnode(), int.from_bytes(data[:4].ljust(4, b"\0"), "little")))
        if self.blkroset_errno:
            client.complete(-1, self.blkroset_errno)
        else:
            client.complete(0, 0)
        return True

    def blkroset_calls(self):
        with self.lock:
            return list(self.calls)


class GateTestCase(unittest.TestCase):
    """One testbed, one temporary config/state/runtime tree and at most one daemon per test."""

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="tg-it-")
        os.chmod(self.tmp, 0o755)  # the unprivileged caller must reach the control socket
        self.confdir = os.path.join(self.tmp, "conf")
        self.statedir = os.path.join(self.tmp, "state")
        self.rundir = os.path.join(self.tmp, "run")
        self.socket = os.path.join(self.rundir, "control.socket")
        self.errlog = os.path.join(self.tmp, "termguardd.stderr")
        os.mkdir(self.confdir, 0o755)
        self.write_config()
        self.daemon = None
        self.probe_fd = -1
        self.probe_buf = b""
        self.tb = UMockdev.Testbed.new()
        self.root = self.tb.get_root_dir()
        self.blk = BlockIoctls()
        self.addCleanup(self.cleanup)
        self.add_root_hub("usb1", HUB_PATH)
        # drivers_probe: umockdev has none; a FIFO records each write of the daemon. Our read
        # end stays open for the whole test, so the daemon's open() never blocks.
        probe = self.sys("/sys/bus/usb/drivers_probe")
        os.mkfifo(probe, 0o200)
        self.probe_fd = os.open(probe, os.O_RDONLY | os.O_NONBLOCK)
        # The daemon unmounts filesystems of block devices below a device before cutting it
        # off, matching their device numbers against /proc/self/mountinfo. The preload serves
        # this file from the testbed, so the emulated block devices (8:208 and up) can never
        # match a real mount of this machine.
        self.mountinfo = []
        self.write_mountinfo()

    def write_mountinfo(self):
        os.makedirs(self.sys("/proc/self"), exist_ok=True)
        with open(self.sys("/proc/self/mountinfo"), "w") as f:
            f.write("1 0 0:1 / / rw,relatime - rootfs rootfs rw\n")
            for i, (devno, target) in enumerate(self.mountinfo):
                f.write("%d 1 %s / %s rw,relatime - vfat /dev/tg-it%d rw\n" % (100 + i, devno, target, i))

    def cleanup(self):
        try:
            if self.daemon is not None:
                self.stop_daemon(check=False)
            # No termguardd of this test may survive it.
            leftovers = []
            for pid in filter(str.isdigit, os.listdir("/proc")):
                try:
                    with open("/proc/%s/cmdline" % pid, "rb") as f:
                        cmd = f.read()
                except OSError:
                    continue
                if self.confdir.encode() in cmd and b"termguardd" in cmd:
                    leftovers.append(int(pid))
            for pid in leftovers:
                os.kill(pid, signal.SIGKILL)
            self.assertEqual(leftovers, [], "termguardd processes left over")
        finally:
            if self.probe_fd >= 0:
                os.close(self.probe_fd)
                self.probe_fd = -1
            self.tb = None  # finalizing the testbed removes its directory
            self.blk = None
            if os.environ.get("TG_IT_KEEP") != "1":
                shutil.rmtree(self.tmp, ignore_errors=True)

    # ---- testbed ----

    def sys(self, path):
        """Real path of a /sys path in the testbed."""
        return os.path.join(self.root, path.lstrip("/"))

    def attr(self, syspath, name):
        with open(os.path.join(self.sys(syspath), name), "rb") as f:
            return f.read().decode("ascii", "replace").strip()

    def add_root_hub(self, name, path):
        desc = device_descriptor(0x1D6B, 0x0002, cls=0x09) + config_descriptor([(0, 0x09, 0, 0)])
        self.tb.add_from_string("\n".join([
            "P: " + path[len("/sys"):],
            "E: SUBSYSTEM=usb",
            "E: DEVTYPE=usb_device",
            "E: BUSNUM=%03d" % int(name[3:]),
            "E: DEVNUM=001",
            "A: idVendor=1d6b\\n",
            "A: idProduct=0002\\n",
            "A: busnum=%d\\n" % int(name[3:]),
            "A: devnum=1\\n",
            "A: authorized=1\\n",
            "A: authorized_default=1\\n",
            "A: interface_authorized_default=1\\n",
            "H: descriptors=" + desc.hex().upper(),
        ]) + "\n")
        return path

    def plug(self, dev, with_interfaces=True):
        """Adds the device (one "add" uevent), then its interfaces (one "add" each)."""
        self.tb.add_from_string(dev.record())
        if with_interfaces:
            self.add_interfaces(dev)

    def add_interfaces(self, dev):
        for rec in dev.interface_records():
            self.tb.add_from_string(rec)

    def unplug(self, dev):
        """As the kernel does: "remove" for each interface, then for the device."""
        for name in dev.interface_names():
            path = "%s/%s" % (dev.syspath, name)
            if os.path.isdir(self.sys(path)):
                self.tb.uevent(path, "remove")
        self.tb.uevent(dev.syspath, "remove")
        self.tb.remove_device(dev.syspath)
        # umockdev 0.17 leaves the /sys/bus/usb/devices links behind, and aborts when a device
        # of the same name is added again.
        for name in [dev.name] + dev.interface_names():
            link = self.sys("/sys/bus/usb/devices/" + name)
            if os.path.lexists(link):
                os.unlink(link)

    def add_block(self, dev, name, minor, parent=None):
        """A SCSI disk (or, with parent, a partition of it) below the device's first
        interface, with a device node whose ioctls go to self.blk (see BlockIoctls)."""
        if parent is None:
            path = "%s/host6/target6:0:0/6:0:0:0/block/%s" % (dev.interface_path(dev.interfaces[0][0]), name)
            devtype = "disk"
        else:
            path = "%s/%s" % (parent, name)
            devtype = "partition"
        self.tb.attach_ioctl("/dev/" + name, self.blk)
        self.tb.add_from_string("\n".join([
            "P: " + path[len("/sys"):],
            "N: " + name,
            "E: SUBSYSTEM=block",
            "E: DEVTYPE=" + devtype,
            "E: DEVNAME=/dev/" + name,
            "E: MAJOR=8",
            "E: MINOR=%d" % minor,
            "A: dev=8:%d\\n" % minor,
            "A: ro=0\\n",
            "A: removable=1\\n",
            "A: size=2048\\n",
        ]) + ("\nA: partition=1\\n" if parent else "") + "\n")
        return path

    def remove_block(self, path):
        self.tb.uevent(path, "remove")
        self.tb.remove_device(path)

    def probes(self):
        """Everything the daemon wrote to /sys/bus/usb/drivers_probe so far."""
        while True:
            try:
                chunk = os.read(self.probe_fd, 4096)
            except BlockingIOError:
                break
            if not chunk:
                break
            self.probe_buf += chunk
        return self.probe_buf.decode("ascii", "replace")

    # ---- config, daemon, events ----

    def write_config(self, extra=""):
        path = os.path.join(self.confdir, "termguard.conf")
        with open(path, "w") as f:
            f.write("[Daemon]\nStateDirectory=%s\nRuntimeDirectory=%s\n%s" % (self.statedir, self.rundir, extra))
        os.chmod(path, 0o644)
        return path

    def write_dropin(self, name, text):
        d = os.path.join(self.confdir, "termguard.conf.d")
        os.makedirs(d, mode=0o755, exist_ok=True)
        path = os.path.join(d, name)
        with open(path, "w") as f:
            f.write(text)
        os.chmod(path, 0o644)
        return path

    def daemon_env(self):
        env = dict(os.environ)
        env["UMOCKDEV_DIR"] = self.root
        for k in ("JOURNAL_STREAM", "NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID", "TERMGUARD_SOCKET"):
            env.pop(k, None)
        return env

    def start_daemon(self, tmpfs_at=None):
        """Starts termguardd. tmpfs_at: run it in a private mount namespace with a tmpfs
        mounted there (a filesystem it may unmount without touching the host's mounts)."""
        self.assertIsNone(self.daemon, "daemon already running")
        n_started = len(self.events("daemon.started"))
        cmd = [TERMGUARDD, "--config", self.confdir]
        if tmpfs_at:
            # mount(8) runs without the preload; termguardd (same PID, via exec) with it.
            cmd = ["unshare", "--mount", "--propagation", "private", "env", "-u", "LD_PRELOAD", "sh", "-c",
                   'mount -t tmpfs tg-it "$1" && shift && exec env LD_PRELOAD="$0" "$@"',
                   os.environ["LD_PRELOAD"], tmpfs_at] + cmd
        err = open(self.errlog, "ab")
        self.daemon = subprocess.Popen(cmd, env=self.daemon_env(),
                                       stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err)
        err.close()
        self.wait_for(lambda: len(self.events("daemon.started")) > n_started and os.path.exists(self.socket),
                      "termguardd to start", alive=True)
        return self.daemon

    def stop_daemon(self, check=True):
        p, self.daemon = self.daemon, None
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
            try:
                p.wait(timeout=TIMEOUT)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
                if check:
                    self.fail("termguardd did not stop on SIGTERM within %ss" % TIMEOUT)
        if check:
            self.assertEqual(p.returncode, 0, "termguardd exit status after SIGTERM\n" + self.log_tail())

    def log_tail(self, n=40):
        try:
            with open(self.errlog, "rb") as f:
                lines = f.read().decode("utf-8", "replace").splitlines()
        except FileNotFoundError:
            return "(no daemon output)"
        return "--- termguardd stderr (last %d lines) ---\n%s" % (n, "\n".join(lines[-n:]))

    def raw_lines(self):
        try:
            with open(self.errlog, "rb") as f:
                data = f.read()
        except FileNotFoundError:
            return []
        lines = data.split(b"\n")
        return lines[:-1]  # the last element is an incomplete line (or empty)

    def events(self, type_=None, **match):
        out = []
        for line in self.raw_lines():
            if not line.startswith(b"{"):
                continue
            try:
                ev = json.loads(line.decode("utf-8"))
            except ValueError:
                continue  # test_hostile_device_strings checks that there are none
            if type_ is not None and ev.get("event") != type_:
                continue
            if all(ev.get(k) == v for k, v in match.items()):
                out.append(ev)
        return out

    def wait_for(self, predicate, what, timeout=None, alive=True):
        deadline = time.monotonic() + (timeout or TIMEOUT)
        while True:
            value = predicate()
            if value:
                return value
            if alive and self.daemon is not None and self.daemon.poll() is not None:
                self.fail("termguardd exited (status %s) while waiting for %s\n%s"
                          % (self.daemon.returncode, what, self.log_tail()))
            if time.monotonic() > deadline:
                self.fail("timed out after %ss waiting for %s\n%s" % (timeout or TIMEOUT, what, self.log_tail()))
            time.sleep(0.05)

    def wait_event(self, type_, **match):
        return self.wait_for(lambda: (self.events(type_, **match) or [None])[-1],
                             "event %s %s" % (type_, match))

    def wait_attr(self, syspath, name, value, timeout=None):
        def check():
            try:
                return self.attr(syspath, name) == value
            except FileNotFoundError:
                return False
        self.wait_for(check, "%s/%s == %r" % (syspath, name, value), timeout=timeout)

    def ctl(self, *args, uid=None, groups=None):
        cmd = [TERMGUARDCTL, "--socket", self.socket] + list(args)
        if uid is not None:
            cmd = ["setpriv", "--reuid=%d" % uid, "--regid=%d" % uid] + \
                  (["--groups=" + ",".join(map(str, groups))] if groups else ["--clear-groups"]) + cmd
        env = dict(os.environ)
        env.pop("LD_PRELOAD", None)  # the client talks to the socket only
        env.pop("TERMGUARD_SOCKET", None)
        return subprocess.run(cmd, env=env, stdin=subprocess.DEVNULL, capture_output=True, timeout=TIMEOUT)

    def ctl_ok(self, *args, **kw):
        r = self.ctl(*args, **kw)
        self.assertEqual(r.returncode, 0, "termguardctl %s failed: %s\n%s"
                         % (" ".join(args), r.stderr.decode(errors="replace"), self.log_tail()))
        return r

    def ctl_json(self, *args, **kw):
        return json.loads(self.ctl_ok(*args, "--json", **kw).stdout.decode("utf-8"))

    def barrier(self):
        """Returns once the daemon has handled every uevent queued before the call.

        The daemon is single-threaded and drains its uevent socket completely in one handler
        run; a control request sent after the uevents were queued is answered only after
        that handler ran (sd-event dispatches sources in the order they became ready)."""
        return self.ctl_json("status")

    def device_json(self, name):
        for d in self.ctl_json("devices"):
            if d["device"] == name:
                return d
        return None

    def decision_file(self, name):
        path = os.path.join(self.rundir, "devices", name)
        try:
            with open(path) as f:
                return dict(line.split("=", 1) for line in f.read().splitlines())
        except FileNotFoundError:
            return None

    def decision_of(self, dev, **match):
        return self.wait_event("usb.decision", device=dev.name, **match)

    def register(self, dev, label, mode=None):
        args = ["media", "add", "--vid", "%04x" % dev.vid, "--pid", "%04x" % dev.pid,
                "--serial", dev.serial.decode(), "--label", label]
        if mode:
            args += ["--mode", mode]
        return self.ctl_ok(*args)


class UsbGateTest(GateTestCase):

    # 0: the premise of the whole tier. If this fails, umockdev does not deliver uevents to a
    # "kernel" monitor here, and every hotplug test below is meaningless.
    def test_00_uevents_reach_kernel_monitor(self):
        self.start_daemon()
        kbd = keyboard()
        self.plug(kbd, with_interfaces=False)
        ev = self.decision_of(kbd)
        self.assertEqual(ev["trigger"], "attach", "the device was judged from a uevent, not at startup")
        self.assertEqual(len(self.events("usb.attach", device=kbd.name)), 1)
        # An explicit Testbed.uevent() arrives as well: the known device is judged again.
        self.tb.uevent(kbd.syspath, "add")
        self.wait_for(lambda: len(self.events("usb.decision", device=kbd.name)) == 2, "a second decision")
        self.assertEqual(len(self.events("usb.attach", device=kbd.name)), 1, "no second attach record")
        # Uevents of other subsystems are not judged.
        self.tb.add_from_string("P: /devices/virtual/input/input9\nE: SUBSYSTEM=input\nA: name=x\n")
        self.barrier()
        self.assertEqual(len(self.events("usb.decision")), 2)

    # 1
    def test_01_start_locks_every_root_hub(self):
        hub2 = self.add_root_hub("usb2", "/sys/devices/pci0000:00/0000:00:14.0/usb2")
        self.start_daemon()
        for hub in (HUB_PATH, hub2):
            self.assertEqual(self.attr(hub, "authorized_default"), "0", hub)
            self.assertEqual(self.attr(hub, "interface_authorized_default"), "0", hub)
        locked = {e["controller"] for e in self.events("usb.controller-locked", result="ok")}
        self.assertEqual(locked, {"usb1", "usb2"})
        st = self.barrier()
        self.assertEqual(st["controllers_locked"], 2)
        # A root hub is a controller, not a device to judge.
        self.assertEqual(self.events("usb.decision"), [])
        self.assertEqual(self.ctl_json("devices"), [])
        # A controller that appears later (a dock, a PCIe card) is locked as it appears.
        hub3 = self.add_root_hub("usb3", "/sys/devices/pci0000:00/0000:00:1c.0/0000:3a:00.0/usb3")
        self.wait_attr(hub3, "authorized_default", "0")
        self.wait_attr(hub3, "interface_authorized_default", "0")
        self.wait_event("usb.controller-locked", controller="usb3", result="ok")
        self.assertEqual(self.barrier()["controllers_locked"], 3)

    # 2
    def test_02_unregistered_stick_stays_blocked(self):
        self.start_daemon()
        s = stick()
        self.plug(s)
        ev = self.decision_of(s)
        self.barrier()
        self.assertEqual(ev["decision"], "blocked")
        self.assertEqual(ev["vid"], "0951")
        self.assertEqual(ev["pid"], "1666")
        self.assertEqual(ev["serial"], "KST-0001")
        self.assertEqual(ev["interfaces"], "1.0:08:deny")
        self.assertEqual(self.attr(s.syspath, "authorized"), "0")
        self.assertEqual(self.attr(s.interface_path(0), "authorized"), "0")
        self.assertEqual(self.probes(), "")
        d = self.device_json(s.name)
        self.assertIsNotNone(d, "devices --json lists the stick")
        self.assertIs(d["authorized"], False)
        self.assertEqual(d["storage"], "blocked")
        self.assertIn("register", d["reason"])
        self.assertEqual(d["interfaces"][0]["class"], "08")
        self.assertIs(d["interfaces"][0]["allowed"], False)
        f = self.decision_file(s.name)
        self.assertEqual(f, {"BUSNUM": "1", "DEVNUM": str(s.devnum), "MODE": "blocked", "LABEL": ""})
        # The attach is recorded before the decision.
        kinds = [e["event"] for e in self.events() if e.get("device") == s.name]
        self.assertEqual(kinds[:2], ["usb.attach", "usb.decision"])

    # 3
    def test_03_keyboard_is_authorized_and_probed(self):
        self.start_daemon()
        kbd = keyboard()
        self.plug(kbd)
        ev = self.decision_of(kbd)
        self.assertEqual(ev["decision"], "allowed")
        self.wait_attr(kbd.syspath, "authorized", "1")
        self.wait_attr(kbd.interface_path(0), "authorized", "1")
        self.wait_for(lambda: self.probes() == "1-2:1.0", "drivers_probe to receive 1-2:1.0")
        self.barrier()
        self.assertEqual(self.probes(), "1-2:1.0", "the interface is probed exactly once")
        d = self.device_json(kbd.name)
        self.assertIs(d["authorized"], True)
        self.assertEqual(d["storage"], "none")
        self.assertIsNotNone(self.decision_file(kbd.name), "the decision is recorded")

    # 3b: as the real kernel does it: an unauthorized device has no interfaces; they appear
    # (with authorized=0, as interface_authorized_default=0) only after the device is
    # authorized, and the daemon learns of them from their own "add" uevents.
    def test_03b_interfaces_appearing_after_authorization_are_probed(self):
        self.start_daemon()
        kbd = keyboard(name="1-4", devnum=7)
        self.plug(kbd, with_interfaces=False)
        self.wait_attr(kbd.syspath, "authorized", "1")
        self.add_interfaces(kbd)  # the kernel configures the device
        self.wait_attr(kbd.interface_path(0), "authorized", "1")
        self.wait_for(lambda: self.probes() == "1-4:1.0", "drivers_probe to receive 1-4:1.0")

    # 4
    def test_04_registering_a_present_stick_applies_live(self):
        self.start_daemon()
        s = stick()
        other = stick(name="1-3", serial="KST-0002", devnum=4)  # same model, other serial
        self.plug(s, with_interfaces=False)  # blocked: the kernel creates no interfaces
        self.plug(other, with_interfaces=False)
        self.decision_of(s)
        self.decision_of(other)
        self.barrier()
        self.assertEqual(self.attr(s.syspath, "authorized"), "0")

        self.register(s, "USB-KEIRI-01")
        self.wait_attr(s.syspath, "authorized", "1")
        ev = self.wait_event("usb.decision", device=s.name, trigger="register-change")
        self.assertEqual(ev["decision"], "read-only")
        self.assertEqual(ev["label"], "USB-KEIRI-01")
        f = self.decision_file(s.name)
        self.assertEqual(f["MODE"], "read-only")
        self.assertEqual(f["LABEL"], "USB-KEIRI-01")
        self.assertEqual(f["DEVNUM"], str(s.devnum))

        self.add_interfaces(s)  # the kernel configures the now authorized stick
        self.wait_attr(s.interface_path(0), "authorized", "1")
        self.wait_for(lambda: self.probes() == "1-1:1.0", "drivers_probe to receive 1-1:1.0")

        d = self.device_json(s.name)
        self.assertIs(d["authorized"], True)
        self.assertEqual(d["storage"], "read-only")
        self.assertEqual(d["label"], "USB-KEIRI-01")
        media = self.ctl_json("media", "list")
        self.assertEqual([(m["label"], m["vid"], m["pid"], m["serial"], m["mode"]) for m in media],
                         [("USB-KEIRI-01", "0951", "1666", "KST-0001", "read-only")])
        self.assertEqual(media[0]["added_by"], "root")
        self.wait_event("register.media-added", label="USB-KEIRI-01", actor="root")

        # Identity is VID, PID and serial: the same model with another serial stays out.
        self.barrier()
        self.assertEqual(self.attr(other.syspath, "authorized"), "0")
        self.assertIs(self.device_json(other.name)["authorized"], False)
        self.assertEqual(self.decision_file(other.name)["MODE"], "blocked")
        self.assertEqual(self.probes(), "1-1:1.0")

    # 4b: the reverse: removing a present medium from the register cuts it off.
    def test_04b_removing_a_present_medium_blocks_it(self):
        s = stick()
        self.plug(s)
        self.start_daemon()
        self.register(s, "USB-SOUMU-02")
        self.wait_for(lambda: (self.decision_file(s.name) or {}).get("MODE") == "read-only", "read-only decision")
        self.barrier()
        self.assertEqual(self.attr(s.syspath, "authorized"), "1")
        self.assertEqual(self.attr(s.interface_path(0), "authorized"), "1")

        self.ctl_ok("media", "remove", "USB-SOUMU-02")
        self.wait_attr(s.syspath, "authorized", "0")
        self.assertEqual(self.attr(s.interface_path(0), "authorized"), "0")
        self.assertEqual(self.decision_file(s.name)["MODE"], "blocked")
        self.assertEqual(self.ctl_json("media", "list"), [])
        self.wait_event("register.media-removed", label="USB-SOUMU-02", actor="root")
        self.assertIs(self.device_json(s.name)["authorized"], False)

    # 5
    def test_05_composite_device_only_storage_is_denied(self):
        self.start_daemon()
        combo = UsbDevice("1-3", 0x1234, 0x5678, "COMBO-1", [(0,) + MASS_STORAGE, (1,) + HID_KEYBOARD], 4,
                          product=b"Keyboard with card reader")
        self.plug(combo)
        ev = self.decision_of(combo)
        self.assertEqual(ev["decision"], "storage-blocked")
        self.assertEqual(ev["interfaces"], "1.0:08:deny,1.1:03:allow")
        self.wait_attr(combo.syspath, "authorized", "1")
        self.wait_attr(combo.interface_path(1), "authorized", "1")
        self.wait_for(lambda: self.probes() == "1-3:1.1", "drivers_probe to receive 1-3:1.1")
        self.barrier()
        self.assertEqual(self.attr(combo.interface_path(0), "authorized"), "0")
        self.assertEqual(self.probes(), "1-3:1.1", "the storage interface is never probed")
        d = self.device_json(combo.name)
        self.assertIs(d["authorized"], True)
        self.assertEqual(d["storage"], "blocked")
        self.assertEqual({i["class"]: i["allowed"] for i in d["interfaces"]}, {"08": False, "03": True})
        self.assertEqual(self.decision_file(combo.name)["MODE"], "blocked")

        # An interface that is HID in altsetting 0 but mass storage in altsetting 1 could switch
        # to storage after authorization: it must not pass.
        sneaky = UsbDevice("1-5", 0x1234, 0x9999, "SNEAKY-1",
                           [(0,) + HID_KEYBOARD + (0,), (0,) + MASS_STORAGE + (1,)], 8)
        self.plug(sneaky)
        ev = self.decision_of(sneaky)
        self.assertEqual(ev["decision"], "blocked")
        self.barrier()
        self.assertEqual(self.attr(sneaky.syspath, "authorized"), "0")
        self.assertEqual(self.attr(sneaky.interface_path(0), "authorized"), "0")
        self.assertEqual(self.probes(), "1-3:1.1")

    # 6
    def test_06_removal_drops_decision_and_emits_detach(self):
        s = stick()
        kbd = keyboard()
        self.plug(s)
        self.plug(kbd)
        self.start_daemon()
        self.register(s, "USB-JINJI-03")
        self.wait_for(lambda: (self.decision_file(s.name) or {}).get("MODE") == "read-only", "read-only decision")
        self.assertIsNotNone(self.decision_file(kbd.name))

        self.unplug(s)
        ev = self.wait_event("usb.detach", device=s.name)
        self.assertEqual(ev["label"], "USB-JINJI-03")
        self.assertEqual(ev["serial"], "KST-0001")
        self.wait_for(lambda: self.decision_file(s.name) is None, "the decision file of 1-1 to go")
        st = self.barrier()
        self.assertEqual(st["devices"], 1)
        self.assertEqual([d["device"] for d in self.ctl_json("devices")], [kbd.name])
        self.assertIsNotNone(self.decision_file(kbd.name), "other devices keep their decision")

        # The same stick in the same port comes back with a new device number.
        s2 = stick(devnum=9)
        self.plug(s2)
        ev = self.wait_event("usb.decision", device=s.name, trigger="attach")
        self.assertEqual(ev["decision"], "read-only")
        self.assertEqual(len(self.events("usb.attach", device=s.name)), 2)
        self.wait_for(lambda: (self.decision_file(s.name) or {}).get("DEVNUM") == "9", "a fresh decision file")

    # 6a: a removal that was missed: the next device on the port is a new device
    def test_06a_new_devnum_on_a_known_port_is_a_new_attachment(self):
        s = stick()
        self.plug(s)
        self.start_daemon()
        self.register(s, "USB-KEIRI-01")
        self.wait_for(lambda: (self.decision_file(s.name) or {}).get("MODE") == "read-only", "read-only")
        attaches = len(self.events("usb.attach", device=s.name))
        self.tb.set_attribute(s.syspath, "devnum", "77")
        self.tb.uevent(s.syspath, "add")
        self.wait_for(lambda: len(self.events("usb.attach", device=s.name)) == attaches + 1, "a new attach record")
        self.wait_for(lambda: (self.decision_file(s.name) or {}).get("DEVNUM") == "77", "a decision for DEVNUM 77")

    # 6b: regressions from review
    def test_06b_vid_must_be_four_hex_digits(self):
        self.start_daemon()
        for bad in ("0x51", " fff", "+fff", "fffff", "12g4", ""):
            r = self.ctl("media", "add", "--vid", bad, "--pid", "1666", "--serial", "S", "--label", "x")
            self.assertEqual(r.returncode, 1, "vid %r must be refused" % bad)
        self.assertEqual(self.ctl_json("media", "list"), [])

    def test_06c_stale_decision_files_are_cleared_at_start(self):
        os.makedirs(os.path.join(self.rundir, "devices"), exist_ok=True)
        with open(os.path.join(self.rundir, "devices", "3-9"), "w") as f:
            f.write("BUSNUM=3\nDEVNUM=9\nMODE=read-write\nLABEL=gone\n")
        s = stick()
        self.plug(s)
        self.start_daemon()
        self.wait_for(lambda: self.decision_file(s.name) is not None, "the live decision file")
        self.assertIsNone(self.decision_file("3-9"), "a device that is gone has no decision")

    def test_06d_record_follows_the_exception_in_force(self):
        s = stick()
        self.plug(s)
        self.start_daemon()
        self.register(s, "USB-SOUMU-09")
        until = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 3600))
        for reason in ("first", "second"):
            self.ctl_ok("exception", "grant", "USB-SOUMU-09", "--until", until, "--approver", "CISO", "--reason", reason)
        ev = self.wait_event("usb.decision", device=s.name, trigger="exception-granted")
        first = ev["exception"]
        self.ctl_ok("exception", "revoke", first)
        # still writable, now under the other exception: the record must name it
        ev = self.wait_event("usb.decision", device=s.name, trigger="exception-revoked")
        self.assertEqual(ev["decision"], "read-write")
        self.assertNotEqual(ev["exception"], first)

    # 7
    def test_07_hostile_device_strings_are_escaped_and_bounded(self):
        self.start_daemon()
        serial = b"\x01\x1b[2J\x7f\xff\xfe\xc3(" + b"A" * 500
        product = b"Prod\nuct\x1b]0;owned\x07 \\ \"q\" \xc2\x85 \xed\xa0\x80 \xe2\x80"
        manufacturer = "テスト工業".encode()  # valid UTF-8 must survive unchanged
        evil = UsbDevice("1-6", 0x0951, 0x1666, serial, [(0,) + MASS_STORAGE], 10,
                         manufacturer=manufacturer, product=product)
        self.plug(evil)
        ev = self.decision_of(evil)
        self.barrier()
        self.assertIsNone(self.daemon.poll(), "termguardd still runs")
        self.assertEqual(ev["decision"], "blocked")

        # Every line the daemon printed is valid UTF-8, and every line that looks like JSON is.
        for line in self.raw_lines():
            text = line.decode("utf-8")  # raises on raw invalid UTF-8
            self.assertNotRegex(text, r"[\x00-\x1f\x7f]", "raw control byte in daemon output")
            if text.startswith("{"):
                json.loads(text)

        listing = self.device_json(evil.name)
        records = [("usb.attach", self.events("usb.attach", device=evil.name)[0]),
                   ("usb.decision", ev), ("devices --json", listing)]
        for where, rec in records:
            with self.subTest(where=where):
                for field in ("serial", "product", "manufacturer"):
                    v = rec[field]
                    self.assertNotRegex(v, "[\x00-\x1f\x7f-\x9f]", "%s.%s has a control character" % (where, field))
                    self.assertNotIn("\ufffd", v)
                    self.assertLessEqual(len(v.encode()), TG_ESCAPED_MAX, "%s.%s is bounded" % (where, field))
                self.assertTrue(rec["serial"].startswith("\\x01\\x1b[2J\\x7f\\xff\\xfe\\xc3(AAAA"), rec["serial"])
                self.assertTrue(rec["serial"].endswith(ELLIPSIS), "an over-long serial is marked as cut")
                self.assertEqual(rec["product"],
                                 "Prod\\x0auct\\x1b]0;owned\\x07 \\\\ \"q\" \\xc2\\x85 \\xed\\xa0\\x80 \\xe2\\x80")
                self.assertEqual(rec["manufacturer"], "テスト工業")

        # The human-readable listing goes to terminals: no escape sequences may reach them.
        table = self.ctl_ok("devices").stdout
        text = table.decode("utf-8")
        self.assertNotRegex(text, "[\x00-\x09\x0b-\x1f\x7f-\x9f]")
        self.assertIn("1-6", text)
        self.assertIsNone(self.daemon.poll())
        self.assertEqual(self.barrier()["devices"], 1)

    # 8
    def test_08_malformed_descriptors_are_blocked(self):
        kbd_ifaces = [(0,) + HID_KEYBOARD]
        good_cfg = config_descriptor(kbd_ifaces)
        dev = device_descriptor(0x046D, 0xC31C)
        bad_iface = bytearray(good_cfg)
        bad_iface[9] = 200  # interface descriptor claims 200 bytes
        zero_len = bytearray(good_cfg)
        zero_len[18] = 0  # the HID descriptor after the interface has bLength 0
        cases = {
            "truncated device descriptor": dev[:10],
            "truncated config descriptor": dev + good_cfg[:5],
            "wTotalLength beyond the data": dev + config_descriptor(kbd_ifaces, total_length=len(good_cfg) + 64),
            "wTotalLength cuts an interface": dev + good_cfg[:9 + 4],
            "interface length overruns": dev + bytes(bad_iface),
            "zero-length descriptor": dev + bytes(zero_len),
            "no descriptors attribute": None,
        }
        self.start_daemon()
        devices = []
        for n, (what, blob) in enumerate(cases.items()):
            d = UsbDevice("1-%d" % (n + 1), 0x046D, 0xC31C, "MAL-%d" % n, kbd_ifaces, 20 + n, descriptors=blob)
            if blob is None:
                d.descriptors = None
            devices.append((what, d))
            self.plug(d)
        # A well-formed keyboard after them: the daemon is still working.
        ok = keyboard(name="1-9", devnum=40)
        self.plug(ok)
        self.wait_attr(ok.syspath, "authorized", "1")
        self.barrier()
        for what, d in devices:
            with self.subTest(case=what):
                ev = self.events("usb.decision", device=d.name)
                self.assertTrue(ev, "a decision was recorded")
                self.assertEqual(ev[-1]["decision"], "blocked")
                self.assertIn("malformed", ev[-1]["message"])
                self.assertEqual(self.attr(d.syspath, "authorized"), "0")
                self.assertEqual(self.attr(d.interface_path(0), "authorized"), "0")
                listing = self.device_json(d.name)
                self.assertIs(listing["authorized"], False)
                self.assertIn("malformed", listing["reason"])
                self.assertEqual(listing["descriptor_sha256"], "")
        self.assertEqual(self.probes(), "1-9:1.0", "only the well-formed keyboard was probed")
        self.assertIsNone(self.daemon.poll())

    # 9a
    def test_09a_bad_config_at_start_is_refused(self):
        self.write_dropin("10-site.conf", "[USB]\nAllowInterfaceClasses=hid\n")
        bad = self.write_dropin("50-local.conf", "# local additions\n[USB]\nAllowInterfaceClasses=hid mass-storage\n")
        r = subprocess.run([TERMGUARDD, "--config", self.confdir], env=self.daemon_env(),
                           stdin=subprocess.DEVNULL, capture_output=True, timeout=TIMEOUT)
        err = r.stderr.decode("utf-8", "replace")
        self.assertEqual(r.returncode, 1, err)
        self.assertIn("%s:3: USB.AllowInterfaceClasses:" % bad, err)
        self.assertFalse(os.path.exists(self.socket))
        # It refused before touching the USB gate.
        self.assertEqual(self.attr(HUB_PATH, "authorized_default"), "1")

        # An unknown key in the main file names that file and line.
        os.unlink(bad)
        main = self.write_config("[Exceptions]\nMaxDuraton=8h\n")
        r = subprocess.run([TERMGUARDD, "--config", self.confdir], env=self.daemon_env(),
                           stdin=subprocess.DEVNULL, capture_output=True, timeout=TIMEOUT)
        err = r.stderr.decode("utf-8", "replace")
        self.assertEqual(r.returncode, 1, err)
        self.assertIn("%s:5: Exceptions.MaxDuraton:" % main, err)

    # 9b
    def test_09b_bad_config_on_reload_keeps_old_policy(self):
        kbd = keyboard(authorized=True, interfaces_authorized=True)
        self.plug(kbd)
        self.start_daemon()
        self.wait_attr(kbd.syspath, "authorized", "1")
        # Line 2 alone would block keyboards; line 3 is an error, so none of it may apply.
        bad = self.write_dropin("50-local.conf", "[USB]\nAllowInterfaceClasses=printer\nBogusKey=1\n")
        self.daemon.send_signal(signal.SIGHUP)
        ev = self.wait_event("config.reload-failed")
        self.assertIn("%s:3: USB.BogusKey:" % bad, ev["error"])
        st = self.barrier()
        self.assertIsNone(self.daemon.poll())
        self.assertIn("%s:3: USB.BogusKey:" % bad, st["last_reload_error"])
        self.assertEqual(self.attr(kbd.syspath, "authorized"), "1")
        self.assertIs(self.device_json(kbd.name)["authorized"], True)
        # A keyboard plugged after the refused reload is judged by the old policy.
        kbd2 = keyboard(name="1-3", devnum=4)
        self.plug(kbd2)
        self.wait_attr(kbd2.syspath, "authorized", "1")
        self.wait_attr(kbd2.interface_path(0), "authorized", "1")

        # The same file without the error reloads, and the new policy applies to present devices.
        # The runtime directory holds the live socket and decision files: it cannot move.
        os.unlink(bad)
        n_failed = len(self.events("config.reload-failed"))
        self.write_config("RuntimeDirectory=%s/elsewhere\n" % self.tmp)
        self.daemon.send_signal(signal.SIGHUP)
        self.wait_for(lambda: len(self.events("config.reload-failed")) > n_failed, "a refused reload")
        self.assertIn("RuntimeDirectory", self.events("config.reload-failed")[-1]["error"])
        self.assertEqual(self.attr(kbd.syspath, "authorized"), "1")
        self.write_config()

        self.write_dropin("50-local.conf", "[USB]\nAllowInterfaceClasses=printer\n")
        self.daemon.send_signal(signal.SIGHUP)
        self.wait_event("config.reloaded")
        self.wait_attr(kbd.syspath, "authorized", "0")
        self.wait_attr(kbd2.syspath, "authorized", "0")
        self.assertEqual(self.barrier()["last_reload_error"], "")

    # 10
    def test_10_unprivileged_callers_cannot_change_anything(self):
        self.write_config("AdminGroup=staff\n")
        s = stick()
        self.plug(s)
        self.start_daemon()
        self.register(s, "USB-KEIRI-01")
        until = iso_utc(time.time() + 3600)
        grant = self.ctl_json("exception", "grant", "USB-KEIRI-01", "--until", until, "--approver", "kacho",
                              "--reason", "year-end closing")
        exc_id = str(grant["id"])
        self.wait_for(lambda: (self.decision_file(s.name) or {}).get("MODE") == "read-write", "read-write")
        media_before = self.ctl_json("media", "list")
        exc_before = self.ctl_json("exception", "list")
        reg_path = os.path.join(self.statedir, "register.json")
        with open(reg_path, "rb") as f:
            reg_before = hashlib.sha256(f.read()).hexdigest()

        attempts = {
            "media-add": ["media", "add", "--vid", "0951", "--pid", "1666", "--serial", "KST-9999", "--label", "MINE"],
            "media-remove": ["media", "remove", "USB-KEIRI-01"],
            "exception-grant": ["exception", "grant", "USB-KEIRI-01", "--until", until, "--approver", "me",
                                "--reason", "because"],
            "exception-revoke": ["exception", "revoke", exc_id],
        }
        for cmd, args in attempts.items():
            with self.subTest(command=cmd):
                r = self.ctl(*args, uid=NOBODY)
                self.assertEqual(r.returncode, EXIT_DENIED, r.stderr.decode(errors="replace"))
                self.assertIn(b"permission denied", r.stderr)
                self.wait_event("admin.denied", command=cmd, actor="nobody")
        # Reading is allowed to anyone: the refusals above were about privilege.
        st = json.loads(self.ctl("status", "--json", uid=NOBODY).stdout)
        self.assertEqual(st["media_registered"], 1)

        self.assertEqual(self.ctl_json("media", "list"), media_before)
        self.assertEqual(self.ctl_json("exception", "list"), exc_before)
        with open(reg_path, "rb") as f:
            self.assertEqual(hashlib.sha256(f.read()).hexdigest(), reg_before, "register file unchanged")
        self.assertEqual(self.decision_file(s.name)["MODE"], "read-write")

        # A member of AdminGroup is an administrator without being root.
        staff = grp.getgrnam("staff").gr_gid
        r = self.ctl("exception", "revoke", exc_id, uid=NOBODY, groups=[staff])
        self.assertEqual(r.returncode, 0, r.stderr.decode(errors="replace"))
        self.wait_for(lambda: self.decision_file(s.name)["MODE"] == "read-only", "read-only after revoke")
        self.wait_event("exception.revoked", exception=exc_id, actor="nobody")

    # 10b: a user hammering the control socket neither floods the record nor locks out root
    def test_10b_refusal_flood_and_idle_connections(self):
        self.start_daemon()
        for _ in range(60):
            r = self.ctl("media", "remove", "x", uid=65534)
            self.assertEqual(r.returncode, 4)
        denied = self.events("admin.denied", actor="nobody")
        self.assertEqual(len(denied), 1, "one record per user, command and interval")
        held = []
        try:
            for _ in range(40):
                sk = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                pid = os.fork()
                if pid == 0:  # connect as nobody, hand the socket back
                    os.setgid(65534)
                    os.setuid(65534)
                    try:
                        sk.connect(self.socket)
                        os._exit(0)
                    except OSError:
                        os._exit(1)
                os.waitpid(pid, 0)
                held.append(sk)
            # the kernel accepted them; the daemon keeps at most a few per user
            r = self.ctl("status")
            self.assertEqual(r.returncode, 0, "root still gets in: %r" % (r.stderr,))
            self.ctl_ok("media", "add", "--vid", "0951", "--pid", "1666", "--serial", "S1", "--label", "ok")
        finally:
            for sk in held:
                sk.close()

    # 10c: the register's serials would let a user program a clone of a read-write medium
    def test_10c_register_is_for_administrators_only(self):
        s = stick()
        self.plug(s)
        self.start_daemon()
        self.register(s, "USB-KEIRI-01", mode="read-write")
        for args in (("media", "list"), ("exception", "list")):
            r = self.ctl(*args, uid=NOBODY)
            self.assertEqual(r.returncode, EXIT_DENIED, args)
            self.assertNotIn(b"KST-0001", r.stdout)
        r = self.ctl("--json", "devices", uid=NOBODY)
        self.assertEqual(r.returncode, 0)
        devs = json.loads(r.stdout)
        self.assertEqual(devs[0]["serial"], "", "users see the reason, not the serial")
        self.assertNotIn(b"KST-0001", r.stdout)
        self.assertEqual(self.ctl_json("devices")[0]["serial"], "KST-0001", "administrators see it")

    # 10d: records are true: nothing is recorded as done when saving failed, and exceptions
    # ended by removing their medium are on the record
    def test_10d_records_follow_what_was_saved(self):
        s = stick()
        self.plug(s)
        self.start_daemon()
        self.register(s, "USB-KEIRI-01")
        until = iso_utc(time.time() + 3600)
        reg = os.path.join(self.statedir, "register.json")
        # a directory where the daemon writes its temporary file: the save fails (even as root)
        os.mkdir(reg + ".tmp.%d" % self.daemon.pid)
        try:
            r = self.ctl("exception", "grant", "USB-KEIRI-01", "--until", until, "--approver", "k", "--reason", "r")
            self.assertEqual(r.returncode, 1)
            self.assertIn(b"nothing was changed", r.stderr)
            self.barrier()
            self.assertEqual(self.events("exception.granted"), [], "no record of a grant that was not saved")
        finally:
            os.rmdir(reg + ".tmp.%d" % self.daemon.pid)
        grant = self.ctl_json("exception", "grant", "USB-KEIRI-01", "--until", until, "--approver", "k",
                              "--reason", "r")
        self.assertEqual(grant["id"], 1)
        self.ctl_ok("media", "remove", "USB-KEIRI-01")
        ev = self.wait_event("exception.revoked", exception="1")
        self.assertEqual(ev["label"], "USB-KEIRI-01")

    # 10e: every exception that ends with its medium is on the record, however many there are
    # (the daemon once recorded at most 64 of them while saving them all as revoked)
    def test_10e_every_exception_ended_with_its_medium_is_recorded(self):
        now = int(time.time())
        count = 70
        os.makedirs(self.statedir, exist_ok=True)
        reg = {"version": 1,
               "media": [{"label": "USB-KEIRI-01", "vid": 0x0951, "pid": 0x1666, "serial": "KST-0001",
                          "mode": "read-only"}],
               "exceptions": [{"id": i, "label": "USB-KEIRI-01", "until": now + 3600, "approver": "k",
                               "reason": "r", "granted_at": now - 60} for i in range(1, count + 1)]}
        with open(os.path.join(self.statedir, "register.json"), "w") as f:
            json.dump(reg, f)
        os.chmod(os.path.join(self.statedir, "register.json"), 0o600)
        self.start_daemon()
        self.assertEqual(self.barrier()["exceptions_active"], count)
        self.ctl_ok("media", "remove", "USB-KEIRI-01")
        self.barrier()
        revoked = self.events("exception.revoked", label="USB-KEIRI-01")
        self.assertEqual(sorted(int(e["exception"]) for e in revoked), list(range(1, count + 1)))
        self.assertEqual([e["state"] for e in self.ctl_json("exception", "list")], ["revoked"] * count)

    # 10f: tables line up by display width: a Japanese label or department (two columns a
    # character) does not shift the columns after it
    def test_10f_tables_align_japanese_text(self):
        self.start_daemon()
        self.ctl_ok("media", "add", "--vid", "0951", "--pid", "1666", "--serial", "KST-0001", "--label", "総務-01",
                    "--department", "総務課")
        self.ctl_ok("media", "add", "--vid", "0781", "--pid", "5581", "--serial", "SD-0002", "--label",
                    "USB-KEIRI-02", "--department", "経理", "--mode", "read-write")

        def width(text):
            return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)

        lines = self.ctl_ok("media", "list").stdout.decode("utf-8").splitlines()
        self.assertEqual(len(lines), 3, lines)
        self.assertTrue(lines[1].startswith("総務-01 "), lines)
        # each row's cells start at the same display column as the header's
        for header, cells in (("ID", ("0951:1666", "0781:5581")), ("SERIAL", ("KST-0001", "SD-0002")),
                              ("MODE", ("read-only", "read-write")), ("DEPARTMENT", ("総務課", "経理"))):
            at = width(lines[0][:lines[0].index(header)])
            self.assertEqual(width(lines[1][:lines[1].index(cells[0])]), at, (header, lines))
            self.assertEqual(width(lines[2][:lines[2].index(cells[1])]), at, (header, lines))
        self.assertFalse(any(line.endswith(" ") for line in lines), "no trailing blanks")
        # JSON for scripts ends with a newline
        out = self.ctl_ok("media", "list", "--json").stdout
        self.assertTrue(out.endswith(b"\n"))
        self.assertEqual([m["label"] for m in json.loads(out)], ["総務-01", "USB-KEIRI-02"])

    # 11b: setting the clock back must not revive an exception
    def test_11b_clock_set_back_revives_no_exception(self):
        now = int(time.time())
        os.makedirs(self.statedir, exist_ok=True)
        reg = {"version": 1, "clock_high_water": now + 7 * 86400,
               "media": [{"label": "USB-KEIRI-01", "vid": 0x0951, "pid": 0x1666, "serial": "KST-0001",
                          "mode": "read-only"}],
               "exceptions": [{"id": 1, "label": "USB-KEIRI-01", "until": now + 30 * 86400, "approver": "k",
                               "reason": "r", "granted_at": now - 3600}]}
        with open(os.path.join(self.statedir, "register.json"), "w") as f:
            json.dump(reg, f)
        os.chmod(os.path.join(self.statedir, "register.json"), 0o600)
        s = stick()
        self.plug(s)
        self.start_daemon()
        ev = self.decision_of(s)
        self.assertEqual(ev["decision"], "read-only", "the clock is a week behind what termguard saw")
        self.assertEqual(self.decision_file(s.name)["MODE"], "read-only")
        self.wait_event("clock.set-back")

    # 11
    def test_11_exceptions_open_writing_until_revoked_or_expired(self):
        s = stick()
        self.plug(s, with_interfaces=False)
        self.start_daemon()
        self.register(s, "USB-KEIRI-01")
        self.wait_attr(s.syspath, "authorized", "1")
        self.add_interfaces(s)
        self.wait_for(lambda: self.probes() == "1-1:1.0", "first probe")
        self.assertEqual(self.decision_file(s.name)["MODE"], "read-only")

        # Grant: read-write now; the storage interface is cut off and probed again.
        grant = self.ctl_json("exception", "grant", "USB-KEIRI-01", "--until", iso_utc(time.time() + 3600),
                              "--approver", "kacho", "--reason", "year-end closing", "--ticket", "REQ-1")
        exc = str(grant["id"])
        self.wait_for(lambda: self.decision_file(s.name)["MODE"] == "read-write", "read-write")
        ev = self.wait_event("usb.decision", device=s.name, trigger="exception-granted")
        self.assertEqual(ev["decision"], "read-write")
        self.assertEqual(ev["exception"], exc)
        self.wait_event("exception.granted", exception=exc, label="USB-KEIRI-01", approver="kacho")
        self.wait_for(lambda: self.probes() == "1-1:1.0" * 2, "a second probe after the mode change")
        self.assertEqual(self.attr(s.interface_path(0), "authorized"), "1")
        d = self.device_json(s.name)
        self.assertEqual((d["storage"], d["exception"]), ("read-write", int(exc)))

        # Revoke: read-only again.
        self.ctl_ok("exception", "revoke", exc)
        self.wait_for(lambda: self.decision_file(s.name)["MODE"] == "read-only", "read-only after revoke")
        self.wait_event("usb.decision", device=s.name, trigger="exception-revoked", decision="read-only")
        self.wait_for(lambda: self.probes() == "1-1:1.0" * 3, "a probe after the revocation")
        self.assertEqual([e["state"] for e in self.ctl_json("exception", "list")], ["revoked"])

        # Expiry: a short exception ends by itself.
        until = int(time.time()) + 4
        grant = self.ctl_json("exception", "grant", "USB-KEIRI-01", "--until", iso_utc(until),
                              "--approver", "kacho", "--reason", "one file")
        exc2 = str(grant["id"])
        self.assertNotEqual(exc2, exc)
        self.wait_event("usb.decision", device=s.name, trigger="exception-granted", exception=exc2,
                        decision="read-write")
        self.wait_for(lambda: self.decision_file(s.name)["MODE"] == "read-only", "read-only after expiry",
                      timeout=max(TIMEOUT, 15))
        self.assertGreaterEqual(time.time(), until, "not before the expiry time")
        ev = self.wait_event("exception.expired", exception=exc2)
        self.assertEqual(ev["label"], "USB-KEIRI-01")
        self.assertEqual(parse_iso_utc(ev["until"]), until)
        self.wait_event("usb.decision", device=s.name, trigger="exception-expired", decision="read-only")
        self.assertEqual([e["state"] for e in self.ctl_json("exception", "list")], ["revoked", "expired"])
        self.assertEqual(self.device_json(s.name)["exception"], 0)
        self.assertEqual(self.attr(s.interface_path(0), "authorized"), "1")
        self.assertEqual(len(self.events("exception.expired")), 1)

    # 12: devices present before the daemon starts, and a restart with a persisted register.
    def test_12_startup_judges_present_devices_and_register_persists(self):
        # The controller was open before termguardd ran: a stick got in and was configured.
        early = stick(authorized=True, interfaces_authorized=True)
        other = stick(name="1-3", serial="KST-0002", devnum=4)
        kbd = keyboard()
        for d in (early, other, kbd):
            self.plug(d)
        self.start_daemon()
        for d in (early, other, kbd):
            self.assertEqual(self.events("usb.decision", device=d.name)[-1]["trigger"], "startup")
        self.barrier()
        # (Deauthorizing the device is enough: the kernel then unconfigures it and its
        # interfaces go away, which the testbed does not emulate.)
        self.assertEqual(self.attr(early.syspath, "authorized"), "0", "a stick that got in early is cut off")
        self.assertEqual(self.probes(), "1-2:1.0")
        self.assertEqual(self.attr(kbd.syspath, "authorized"), "1")
        self.assertEqual(self.attr(kbd.interface_path(0), "authorized"), "1")

        self.register(other, "USB-SOUMU-02")
        self.wait_attr(other.syspath, "authorized", "1")
        self.stop_daemon()
        self.assertFalse(os.path.exists(self.socket), "the control socket is removed on exit")
        # Storage that lost its daemon stays as it was; a new start judges it from the register.
        self.tb.set_attribute(other.syspath, "authorized", "0\n")
        self.start_daemon()
        self.wait_attr(other.syspath, "authorized", "1")
        self.assertEqual(self.decision_file(other.name)["MODE"], "read-only")
        self.assertEqual(self.decision_file(other.name)["LABEL"], "USB-SOUMU-02")
        self.barrier()
        self.assertEqual(self.attr(early.syspath, "authorized"), "0")
        self.assertEqual(len(self.events("usb.controller-locked", controller="usb1")), 2)


    # ---- the write-ban on block devices (BLKROSET through umockdev's ioctl emulation) ----

    def registered_stick_ready(self, label="USB-KEIRI-01"):
        s = stick()
        self.plug(s, with_interfaces=False)
        self.start_daemon(**getattr(self, "daemon_args", {}))
        self.register(s, label)
        self.wait_attr(s.syspath, "authorized", "1")
        self.add_interfaces(s)
        self.wait_attr(s.interface_path(0), "authorized", "1")
        return s

    # 13
    def test_13_block_devices_of_read_only_media_are_set_read_only(self):
        s = self.registered_stick_ready()
        disk = self.add_block(s, "sdn", 208)
        self.add_block(s, "sdn1", 209, parent=disk)
        self.wait_for(lambda: len(self.blk.blkroset_calls()) >= 2, "BLKROSET on the disk and its partition")
        self.assertEqual(self.blk.blkroset_calls(), [("/dev/sdn", 1), ("/dev/sdn1", 1)])
        ev = self.wait_event("storage.read-only", devnode="/dev/sdn")
        self.assertEqual((ev["device"], ev["label"]), (s.name, "USB-KEIRI-01"))
        self.wait_event("storage.read-only", devnode="/dev/sdn1")
        self.assertEqual(self.attr(s.interface_path(0), "authorized"), "1")

        # Under an exception the medium comes back (re-probed) writable: no BLKROSET.
        self.ctl_json("exception", "grant", "USB-KEIRI-01", "--until", iso_utc(time.time() + 3600),
                      "--approver", "kacho", "--reason", "year-end closing")
        self.wait_for(lambda: self.decision_file(s.name)["MODE"] == "read-write", "read-write")
        self.remove_block(disk + "/sdn1")
        self.remove_block(disk)
        self.add_block(s, "sdo", 224)
        self.barrier()
        self.assertEqual(self.blk.blkroset_calls(), [("/dev/sdn", 1), ("/dev/sdn1", 1)])
        self.assertEqual(self.events("storage.read-only", devnode="/dev/sdo"), [])

    # 13b: drivers bind by more than the declared class (usb-storage's unusual-devices table
    # matches vendor/product only): a disk below an interface admitted as audio is cut off.
    def test_13b_disk_from_an_interface_not_admitted_as_storage_is_cut_off(self):
        dev = UsbDevice("1-3", 0x0D49, 0x7310, b"AUD-1", [(0, 0x01, 0x06, 0x50)], 4,
                        manufacturer=b"Maxtor", product=b"Audio?")
        self.plug(dev, with_interfaces=False)
        self.start_daemon()
        self.wait_attr(dev.syspath, "authorized", "1")  # audio passes by class
        self.add_interfaces(dev)
        self.wait_attr(dev.interface_path(0), "authorized", "1")
        self.add_block(dev, "sdq", 240)
        ev = self.wait_event("storage.unexpected", devnode="/dev/sdq")
        self.assertEqual(ev["interface"], "1-3:1.0")
        self.wait_attr(dev.interface_path(0), "authorized", "0")
        self.assertEqual(self.blk.blkroset_calls(), [], "not made read-only: cut off")

    # 14: fail closed
    def test_14_medium_that_cannot_be_made_read_only_is_cut_off(self):
        s = self.registered_stick_ready()
        self.blk.blkroset_errno = 13  # EACCES
        self.add_block(s, "sdn", 208)
        ev = self.wait_event("storage.error", devnode="/dev/sdn")
        self.assertIn("denied", ev["error"].lower())
        self.wait_attr(s.interface_path(0), "authorized", "0")
        self.assertEqual(self.events("storage.read-only"), [])

    # 15: "Expiring exceptions unmount, then deauthorize."
    def test_15_expiring_exception_unmounts_before_read_only(self):
        mnt = os.path.join(self.tmp, "mnt")
        os.mkdir(mnt)
        self.daemon_args = {"tmpfs_at": mnt}
        s = self.registered_stick_ready()
        pid = self.daemon.pid
        with open("/proc/%d/mountinfo" % pid) as f:
            self.assertIn(" %s " % mnt, f.read(), "the daemon's namespace has the test mount")
        until = int(time.time()) + 6
        self.ctl_json("exception", "grant", "USB-KEIRI-01", "--until", iso_utc(until),
                      "--approver", "kacho", "--reason", "one file")
        self.wait_event("usb.decision", device=s.name, trigger="exception-granted", decision="read-write")
        self.add_block(s, "sdn", 208)
        self.barrier()
        self.assertEqual(self.blk.blkroset_calls(), [], "a writable medium is not set read-only")
        n_probes = self.probes().count("1-1:1.0")
        self.mountinfo = [("8:208", mnt)]  # the user mounted it read-write
        self.write_mountinfo()
        # (The setup above takes well under a second; this only makes a pathologically slow
        # machine fail with a clear message instead of a confusing one.)
        self.assertLess(time.time(), until, "setup outlasted the 6 s exception")

        ev = self.wait_for(lambda: (self.events("storage.unmounted", mountpoint=mnt) or [None])[0],
                           "the read-write mount to be unmounted at expiry", timeout=max(TIMEOUT, 15))
        self.assertEqual((ev["how"], ev["why"]), ("unmounted", "exception-expired"))
        with open("/proc/%d/mountinfo" % pid) as f:
            self.assertNotIn(" %s " % mnt, f.read(), "the filesystem is really unmounted")
        self.wait_event("usb.decision", device=s.name, trigger="exception-expired", decision="read-only")
        kinds = [e["event"] for e in self.events() if e["event"] in ("storage.unmounted", "usb.decision")]
        self.assertEqual(kinds[-2:], ["storage.unmounted", "usb.decision"], "unmounted before the new decision")
        self.wait_for(lambda: self.decision_file(s.name)["MODE"] == "read-only", "read-only")
        # The storage interface was cut off and probed again, so the disk returns read-only.
        self.wait_for(lambda: self.probes().count("1-1:1.0") == n_probes + 1, "a new probe after the expiry")

if __name__ == "__main__":
    unittest.main(verbosity=2)
