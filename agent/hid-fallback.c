/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * termguard-hid-fallback: the degraded mode, started by termguardd.service's OnFailure= when
 * termguardd cannot start. With usbcore.authorized_default=0 the kernel authorizes no USB
 * device until termguardd does, keyboards included: a terminal whose agent does not start
 * would be left without the keyboard needed to log in and repair it.
 *
 * It admits, once, the USB devices present now that are nothing but HID boot keyboards and mice
 * (tg_usb_is_boot_hid: every interface class 03, subclass 01, protocol 1 or 2) and nothing
 * else: storage, hubs, composite devices and whatever is plugged in later stay blocked until
 * termguardd runs. It keeps no state and follows no events. Every device it admits or leaves
 * blocked is recorded (journal, stable MESSAGE_IDs, as termguardd's own records).
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <syslog.h>
#include <unistd.h>

#include "cleanup.h"
#include "daemon.h"
#include "event.h"
#include "sysfs.h"
#include "termguard/config.h"
#include "termguard/escape.h"
#include "termguard/fileio.h"
#include "termguard/macro.h"
#include "termguard/usbdesc.h"

#define USB_DEVICES "/sys/bus/usb/devices"
#define STRING_MAX 255

/* A device string (untrusted), escaped and bounded for the record. */
static void read_escaped(const char *syspath, const char *attr, char *ret, size_t size) {
        char buf[STRING_MAX * 4 + 1];
        ssize_t n = sysfs_read(syspath, attr, buf, sizeof(buf));
        tg_escape(buf, n > 0 ? (size_t) n : 0, STRING_MAX, ret, size);
}

/* Authorizes the interfaces of the device named name below syspath and has their drivers
 * probed (a termguardd that ran before may have left interface_authorized_default=0). */
static int admit_interfaces(const char *syspath, const char *name) {
        _cleanup_closedir_ DIR *dir = opendir(syspath);
        size_t len = strlen(name);
        struct dirent *e;
        int ret = 0;

        if (!dir)
                return -errno;
        while ((e = readdir(dir))) {
                char intf[PATH_MAX + 256];
                int r;
                if (strncmp(e->d_name, name, len) != 0 || e->d_name[len] != ':')
                        continue;
                if ((size_t) snprintf(intf, sizeof(intf), "%s/%s", syspath, e->d_name) >= sizeof(intf))
                        continue;
                if (sysfs_read_bool(intf, "authorized") != 0)
                        continue;
                r = sysfs_write(intf, "authorized", "1");
                if (r >= 0)
                        r = sysfs_write("/sys/bus/usb", "drivers_probe", e->d_name);
                if (r < 0)
                        ret = r;
        }
        return ret;
}

/* Judges one device; returns 1 when admitted, 0 when left as it is, or -errno. */
static int judge(const char *name) {
        _cleanup_free_ uint8_t *raw = malloc(TG_USB_DESCRIPTORS_MAX + 1);
        char syspath[PATH_MAX], path[PATH_MAX + 16], vid[8] = "", pid[8] = "", err[64] = "";
        char serial[TG_ESCAPED_MAX], product[TG_ESCAPED_MAX];
        tg_usb_descriptors d;
        bool parsed, hid;
        ssize_t n;
        int r;

        if (!raw)
                return -ENOMEM;
        snprintf(syspath, sizeof(syspath), "%s/%s", USB_DEVICES, name);
        if (sysfs_read_bool(syspath, "authorized") != 0)
                return 0; /* authorized already (or gone): not ours to change */
        snprintf(path, sizeof(path), "%s/descriptors", syspath);
        n = tg_read_file(path, raw, TG_USB_DESCRIPTORS_MAX + 1);
        parsed = n > 0 && tg_usb_parse_descriptors(raw, (size_t) n, &d) == 0;
        hid = parsed && tg_usb_is_boot_hid(&d);
        if (parsed) {
                snprintf(vid, sizeof(vid), "%04x", d.vid);
                snprintf(pid, sizeof(pid), "%04x", d.pid);
        }
        read_escaped(syspath, "serial", serial, sizeof(serial));
        read_escaped(syspath, "product", product, sizeof(product));
        if (!hid) {
                event_emit("fallback.blocked", LOG_NOTICE, "Degraded mode: not a keyboard or mouse; stays blocked",
                           "device", name, "vid", vid, "pid", pid, "serial", serial, "product", product, NULL);
                return 0;
        }
        r = sysfs_write(syspath, "authorized", "1");
        if (r >= 0)
                r = admit_interfaces(syspath, name);
        if (r < 0)
                snprintf(err, sizeof(err), "%s", strerror(-r));
        event_emit("fallback.hid-admitted", r < 0 ? LOG_ERR : LOG_WARNING,
                   r < 0 ? "Degraded mode: admitting a keyboard or mouse failed"
                         : "Degraded mode: keyboard or mouse admitted",
                   "device", name, "vid", vid, "pid", pid, "serial", serial, "product", product, "error",
                   err[0] ? err : NULL, NULL);
        return r < 0 ? r : 1;
}

/* True when termguardd answers on its control socket: it judges every device itself, and the
 * degraded mode must not admit what it left blocked. The socket is where the configuration
 * puts it, or where it is by default when the configuration does not load (why termguardd
 * failed, perhaps). */
static bool termguardd_running(void) {
        struct sockaddr_un sa = {.sun_family = AF_UNIX};
        _cleanup_close_ int fd = -EBADF;
        char err[256];
        tg_config cfg;

        if (tg_config_load(TG_CONFIG_ROOT, &cfg, err, sizeof(err)) < 0)
                tg_config_default(&cfg);
        if ((size_t) snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/control.socket", cfg.runtime_dir) >=
            sizeof(sa.sun_path))
                return false;
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        return fd >= 0 && connect(fd, (struct sockaddr *) &sa, sizeof(sa)) == 0;
}

/* A USB device's name: "B-P[.P...]" (not a root hub "usbN", not an interface "...:C.I"). */
static bool is_device_name(const char *s) {
        return s[0] >= '1' && s[0] <= '9' && strchr(s, '-') && !strchr(s, ':');
}

int main(int argc, char **argv _unused_) {
        _cleanup_closedir_ DIR *dir = NULL;
        struct dirent *e;
        unsigned admitted = 0, failed = 0;
        char count[16];

        if (argc != 1) {
                fprintf(stderr, "usage: termguard-hid-fallback\n");
                return EXIT_FAILURE;
        }
        if (termguardd_running()) {
                log_msg(LOG_NOTICE, "termguardd is running: it judges the devices; degraded mode not needed");
                return EXIT_SUCCESS;
        }
        event_emit("fallback.started", LOG_WARNING,
                   "termguardd is not running: degraded mode admits only the USB keyboards and mice present", NULL);
        dir = opendir(USB_DEVICES);
        if (!dir) {
                log_msg(LOG_ERR, "Failed to read %s: %m", USB_DEVICES);
                return EXIT_FAILURE;
        }
        while ((e = readdir(dir))) {
                if (!is_device_name(e->d_name))
                        continue;
                int r = judge(e->d_name);
                if (r > 0)
                        admitted++;
                else if (r < 0)
                        failed++;
        }
        snprintf(count, sizeof(count), "%u", admitted);
        event_emit("fallback.done", LOG_NOTICE, "Degraded mode: keyboards and mice present admitted", "admitted", count,
                   NULL);
        return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
