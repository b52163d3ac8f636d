/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Unmounting removable media. libmount (with libblkid, libselinux and libpcre2 behind it) is
 * about 0.6 MiB of resident memory, needed only at the rare moment a medium must be unmounted,
 * so it is loaded then and unloaded afterwards. If it cannot be loaded the caller still cuts
 * the device off: mounts left behind return EIO.
 *
 * The unit gives termguardd a mount namespace of its own (read-only system, no /home, private
 * /tmp), where the users' mounts show up but unmounting them would reach only this copy. So
 * the unit hands over the host's namespace (termguardd --pass-host-namespace) and the thread
 * that unmounts enters it for the unmount alone, then returns. A mount namespace is a
 * per-thread attribute, but setns() refuses a thread sharing its root and working directory
 * with others: that thread first takes a copy of its own (unshare(CLONE_FS)).
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <fcntl.h>
#include <sched.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <syslog.h>
#include <unistd.h>

#include <libmount.h>
#include <linux/nsfs.h>

#include "cleanup.h"
#include "event.h"
#include "mounts.h"
#include "termguard/escape.h"

#define MAX_BLOCK 64
#define MAX_TARGETS 256

/* The host's mount namespace and termguardd's own; -1: termguardd runs in the host's. Set
 * once before the USB workers start, read-only afterwards. */
static int host_ns_fd = -1;
static int own_ns_fd = -1;

