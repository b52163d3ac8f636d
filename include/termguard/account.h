/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stddef.h>
#include <sys/types.h>

/* Looks up a group's gid by name, with a buffer that grows for very large groups (directory
 * services list thousands of members). Returns 1 found, 0 no such group, -errno when the
 * lookup failed: a caller deciding about access must treat that as "cannot tell". */
int tg_group_gid(const char *name, gid_t *ret);

/* An account as the callers need it. */
#define TG_ACCOUNT_NAME_MAX 255
typedef struct {
        char name[TG_ACCOUNT_NAME_MAX + 1];
        uid_t uid;
        gid_t gid;
} tg_account;

/* Looks up an account by name or by uid in the user database (NSS), with a buffer that grows as
 * the entry needs. Returns 0 and fills ret; -ENOENT when there is no such account; any other
 * -errno when the lookup itself failed (a directory service down, no memory, a name longer than
 * TG_ACCOUNT_NAME_MAX): a caller deciding about access must not take that for "unknown". ret
 * is untouched on failure. */
int tg_account_by_name(const char *name, tg_account *ret);
int tg_account_by_uid(uid_t uid, tg_account *ret);

/* The audit login uid of process pid (0: the caller), from /proc/PID/loginuid: the user who
 * logged in, which su and sudo keep and the process cannot change. Returns 0, -ENODATA when
 * none is set (a process not started from a login), -errno when it cannot be read. ret is
 * untouched on failure. */
int tg_loginuid_read(pid_t pid, uid_t *ret);

/* Who acted, for records: the account name of uid ("uid:N" when the name cannot be looked
 * up); for root, also the login user when loginuid is set (not (uid_t) -1 and not 0), as
 * "root (login tanaka)" or "root (login uid N)", so that "sudo termguardctl" is attributed to
 * the person. Always writes a NUL-terminated string (cut to size). */
void tg_actor_describe(uid_t uid, uid_t loginuid, char *buf, size_t size);

/* The name the system knows an account by. Directory services may match names without regard
 * to case ("TANAKA" finds tanaka): policy and state must use the one name the account has.
 * Copies the account's own name into ret and returns 1; an unknown name is copied as given
 * (0); -errno when the lookup failed or the name does not fit. */
int tg_canonical_user(const char *name, char *ret, size_t size);
