/* SPDX-License-Identifier: GPL-2.0-or-later */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
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

static int write_full(int fd, const void *data, size_t len) {
        size_t off = 0;

        while (off < len) {
                ssize_t k = write(fd, (const char *) data + off, len - off);
                if (k < 0 && errno == EINTR)
                        continue;
                if (k < 0)
                        return -errno;
                off += (size_t) k;
        }
        return 0;
}

/* Writes with SIGXFSZ held back: over a file size limit, write() then fails with EFBIG instead
 * of the signal's default action killing the caller. A SIGXFSZ this write raised is taken
 * back; one that was already pending is left for the caller. */
static int write_full_no_sigxfsz(int fd, const void *data, size_t len) {
        sigset_t xfsz, saved, pending;
        bool was_pending;
        int r;

        sigemptyset(&xfsz);
        sigaddset(&xfsz, SIGXFSZ);
        if (pthread_sigmask(SIG_BLOCK, &xfsz, &saved) != 0)
                return -EINVAL;
        was_pending = sigpending(&pending) == 0 && sigismember(&pending, SIGXFSZ) == 1;
        r = write_full(fd, data, len);
        if (!was_pending && sigpending(&pending) == 0 && sigismember(&pending, SIGXFSZ) == 1)
                (void) sigtimedwait(&xfsz, NULL, &(struct timespec){0, 0});
        (void) pthread_sigmask(SIG_SETMASK, &saved, NULL);
        return r;
}

static int write_unlimited(int fd, const void *data, size_t len) {
        struct rlimit fsize, unlimited = {RLIM_INFINITY, RLIM_INFINITY};
        bool lifted = getrlimit(RLIMIT_FSIZE, &fsize) == 0 && fsize.rlim_cur != RLIM_INFINITY &&
                      setrlimit(RLIMIT_FSIZE, &unlimited) == 0;
        int r = write_full_no_sigxfsz(fd, data, len);

        if (lifted)
                (void) setrlimit(RLIMIT_FSIZE, &fsize);
        return r;
}

/* Makes a rename in the directory that holds name durable. */
static void sync_parent(int dirfd, const char *name) {
        char buf[PATH_MAX];

        if (dirfd != AT_FDCWD) {
                (void) fsync(dirfd);
                return;
        }
        if (snprintf(buf, sizeof(buf), "%s", name) >= (int) sizeof(buf))
                return;
        _cleanup_close_ int fd = open(dirname(buf), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd >= 0)
                (void) fsync(fd);
}

int tg_write_file_atomic(int dirfd, const char *name, const void *data, size_t len, uid_t owner, gid_t group,
                         mode_t mode) {
        char tmp[PATH_MAX];
        const char *base;
        int r = 0;

        assert_return(name && *name && (data || len == 0), -EINVAL);
        /* The temporary file is a dot file beside the target, named after it: one writer per
         * file at a time (callers hold their lock), so a leftover of a crash is replaced. */
        base = strrchr(name, '/');
        if (snprintf(tmp, sizeof(tmp), "%.*s.%s.tmp", base ? (int) (base - name + 1) : 0, name,
                     base ? base + 1 : name) >= (int) sizeof(tmp))
                return -ENAMETOOLONG;
        (void) unlinkat(dirfd, tmp, 0);
        _cleanup_close_ int fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode & 07777);
        if (fd < 0)
                return -errno;
        if (fchown(fd, owner, group) < 0 || fchmod(fd, mode & 07777) < 0)
                r = -errno;
        if (r == 0)
                r = write_unlimited(fd, data, len);
        if (r == 0 && fsync(fd) < 0)
                r = -errno;
        if (r == 0 && renameat(dirfd, tmp, dirfd, name) < 0)
                r = -errno;
        if (r < 0) {
                (void) unlinkat(dirfd, tmp, 0);
                return r;
        }
        /* The new file is in place either way: a directory that cannot be synced makes the
         * rename less durable after a crash, it does not undo it, so it is not reported as a
         * failed write (the caller would believe the old content still stands). */
        sync_parent(dirfd, name);
        return 0;
}

/* Opens path (O_PATH) one component at a time from /, following no symbolic link, each
 * directory on the way owned by root and writable by nobody else: whoever can write a
 * directory can rename what lies in it and put a tree of their own in its place, so the state
 * directory is only as safe as every directory above it. Strict: a sticky /tmp is refused too
 * (what it protects depends on who owns each entry in it). Holding each
 * directory open while the next is opened in it, what was checked is what is used. */
