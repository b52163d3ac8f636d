# SPDX-License-Identifier: GPL-2.0-or-later
"""The testbed of the idle lock's integration tests (test_idle_lock.py): a real dbus-daemon on a
private system bus, python3-dbusmock's logind template on it, and the real termguardd (on the
umockdev testbed of gate_testbed.py, so that USB tokens can be plugged and pulled).

What is real: termguardd, sd-bus, the D-Bus daemon and its signal routing, termguardctl.
What is simulated: logind, by dbusmock. Its Session.Lock and Terminate only record the call
(dbusmock's call log): the tests play the screen locker by setting LockedHint, and check the
call log for what termguardd asked.

The bus socket is at <test dir>/bus/system_bus_socket, the address gate_testbed.py gives the
daemon (DBUS_SYSTEM_BUS_ADDRESS), so a test can start the daemon before the bus exists.
"""

import os
import select
import socket
import struct
import subprocess
import threading
import time

import dbus

from gate_testbed import GateTestCase, TIMEOUT

LOGIND = "org.freedesktop.login1"
LOGIND_PATH = "/org/freedesktop/login1"
MANAGER_IFACE = "org.freedesktop.login1.Manager"
SESSION_IFACE = "org.freedesktop.login1.Session"
MOCK_IFACE = "org.freedesktop.DBus.Mock"
USEC = 1000000

BUS_CONFIG = """<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <listen>unix:path=%s</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="*"/>
    <allow own="*"/>
    <allow send_destination="*"/>
    <allow receive_sender="*"/>
  </policy>
</busconfig>
"""


def now_usec():
    return int(time.time() * USEC)


