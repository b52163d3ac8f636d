/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <sys/types.h>

/* Looks up a group's gid by name, with a buffer that grows for very large groups (directory
 * services list thousands of members). Returns 1 found, 0 no such group, -errno when the
 * lookup failed: a caller deciding about access must treat that as "cannot tell". */
int tg_group_gid(const char *name, gid_t *ret);
