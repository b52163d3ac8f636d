# SPDX-License-Identifier: GPL-2.0-or-later
"""The testbed shared by the device-integration tests of termguardd's USB gate (test_gate_*.py):
GateTestCase, USB descriptor builders, UsbDevice and the BLKROSET handler.

What is real here: the built termguardd and termguardctl, libudev (enumeration and the "kernel"
uevent monitor), the daemon's sysfs reads and writes, its control socket, its config and
register files. What is emulated: the kernel's sysfs and uevents, by umockdev. The daemon runs
with the umockdev preload library, so its /sys is the testbed built here and the uevents sent
with Testbed.uevent() reach its netlink monitor.

The test process itself must run with the preload too (umockdev's add_device() and uevent()
resolve /sys paths through it): run the tests with run.sh, which uses umockdev-wrapper.

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
import json
import os
import shutil
import signal
import struct
import subprocess
import tempfile
import threading
import time
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


def check_prerequisites():
    """Raises, naming everything missing, unless the tests can run here."""
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

    @classmethod
    def setUpClass(cls):
        check_prerequisites()

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="tg-it-")
        os.chmod(self.tmp, 0o755)  # the unprivileged caller must reach the control socket
        self.confdir = os.path.join(self.tmp, "conf")
        self.statedir = os.path.join(self.tmp, "state")
        self.rundir = os.path.join(self.tmp, "run")
        self.socket = os.path.join(self.rundir, "control.socket")
        self.errlog = os.path.join(self.tmp, "termguardd.stderr")
        self.bus_socket = os.path.join(self.tmp, "bus", "system_bus_socket")
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
        # Never the machine's own system bus: a socket in the test's directory, where no bus
        # runs unless the test starts one (idle_testbed.py).
        env["DBUS_SYSTEM_BUS_ADDRESS"] = "unix:path=" + self.bus_socket
        for k in ("JOURNAL_STREAM", "NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID", "TERMGUARD_SOCKET"):
            env.pop(k, None)
        return env

    # A test of a terminal whose audit journal was never created sets this to False.
    init_journal_at_start = True

    def init_journal_once(self):
        """Creates the audit journal as an administrator does before the first start
        (termguardctl journal init, the seed written for escrow): without it termguardd keeps
        storage blocked. Nothing when it exists already."""
        if os.path.exists(os.path.join(self.statedir, "journal")):
            return
        os.makedirs(self.statedir, mode=0o700, exist_ok=True)
        self.journal_seed = os.path.join(self.tmp, "journal-seed")
        r = subprocess.run([TERMGUARDCTL, "--config", self.confdir, "journal", "init", "--seed-out",
                            self.journal_seed], capture_output=True, text=True, timeout=TIMEOUT,
                           env={k: v for k, v in os.environ.items() if k != "LD_PRELOAD"})
        self.assertEqual(r.returncode, 0, "journal init: " + r.stdout + r.stderr)

    def start_daemon(self, tmpfs_at=(), prelude=""):
        """Starts termguardd, its audit journal created first (init_journal_at_start).
        tmpfs_at: directories; if any, it runs in a private mount
        namespace with a tmpfs mounted on each, made first where missing (filesystems it may
        unmount without touching the host's mounts). prelude: shell commands run there first, without the preload (a
        service the daemon talks to, such as pcscd)."""
        self.assertIsNone(self.daemon, "daemon already running")
        if self.init_journal_at_start:
            self.init_journal_once()
        n_started = len(self.events("daemon.started"))
        cmd = [TERMGUARDD, "--config", self.confdir]
        if tmpfs_at:
            # mount(8) runs without the preload; termguardd (same PID, via exec) with it.
            cmd = ["unshare", "--mount", "--propagation", "private", "env", "-u", "LD_PRELOAD", "sh", "-c",
                   'while [ "$1" != -- ]; do mkdir -p "$1" && mount -t tmpfs tg-it "$1" || exit; shift; done; shift; '
                   + prelude + ' exec env LD_PRELOAD="$0" "$@"',
                   os.environ["LD_PRELOAD"]] + list(tmpfs_at) + ["--"] + cmd
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
                continue  # test_hostile_device_strings_are_escaped_and_bounded checks there are none
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

    def grant_expiring(self, label, seconds):
        """Grants an exception on the medium `label` that expires in `seconds` (whole seconds,
        as the register keeps them); returns its id and expiry time. termguardd refuses an
        expiry time that has passed when the request reaches it: on a machine that slow, the
        grant is asked for again for twice as long, so that a test checks the expiry, not the
        machine's speed."""
        for _ in range(4):
            until = int(time.time()) + seconds
            r = self.ctl("exception", "grant", label, "--until", iso_utc(until), "--approver", "kacho",
                         "--reason", "one file", "--json")
            if r.returncode == 0:
                return str(json.loads(r.stdout)["id"]), until
            self.assertIn(b"in the past", r.stderr, "termguardctl exception grant failed\n" + self.log_tail())
            seconds *= 2
        self.fail("even a %d s exception expired before termguardd got the request" % (seconds // 2))

    def register(self, dev, label, mode=None):
        args = ["media", "add", "--vid", "%04x" % dev.vid, "--pid", "%04x" % dev.pid,
                "--serial", dev.serial.decode(), "--label", label]
        if mode:
            args += ["--mode", mode]
        return self.ctl_ok(*args)
