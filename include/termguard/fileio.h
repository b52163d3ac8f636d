/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Reads from fd until end of file or until size bytes are read, retrying on EINTR. Returns
 * the number of bytes read or a negative errno. */
ssize_t tg_read_full(int fd, void *buf, size_t size);

/* Opens path read-only without following a final symlink and reads up to size bytes. */
ssize_t tg_read_file(const char *path, void *buf, size_t size);

/* The start time of process pid (clock ticks since boot, /proc/PID/stat field 22): with the
 * pid, it names one process, where a pid alone can be reused while a question about it is
 * on its way (to logind). -errno, or -EBADMSG when the file is not understood. */
int tg_proc_start_time(pid_t pid, uint64_t *ret);

/* Replaces the file name in the directory dirfd (AT_FDCWD: name is a path, relative to the
 * working directory) with len bytes of data, atomically: a temporary file beside it (created
 * exclusively, never through a symlink), owner and group as given, mode, every byte written,
 * fsync, rename over name, fsync of the directory. Readers see the old file or the new one,
 * never a part, and after a crash the same holds. On failure the old file is left as it was
 * and no temporary file remains.
 * A file size limit the caller inherited must not decide which records fit: where the limit
 * can be lifted it is, for the write; where it cannot (no CAP_SYS_RESOURCE), the write fails
 * with -EFBIG and SIGXFSZ neither kills nor stays pending for the caller (a PAM application).
 * Returns 0 or a negative errno. */
int tg_write_file_atomic(int dirfd, const char *name, const void *data, size_t len, uid_t owner, gid_t group,
                         mode_t mode);

/* Opens STATE_DIR/NAME, a directory of root:root with mode 0700, creating it (root:root 0700
 * whatever the caller's umask and group) when create. STATE_DIR and every directory above it
 * must be root's and writable by root only, and no symbolic link is followed on the way:
 * nothing below a directory another user can write is opened as root. Returns the directory's
 * fd or a negative errno with the reason in err. */
int tg_open_root_only_dir(const char *state_dir, const char *name, bool create, char *err, size_t err_size);
