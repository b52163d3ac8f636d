/* SPDX-License-Identifier: GPL-2.0-or-later */
/* sysfs attribute reads and writes, shared by the USB gate (event loop) and its workers. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sysfs.h"
#include "termguard/fileio.h"
#include "termguard/macro.h"

int sysfs_write(const char *syspath, const char *attr, const char *value) {
        _cleanup_free_ char *p = NULL;
        _cleanup_close_ int fd = -EBADF;
        size_t len = strlen(value);

        if (asprintf(&p, "%s/%s", syspath, attr) < 0)
                return -ENOMEM;
        fd = open(p, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0)
                return -errno;
        errno = 0;
        if (write(fd, value, len) != (ssize_t) len)
                return errno ? -errno : -EIO;
        return 0;
}

ssize_t sysfs_read(const char *syspath, const char *attr, char *buf, size_t size) {
        _cleanup_free_ char *p = NULL;
        ssize_t total;

        if (asprintf(&p, "%s/%s", syspath, attr) < 0)
                return -ENOMEM;
        total = tg_read_file(p, buf, size - 1);
        if (total < 0)
                return total;
        buf[total] = '\0';
        if (total > 0 && buf[total - 1] == '\n')
                buf[--total] = '\0';
        return total;
}

int sysfs_read_bool(const char *syspath, const char *attr) {
        char buf[8];
        ssize_t n = sysfs_read(syspath, attr, buf, sizeof(buf));
        if (n < 0)
                return (int) n;
        return buf[0] == '1';
}

int sysfs_read_uint(const char *syspath, const char *attr, unsigned *ret) {
        char buf[16], *end;
        ssize_t n = sysfs_read(syspath, attr, buf, sizeof(buf));
        unsigned long v;

        if (n < 0)
                return (int) n;
        if (n == 0 || buf[0] < '0' || buf[0] > '9')
                return -EINVAL;
        errno = 0;
        v = strtoul(buf, &end, 10);
        if (errno != 0 || *end != '\0' || v > UINT_MAX)
                return -EINVAL;
        *ret = (unsigned) v;
        return 0;
}

int sysfs_read_link_name(const char *syspath, const char *attr, char *buf, size_t size) {
        _cleanup_free_ char *p = NULL;
        char target[PATH_MAX];
        ssize_t n;

        if (asprintf(&p, "%s/%s", syspath, attr) < 0)
                return -ENOMEM;
        n = readlink(p, target, sizeof(target) - 1);
        if (n < 0)
                return -errno;
        target[n] = '\0';
        const char *slash = strrchr(target, '/');
        const char *name = slash ? slash + 1 : target;
        if (strlen(name) >= size)
                return -ENAMETOOLONG;
        strcpy(buf, name);
        return 0;
}