class IdleTestCase(GateTestCase):
    """GateTestCase plus a private system bus and dbusmock's logind."""

    def setUp(self):
        super().setUp()
        self.bus_proc = None
        self.mock_proc = None
        self.bus = None
        os.makedirs(os.path.dirname(self.bus_socket), exist_ok=True)
        self.addCleanup(self.stop_bus)

    def idle_config(self, **keys):
        """[IdleLock] keys for write_config (short times for tests)."""
        lines = "".join("%s=%s\n" % kv for kv in keys.items())
        return "[IdleLock]\n" + lines

    def helper_env(self):
        env = dict(os.environ)
        env.pop("LD_PRELOAD", None)  # bus and mock are not part of the USB testbed
        env["DBUS_SYSTEM_BUS_ADDRESS"] = "unix:path=" + self.bus_socket
        return env

    def start_bus(self):
        conf = os.path.join(self.tmp, "bus.conf")
        with open(conf, "w") as f:
            f.write(BUS_CONFIG % self.bus_socket)
        self.bus_proc = subprocess.Popen(["dbus-daemon", "--config-file=" + conf, "--nofork", "--nopidfile",
                                          "--print-address=1"],
                                         env=self.helper_env(), stdin=subprocess.DEVNULL,
                                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        # The address is printed once the bus listens.
        ready, _, _ = select.select([self.bus_proc.stdout], [], [], TIMEOUT)
        self.assertTrue(ready and self.bus_proc.stdout.readline(), "dbus-daemon did not start")
        self.bus = dbus.bus.BusConnection("unix:path=" + self.bus_socket)

    def start_logind(self):
        self.mock_log = open(os.path.join(self.tmp, "logind-mock.log"), "wb")
        self.mock_proc = subprocess.Popen(["/usr/bin/python3", "-m", "dbusmock", "--system", "--template", "logind"],
                                          env=self.helper_env(), stdin=subprocess.DEVNULL,
                                          stdout=self.mock_log, stderr=subprocess.STDOUT)
        self.wait_for(lambda: self.bus.name_has_owner(LOGIND), "the mock logind on the bus", alive=False)
        self.logind = self.bus.get_object(LOGIND, LOGIND_PATH)

    def stop_logind(self):
        if self.mock_proc is not None:
            self.mock_proc.terminate()
            self.mock_proc.wait(timeout=TIMEOUT)
            self.mock_proc = None
            self.mock_log.close()

    def stop_bus(self):
        self.stop_logind()
        if self.bus is not None:
            self.bus.close()
            self.bus = None
        if self.bus_proc is not None:
            self.bus_proc.terminate()
            self.bus_proc.wait(timeout=TIMEOUT)
            self.bus_proc.stdout.close()
            self.bus_proc = None

    def start_all(self, config):
        self.write_config(config)
        self.start_bus()
        self.start_logind()
        self.start_daemon()
        self.wait_event("idle.attached")

    # ---- sessions ----

    def add_session(self, sid, uid=0, user="root", type_="x11", tty="", idle_since=None, announce=True, seat="seat0"):
        """A user session; with idle_since (µs) it is idle since then. announce: logind's
        SessionNew signal (dbusmock's AddSession sends none)."""
        path = self.logind.AddSession(sid, seat, dbus.UInt32(uid), user, True, dbus_interface=MOCK_IFACE)
        props = {"Type": type_, "TTY": tty}
        if idle_since is not None:
            props.update(IdleHint=True, IdleSinceHint=dbus.UInt64(idle_since))
        self.session(sid).UpdateProperties(SESSION_IFACE, props, dbus_interface=MOCK_IFACE)
        if announce:
            self.logind.EmitSignal(MANAGER_IFACE, "SessionNew", "so", [sid, path], dbus_interface=MOCK_IFACE)
        return path

    def remove_session(self, sid):
        path = LOGIND_PATH + "/session/" + sid
        self.logind.RemoveObject(path, dbus_interface=MOCK_IFACE)
        self.logind.EmitSignal(MANAGER_IFACE, "SessionRemoved", "so", [sid, path], dbus_interface=MOCK_IFACE)

    def session(self, sid):
        return self.bus.get_object(LOGIND, LOGIND_PATH + "/session/" + sid)

    def set_props(self, sid, **props):
        conv = {k: dbus.UInt64(v) if k == "IdleSinceHint" else v for k, v in props.items()}
        self.session(sid).UpdateProperties(SESSION_IFACE, conv, dbus_interface=MOCK_IFACE)

    def calls(self, sid, method):
        return [c for c in self.session(sid).GetMethodCalls(method, dbus_interface=MOCK_IFACE)]

    def wait_call(self, sid, method, n=1):
        return self.wait_for(lambda: len(self.calls(sid, method)) >= n and self.calls(sid, method),
                             "%s call %d on session %s" % (method, n, sid))

    def session_status(self, sid, **kw):
        for s in self.ctl_json("status", **kw)["sessions"]:
            if s["session"] == sid:
                return s
        return None


VPCD_PORT = 0x8C7B  # vsmartcard's vpcd driver (/etc/reader.conf.d/vpcd)
# pcscd's configuration of vpcd's reader; the name is the reader's as pcscd shows it, less " 00 00".
VPCD_READER_CONF = """FRIENDLYNAME "%s"
DEVICENAME   /dev/null:0x8C7B
LIBPATH      /usr/lib/pcsc/drivers/serial/libifdvpcd.so
CHANNELID    0x8C7B
"""


class VirtualCard:
    """An IC card in vsmartcard's virtual reader ("Virtual PCD"): present while connected to
    the vpcd driver in pcscd, pulled by closing the connection. Answers vpcd's power and ATR
    requests and every APDU with 90 00, from a thread."""

    ATR = bytes.fromhex("3B8880010000000000000000")

    def __init__(self):
        self.sock = None
        self.thread = None

    def insert(self):
        try:
            self.sock = socket.create_connection(("127.0.0.1", VPCD_PORT), timeout=1)
        except OSError:
            return False  # vpcd does not listen yet
        self.sock.settimeout(None)
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()
        return True

    def recv(self, n):
        data = b""
        while len(data) < n:
            chunk = self.sock.recv(n - len(data))
            if not chunk:
                raise EOFError
            data += chunk
        return data

    def serve(self):
        try:
            while True:
                (n,) = struct.unpack(">H", self.recv(2))
                data = self.recv(n)
                if n == 1 and data[0] == 4:  # get ATR
                    self.sock.sendall(struct.pack(">H", len(self.ATR)) + self.ATR)
                elif n > 1:
                    self.sock.sendall(struct.pack(">H", 2) + b"\x90\x00")
        except (EOFError, OSError):
            pass

    def pull(self):
        self.sock.shutdown(socket.SHUT_RDWR)
        self.sock.close()
        self.thread.join(timeout=TIMEOUT)
