/* SPDX-License-Identifier: GPL-2.0-or-later */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/sysmacros.h>
#include <syslog.h>

#include <libmount.h>

#include "daemon.h"
#include "termguard/escape.h"

#define MAX_BLOCK 64

int tg_unmount_below(struct udev *udev, const char *syspath, const char *why) {
        struct udev_enumerate *en = udev_enumerate_new(udev);
        struct udev_list_entry *e;
        dev_t devs[MAX_BLOCK];
        size_t n_devs = 0;
        struct libmnt_table *tb = NULL;
        struct libmnt_iter *it = NULL;
        struct libmnt_fs *fs;
        char *targets[256];
        size_t n_targets = 0;
        int count = 0;

        if (!en)
                return -ENOMEM;
        struct udev_device *parent = udev_device_new_from_syspath(udev, syspath);
        if (!parent) {
                udev_enumerate_unref(en);
                return 0;
        }
        udev_enumerate_add_match_subsystem(en, "block");
        udev_enumerate_add_match_parent(en, parent);
        udev_enumerate_scan_devices(en);
        udev_list_entry_foreach(e, udev_enumerate_get_list_entry(en)) {
                struct udev_device *b = udev_device_new_from_syspath(udev, udev_list_entry_get_name(e));
                if (b && n_devs < MAX_BLOCK && major(udev_device_get_devnum(b)) != 0)
                        devs[n_devs++] = udev_device_get_devnum(b);
                udev_device_unref(b);
        }
        udev_enumerate_unref(en);
        udev_device_unref(parent);
        if (n_devs == 0)
                return 0;

        tb = mnt_new_table_from_file("/proc/self/mountinfo");
        it = mnt_new_iter(MNT_ITER_BACKWARD); /* nested mounts first */
        if (!tb || !it) {
                mnt_unref_table(tb);
                mnt_free_iter(it);
                return -EIO;
        }
        while (mnt_table_next_fs(tb, it, &fs) == 0 && n_targets < 256) {
                dev_t d = mnt_fs_get_devno(fs);
                for (size_t i = 0; i < n_devs; i++)
                        if (d == devs[i] && mnt_fs_get_target(fs))
                                targets[n_targets++] = strdup(mnt_fs_get_target(fs));
        }
        mnt_free_iter(it);
        mnt_unref_table(tb);

        for (size_t i = 0; i < n_targets; i++) {
                char esc[512];
                const char *how = "unmounted";
                if (!targets[i])
                        continue;
                tg_escape(targets[i], strlen(targets[i]), 256, esc, sizeof(esc));
                if (umount2(targets[i], UMOUNT_NOFOLLOW) < 0) {
                        /* Busy: detach it; the device is deauthorized next, so nothing more
                         * reaches the medium through files still open. */
                        if (umount2(targets[i], MNT_DETACH | UMOUNT_NOFOLLOW) < 0) {
                                tg_log(LOG_ERR, "Failed to unmount %s: %s", esc, strerror(errno));
                                free(targets[i]);
                                continue;
                        }
                        how = "detached (busy)";
                }
                count++;
                tg_emit("storage.unmounted", LOG_NOTICE, "Unmounted removable medium", "mountpoint", esc, "how", how,
                        "why", why, NULL);
                free(targets[i]);
        }
        return count;
}
