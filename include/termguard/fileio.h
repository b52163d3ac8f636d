/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stddef.h>
#include <sys/types.h>

/* Reads from fd until end of file or until size bytes are read, retrying on EINTR. Returns
 * the number of bytes read or a negative errno. */
ssize_t tg_read_full(int fd, void *buf, size_t size);

/* Opens path read-only without following a final symlink and reads up to size bytes. */
ssize_t tg_read_file(const char *path, void *buf, size_t size);
