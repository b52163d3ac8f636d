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
 *
 * With --raw, run by the later rule (72-termguard-raw.rules) for the nodes that reach a USB
 * device below its block devices (usbfs, hidraw, SCSI generic, and block devices themselves), it
 * prints TERMGUARD_RAW=1 only where the decision grants them to the seat user: raw access for
 * usbfs and hidraw, read-write storage for sg, sr and sd. The rule strips udev's uaccess tag and
 * makes every other node root's alone. Anything it cannot learn means TERMGUARD_RAW=0.
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
#include <sys/xattr.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libudev.h>

#include "termguard/config.h"
#include "termguard/decision-file.h"
#include "termguard/macro.h"

DEFINE_TRIVIAL_CLEANUP_FUNC(struct udev *, udev_unref)
DEFINE_TRIVIAL_CLEANUP_FUNC(struct udev_device *, udev_device_unref)

#define USAGE "usage: termguard-udev-helper [--config DIR] [--runtime-dir DIR] [--raw] DEVPATH\n"

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

/* Subsystems whose nodes pass the device's data both ways, and what the decision must grant for
 * the seat user to have them. */
typedef enum { GRANT_RAW_ACCESS, GRANT_READ_WRITE } grant;

static const struct {
        const char *subsystem;
        grant needs;
} raw_nodes[] = {
        {"usb", GRANT_RAW_ACCESS},          /* usbfs: control requests even while unauthorized */
        {"hidraw", GRANT_RAW_ACCESS},       /* reports both ways (FIDO, vendor channels) */
        {"scsi_generic", GRANT_READ_WRITE}, /* SG_IO ignores the read-only flag */
        {"block", GRANT_READ_WRITE},        /* sd and sr: SG_IO again */
};

/* True only when the decision for this attachment grants dev's node to the seat user. */
static bool raw_node_granted(struct udev_device *dev, struct udev_device *usb, const char *runtime_dir) {
        const char *subsystem = udev_device_get_subsystem(dev);
        tg_decision_record rec;
        char dir[PATH_MAX];

        if (!usb || !subsystem || !runtime_dir)
                return false;
        if ((size_t) snprintf(dir, sizeof(dir), "%s/devices", runtime_dir) >= sizeof(dir))
                return false;
        if (tg_decision_file_read(dir, udev_device_get_sysname(usb), &rec) < 0)
                return false;
        for (size_t i = 0; i < ELEMENTSOF(raw_nodes); i++) {
                const char *busnum = udev_device_get_sysattr_value(usb, "busnum");
                const char *devnum = udev_device_get_sysattr_value(usb, "devnum");
                if (strcmp(subsystem, raw_nodes[i].subsystem) != 0)
                        continue;
                return raw_nodes[i].needs == GRANT_RAW_ACCESS ? tg_decision_grants_raw_access(&rec, busnum, devnum)
                                                              : tg_decision_grants_read_write(&rec, busnum, devnum);
        }
        return false;
}

/* The USB device dev is or lies below. */
static struct udev_device *usb_device_of(struct udev_device *dev) {
        const char *subsystem = udev_device_get_subsystem(dev);
        const char *devtype = udev_device_get_devtype(dev);

        if (subsystem && devtype && strcmp(subsystem, "usb") == 0 && strcmp(devtype, "usb_device") == 0)
                return dev;
        return udev_device_get_parent_with_subsystem_devtype(dev, "usb", "usb_device");
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
                {"raw", no_argument, NULL, 'R'},
                {},
        };
        const char *config_root = TG_CONFIG_ROOT, *runtime_dir = NULL;
        tg_config cfg;
        char err[512] = "";
        _cleanup_(udev_unrefp) struct udev *udev = NULL;
        _cleanup_(udev_device_unrefp) struct udev_device *dev = NULL;
        struct udev_device *usb;
        const char *node;
        bool rw, raw = false;
        int c, r;

        while ((c = getopt_long(argc, argv, "c:r:R", opts, NULL)) >= 0) {
                switch (c) {
                case 'c': config_root = optarg; break;
                case 'r': runtime_dir = optarg; break;
                case 'R': raw = true; break;
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
        if (raw) {
                bool granted = raw_node_granted(dev, usb_device_of(dev), runtime_dir);
                node = udev_device_get_devnode(dev);
                /* udev may leave a node's mode alone when its rules ask for what they asked
                 * before, while ACL entries logind added at a seat change raised the mask: the
                 * mode is set here, and with it the mask that voids every named entry. */
                if (!granted && node && (chown(node, 0, 0) < 0 || chmod(node, 0600) < 0))
                        fprintf(stderr, "termguard-udev-helper: cannot make %s root's: %m\n", node);
                /* The named entries go too: a later setfacl -m (a seat change) recomputes the
                 * mask from them and would open the node again. */
                if (!granted && node && removexattr(node, "system.posix_acl_access") < 0 && errno != ENODATA &&
                    errno != EOPNOTSUPP)
                        fprintf(stderr, "termguard-udev-helper: cannot drop the ACL of %s: %m\n", node);
                printf("TERMGUARD_RAW=%d\n", granted ? 1 : 0);
                return 0;
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
