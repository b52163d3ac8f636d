/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stddef.h>
#include <sys/types.h>

/* sysfs attribute I/O. Writes may block as long as the kernel works for them (a device's
 * enumeration, a driver's probe): from the event loop, only reads and instant writes. */
int sysfs_write(const char *syspath, const char *attr, const char *value);
/* Reads into buf (at most size-1 bytes, trailing newline removed); the length or -errno. */
ssize_t sysfs_read(const char *syspath, const char *attr, char *buf, size_t size);
/* 1 or 0, or -errno. */
int sysfs_read_bool(const char *syspath, const char *attr);
/* A decimal attribute (e.g. a USB device's "devnum"); 0 or -errno (-EINVAL: not a number). */
int sysfs_read_uint(const char *syspath, const char *attr, unsigned *ret);
/* The last component of the symbolic link attr (e.g. "driver": the driver's name) into buf;
 * 0 or -errno (-ENOENT: no link). */
int sysfs_read_link_name(const char *syspath, const char *attr, char *buf, size_t size);
