/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * termguard-udev-helper: run by udev (IMPORT{program}) for every block device on USB, before
 * any other listener such as udisks sees it. It reads the decision termguardd recorded for
 * the USB device, and unless that decision is read-write it sets the whole disk read-only
 * (BLKROSET) and tells udisks to mount read-only. If it cannot learn the decision (daemon
 * down, file missing, stale or unreadable), it treats the medium as read-only: fail closed.
 *
 * The decisions are where termguardd writes them: RuntimeDirectory= of the same configuration
 * (termguard.conf and its drop-ins, read with the daemon's own loader). A configuration that
 * does not load leaves the helper without the directory: read-only.
 *
 * Prints udev properties on stdout: TERMGUARD_MODE, UDISKS_MOUNT_OPTIONS_DEFAULTS/ALLOW.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <getopt.h>
#include <linux/fs.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <libudev.h>

#include "termguard/config.h"
#include "termguard/decision-file.h"
#include "termguard/macro.h"

DEFINE_TRIVIAL_CLEANUP_FUNC(struct udev *, udev_unref)
DEFINE_TRIVIAL_CLEANUP_FUNC(struct udev_device *, udev_device_unref)

#define USAGE "usage: termguard-udev-helper [--config DIR] [--runtime-dir DIR] DEVPATH\n"

/* True only when the recorded decision for this exact attachment says read-write. Any file
 * that is missing, unreadable or malformed leaves the medium read-only. */
static bool decision_is_read_write(struct udev_device *usb, const char *runtime_dir) {
        tg_decision_record rec;
        char dir[PATH_MAX];

        if ((size_t) snprintf(dir, sizeof(dir), "%s/devices", runtime_dir) >= sizeof(dir))
                return false;
        if (tg_decision_file_read(dir, udev_device_get_sysname(usb), &rec) < 0)
                return false;
        return tg_decision_grants_read_write(&rec, udev_device_get_sysattr_value(usb, "busnum"),
                                             udev_device_get_sysattr_value(usb, "devnum"));
}

static int set_read_only(const char *node) {
        _cleanup_close_ int fd = open(node, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
        int one = 1;
        if (fd < 0 || ioctl(fd, BLKROSET, &one) < 0)
                return -errno;
        return 0;
}

int main(int argc, char **argv) {
        static const struct option opts[] = {
                {"config", required_argument, NULL, 'c'},
                {"runtime-dir", required_argument, NULL, 'r'},
                {},
        };
        const char *config_root = TG_CONFIG_ROOT, *runtime_dir = NULL;
        tg_config cfg;
        char err[512] = "";
        _cleanup_(udev_unrefp) struct udev *udev = NULL;
        _cleanup_(udev_device_unrefp) struct udev_device *dev = NULL;
        struct udev_device *usb;
        const char *node;
        bool rw;
        int c, r;

        while ((c = getopt_long(argc, argv, "c:r:", opts, NULL)) >= 0) {
                switch (c) {
                case 'c': config_root = optarg; break;
                case 'r': runtime_dir = optarg; break;
                default: fprintf(stderr, USAGE); return 2;
                }
        }
        if (optind != argc - 1) {
                fprintf(stderr, USAGE);
                return 2;
        }
        /* --runtime-dir overrides; otherwise the daemon's own setting. */
        if (!runtime_dir) {
                r = tg_config_load(config_root, &cfg, err, sizeof(err));
                if (r < 0)
                        fprintf(stderr, "termguard-udev-helper: %s; the medium is made read-only\n", err);
                else
                        runtime_dir = cfg.runtime_dir;
        }

        udev = udev_new();
        if (!udev)
                return 1;
        char syspath[4096];
        if (strncmp(argv[optind], "/sys/", 5) == 0)
                snprintf(syspath, sizeof(syspath), "%s", argv[optind]);
        else
                snprintf(syspath, sizeof(syspath), "/sys%s", argv[optind]);
        dev = udev_device_new_from_syspath(udev, syspath);
        if (!dev) {
                fprintf(stderr, "termguard-udev-helper: no such device %s\n", syspath);
                return 1;
        }
        usb = udev_device_get_parent_with_subsystem_devtype(dev, "usb", "usb_device");
        node = udev_device_get_devnode(dev);
        rw = usb && runtime_dir && decision_is_read_write(usb, runtime_dir);

        if (rw) {
                printf("TERMGUARD_MODE=read-write\n");
                return 0;
        }
        r = node ? set_read_only(node) : -ENODEV;
        /* The whole disk covers its partitions on Linux >= 5.12; older kernels need each. */
        if (r == 0 && strcmp(udev_device_get_devtype(dev) ? udev_device_get_devtype(dev) : "", "partition") == 0) {
                struct udev_device *disk = udev_device_get_parent_with_subsystem_devtype(dev, "block", "disk");
                const char *disk_node = disk ? udev_device_get_devnode(disk) : NULL;
                int k = disk_node ? set_read_only(disk_node) : 0;
                /* The partition itself is read-only already: said, not fatal. */
                if (k < 0)
                        fprintf(stderr, "termguard-udev-helper: cannot set %s read-only: %s\n", disk_node,
                                strerror(-k));
        }
        printf("TERMGUARD_MODE=read-only\n");
        printf("UDISKS_MOUNT_OPTIONS_DEFAULTS=ro\n");
        printf("UDISKS_MOUNT_OPTIONS_ALLOW=ro,exec,noexec,nodev,nosuid,atime,noatime,nodiratime,sync,dirsync,noload\n");
        if (r < 0) {
                /* Read-only could not be set: hide the device from udisks altogether. */
                printf("TERMGUARD_READONLY_FAILED=1\nUDISKS_IGNORE=1\n");
                fprintf(stderr, "termguard-udev-helper: cannot set %s read-only: %s\n", node ? node : syspath,
                        strerror(-r));
        }
        return 0;
}
