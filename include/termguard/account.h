/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stddef.h>
#include <sys/types.h>

/* Looks up a group's gid by name, with a buffer that grows for very large groups (directory
 * services list thousands of members). Returns 1 found, 0 no such group, -errno when the
 * lookup failed: a caller deciding about access must treat that as "cannot tell". */
int tg_group_gid(const char *name, gid_t *ret);

/* The name the system knows an account by. Directory services may match names without regard
 * to case ("TANAKA" finds tanaka): policy and state must use the one name the account has.
 * Copies the account's own name into ret and returns 1; an unknown name is copied as given
 * (0); -errno when the lookup failed or the name does not fit. */
int tg_canonical_user(const char *name, char *ret, size_t size);