static int open_root_only_path(const char *path, char *err, size_t err_size) {
        _cleanup_close_ int fd = -EBADF;
        size_t checked = 1; /* the part of path opened so far: "/" at first */
        struct stat st;

        if (path[0] != '/') {
                snprintf(err, err_size, "%s: not an absolute path", path);
                return -EINVAL;
        }
        fd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0) {
                int r = -errno;
                snprintf(err, err_size, "/: %s", strerror(-r));
                return r;
        }
        for (;;) {
                if (fstat(fd, &st) < 0 || !S_ISDIR(st.st_mode) || st.st_uid != 0 || (st.st_mode & 022)) {
                        snprintf(err, err_size,
                                 "%.*s: must be a directory owned by root and writable by root only (as must every "
                                 "directory above the state directory)",
                                 (int) checked, path);
                        return -EPERM;
                }
                const char *p = path + checked;
                p += strspn(p, "/");
                if (!*p)
                        return TAKE_FD(fd);
                size_t k = strcspn(p, "/");
                char name[NAME_MAX + 1];
                if (k > NAME_MAX) {
                        snprintf(err, err_size, "%s: %s", path, strerror(ENAMETOOLONG));
                        return -ENAMETOOLONG;
                }
                memcpy(name, p, k);
                name[k] = '\0';
                checked = (size_t) (p - path) + k;
                int next = openat(fd, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (next < 0) {
                        int r = -errno;
                        if (fstatat(fd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode)) {
                                snprintf(err, err_size,
                                         "%.*s: is a symbolic link; name the state directory by its real path",
                                         (int) checked, path);
                                return -EPERM;
                        }
                        snprintf(err, err_size, "%.*s: %s", (int) checked, path, strerror(-r));
                        return r;
                }
                close(fd);
                fd = next;
        }
}

int tg_open_root_only_dir(const char *state_dir, const char *name, bool create, char *err, size_t err_size) {
        _cleanup_close_ int parent = -1;
        struct stat st;
        int fd;

        /* The state directory and every directory above it must be root's alone: nothing below
         * a directory another user can write is opened as root. */
        parent = open_root_only_path(state_dir, err, err_size);
        if (parent < 0)
                return parent;
        if (create && mkdirat(parent, name, 0700) == 0) {
                /* root:root 0700 whatever the caller's group (su keeps the user's) and umask,
                 * set by name: a new file descriptor may be refused (RLIMIT_NOFILE is the
                 * caller's), and the directory must not stay behind with the caller's group.
                 * Nobody else can replace the name: the parent is root's alone. If this fails,
                 * the directory goes again. */
                if (fchownat(parent, name, 0, 0, AT_SYMLINK_NOFOLLOW) < 0 || fchmodat(parent, name, 0700, 0) < 0) {
                        int r = -errno;
                        snprintf(err, err_size, "%s/%s: cannot set owner and mode: %s", state_dir, name,
                                 strerror(errno));
                        (void) unlinkat(parent, name, AT_REMOVEDIR);
                        return r;
                }
        } else if (create && errno != EEXIST) {
                int r = -errno;
                snprintf(err, err_size, "%s/%s: cannot create: %s", state_dir, name, strerror(errno));
                return r;
        }
        fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0) {
                int r = -errno;
                snprintf(err, err_size, "%s/%s: %s", state_dir, name, strerror(errno));
                return r;
        }
        if (fstat(fd, &st) < 0 || !S_ISDIR(st.st_mode) || st.st_uid != 0 || st.st_gid != 0 ||
            (st.st_mode & 07777) != 0700) {
                snprintf(err, err_size, "%s/%s: must be a directory owned by root:root with mode 0700", state_dir,
                         name);
                close(fd);
                return -EPERM;
        }
        return fd;
}

int tg_proc_start_time(pid_t pid, uint64_t *ret) {
        char path[64], buf[1024];
        const char *p;
        unsigned long long v;
        ssize_t n;

        snprintf(path, sizeof(path), "/proc/%d/stat", (int) pid);
        n = tg_read_file(path, buf, sizeof(buf) - 1);
        if (n < 0)
                return (int) n;
        buf[n] = '\0';
        /* the name in parentheses may hold anything, ")" and spaces included: count after the last ")" */
        p = strrchr(buf, ')');
        if (!p ||
            sscanf(p + 1, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %*u %*u %*d %*d %*d %*d %*d %*d %llu", &v) != 1)
                return -EBADMSG;
        *ret = v;
        return 0;
}