static bool same_file(int a, int b) {
        struct stat sa, sb;

        return fstat(a, &sa) == 0 && fstat(b, &sb) == 0 && sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

int mounts_set_host_namespace(int fd) {
        _cleanup_close_ int own = -1;
        int type;

        type = ioctl(fd, NS_GET_NSTYPE);
        if (type < 0)
                return -errno;
        if (type != CLONE_NEWNS)
                return -EINVAL;
        own = open("/proc/self/ns/mnt", O_RDONLY | O_CLOEXEC);
        if (own < 0)
                return -errno;
        if (same_file(fd, own)) {
                /* A unit without a mount namespace: nothing to enter. */
                close(fd);
                return 0;
        }
        host_ns_fd = fd;
        own_ns_fd = own;
        own = -1;
        return 0;
}

/* Enters the host's mount namespace, where the users' mounts are, for this thread alone. */
static int enter_host_namespace(void) {
        if (unshare(CLONE_FS) < 0 || setns(host_ns_fd, CLONE_NEWNS) < 0)
                return -errno;
        return 0;
}

static void leave_host_namespace(void) {
        /* A thread left in the host's namespace would see and write everything the unit hides
         * from termguardd: stop, and let the service manager start a confined one. */
        if (setns(own_ns_fd, CLONE_NEWNS) < 0) {
                log_msg(LOG_CRIT, "Failed to return to termguardd's mount namespace: %s", strerror(errno));
                abort();
        }
}

typedef struct {
        void *dl;
        struct libmnt_table *(*new_table_from_file)(const char *);
        struct libmnt_iter *(*new_iter)(int);
        int (*table_next_fs)(struct libmnt_table *, struct libmnt_iter *, struct libmnt_fs **);
        dev_t (*fs_get_devno)(struct libmnt_fs *);
        const char *(*fs_get_target)(struct libmnt_fs *);
        void (*free_iter)(struct libmnt_iter *);
        void (*unref_table)(struct libmnt_table *);
} libmount_api;

static int libmount_open(libmount_api *a) {
        *a = (libmount_api){.dl = dlopen("libmount.so.1", RTLD_NOW | RTLD_LOCAL)};
        if (!a->dl)
                return -ENOENT;
        if (!(a->new_table_from_file = (__typeof__(a->new_table_from_file)) dlsym(a->dl, "mnt_new_table_from_file")) ||
            !(a->new_iter = (__typeof__(a->new_iter)) dlsym(a->dl, "mnt_new_iter")) ||
            !(a->table_next_fs = (__typeof__(a->table_next_fs)) dlsym(a->dl, "mnt_table_next_fs")) ||
            !(a->fs_get_devno = (__typeof__(a->fs_get_devno)) dlsym(a->dl, "mnt_fs_get_devno")) ||
            !(a->fs_get_target = (__typeof__(a->fs_get_target)) dlsym(a->dl, "mnt_fs_get_target")) ||
            !(a->free_iter = (__typeof__(a->free_iter)) dlsym(a->dl, "mnt_free_iter")) ||
            !(a->unref_table = (__typeof__(a->unref_table)) dlsym(a->dl, "mnt_unref_table"))) {
                dlclose(a->dl);
                a->dl = NULL;
                return -ENOSYS;
        }
        return 0;
}

static bool dev_listed(const dev_t *devs, size_t n_devs, dev_t d) {
        for (size_t i = 0; i < n_devs; i++)
                if (devs[i] == d)
                        return true;
        return false;
}

/* Unmounts target; a busy one is detached. Failures are logged here. */
static int unmount_target(const char *target, const char *why) {
        char esc[512];
        const char *how = "unmounted";

        tg_escape(target, strlen(target), 256, esc, sizeof(esc));
        if (umount2(target, UMOUNT_NOFOLLOW) < 0) {
                /* Busy: detach it; the device is deauthorized next, so nothing more reaches
                 * the medium through files still open. */
                if (umount2(target, MNT_DETACH | UMOUNT_NOFOLLOW) < 0) {
                        int r = -errno;
                        log_msg(LOG_ERR, "Failed to unmount %s: %s", esc, strerror(-r));
                        return r;
                }
                how = "detached (busy)";
        }
        event_emit("storage.unmounted", LOG_NOTICE, "Unmounted removable medium", "mountpoint", esc, "how", how, "why",
                   why, NULL);
        return 0;
}

/* Unmounts the filesystems on any of devs, nested ones first (the mount table read backwards),
 * straight from libmount's copy of the table: nothing to copy out, nothing to free. Returns
 * how many were unmounted, or the first error after trying them all. */
static int unmount_on(const dev_t *devs, size_t n_devs, const char *why) {
        libmount_api a;
        struct libmnt_table *tb;
        struct libmnt_iter *it;
        struct libmnt_fs *fs;
        int seen = 0, count = 0, failed = 0, r;

        r = libmount_open(&a);
        if (r < 0) {
                log_msg(LOG_ERR, "Cannot load libmount.so.1 to find mounts: %s", dlerror());
                return r;
        }
        if (host_ns_fd >= 0) {
                r = enter_host_namespace();
                if (r < 0) {
                        log_msg(LOG_ERR, "Failed to enter the host's mount namespace to unmount: %s", strerror(-r));
                        dlclose(a.dl);
                        return r;
                }
        }
        /* /proc/self shows the main thread's mounts, which need not be this thread's. */
        tb = a.new_table_from_file(host_ns_fd >= 0 ? "/proc/thread-self/mountinfo" : "/proc/self/mountinfo");
        it = a.new_iter(MNT_ITER_BACKWARD);
        if (tb && it)
                while (a.table_next_fs(tb, it, &fs) == 0 && seen < MAX_TARGETS) {
                        const char *target = a.fs_get_target(fs);
                        if (!target || !dev_listed(devs, n_devs, a.fs_get_devno(fs)))
                                continue;
                        seen++;
                        r = unmount_target(target, why);
                        if (r >= 0)
                                count++;
                        else if (failed == 0)
                                failed = r;
                }
        else
                count = -EIO;
        if (it)
                a.free_iter(it);
        if (tb)
                a.unref_table(tb);
        if (host_ns_fd >= 0)
                leave_host_namespace();
        dlclose(a.dl);
        return failed < 0 && count >= 0 ? failed : count;
}

int mounts_unmount_below(struct udev *udev, const char *syspath, const char *why) {
        _cleanup_udev_enumerate_ struct udev_enumerate *en = NULL;
        _cleanup_udev_device_ struct udev_device *parent = NULL;
        struct udev_list_entry *e;
        dev_t devs[MAX_BLOCK];
        size_t n_devs = 0;

        en = udev_enumerate_new(udev);
        if (!en)
                return -ENOMEM;
        parent = udev_device_new_from_syspath(udev, syspath);
        if (!parent)
                return 0; /* gone: nothing mounted from it remains reachable */
        udev_enumerate_add_match_subsystem(en, "block");
        udev_enumerate_add_match_parent(en, parent);
        udev_enumerate_scan_devices(en);
        udev_list_entry_foreach(e, udev_enumerate_get_list_entry(en)) {
                _cleanup_udev_device_ struct udev_device *b =
                        udev_device_new_from_syspath(udev, udev_list_entry_get_name(e));
                if (b && n_devs < MAX_BLOCK && major(udev_device_get_devnum(b)) != 0)
                        devs[n_devs++] = udev_device_get_devnum(b);
        }
        if (n_devs == 0)
                return 0;
        return unmount_on(devs, n_devs, why);
}
