/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "termguard/fileio.h"
#include "termguard/macro.h"

ssize_t tg_read_full(int fd, void *buf, size_t size) {
        size_t total = 0;

        while (total < size) {
                ssize_t n = read(fd, (char *) buf + total, size - total);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return -errno;
                if (n == 0)
                        break;
                total += (size_t) n;
        }
        return (ssize_t) total;
}

ssize_t tg_read_file(const char *path, void *buf, size_t size) {
        /* Non-blocking open and regular files only: a FIFO or device named here must not
         * hang the reader (a login, for the banner). */
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
        struct stat st;
        if (fd < 0)
                return -errno;
        if (fstat(fd, &st) < 0)
                return -errno;
        if (!S_ISREG(st.st_mode))
                return -EINVAL;
        return tg_read_full(fd, buf, size);
}
