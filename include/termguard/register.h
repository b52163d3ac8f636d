/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "termguard/timeutil.h" /* the register's times, as callers print and parse them */

/* The media register (管理一覧表) and the exception register, kept in one file so that a
 * change to either is one atomic write. */

#define TG_LABEL_MAX 64
#define TG_SERIAL_MAX 126
#define TG_NAME_MAX 128 /* department, approver, ticket, actor */
#define TG_REASON_MAX 512
#define TG_USER_MAX 32
#define TG_MEDIA_MAX 10000
#define TG_EXCEPTIONS_MAX 10000

typedef enum { TG_MODE_BLOCKED, TG_MODE_READ_ONLY, TG_MODE_READ_WRITE } tg_mode;

const char *tg_mode_to_string(tg_mode m);
int tg_mode_from_string(const char *s, tg_mode *ret);

typedef struct {
        char label[TG_LABEL_MAX + 1];
        uint16_t vid, pid;
        char serial[TG_SERIAL_MAX + 1];
        char department[TG_NAME_MAX + 1];
        tg_mode mode;
        char added_by[TG_NAME_MAX + 1];
        int64_t added_at; /* seconds since the epoch, UTC */
} tg_medium;

typedef struct {
        uint64_t id;
        char label[TG_LABEL_MAX + 1];
        int64_t until;
        char approver[TG_NAME_MAX + 1];
        char reason[TG_REASON_MAX + 1];
        char ticket[TG_NAME_MAX + 1];
        char user[TG_USER_MAX + 1]; /* empty: any user */
        char granted_by[TG_NAME_MAX + 1];
        int64_t granted_at;
        int64_t revoked_at; /* 0: not revoked */
        char revoked_by[TG_NAME_MAX + 1];
} tg_exception;

typedef struct {
        tg_medium *media;
        size_t n_media;
        tg_exception *exceptions;
        size_t n_exceptions;
        uint64_t next_exception_id;
        int64_t expiries_recorded_until; /* exception.expired records exist up to this time */
        int64_t clock_high_water;        /* the latest time termguard has seen */
} tg_register;

/* How far the clock may go back (adjustments, drift) before exceptions stop applying. */
#define TG_CLOCK_TOLERANCE (5 * 60)

/* Raises the high-water mark to now. Returns true if now is behind it by more than the
 * tolerance: the clock was set back. */
bool tg_register_observe_clock(tg_register *reg, int64_t now);

void tg_register_clear(tg_register *reg);
/* Deep copy, so a change can be prepared and thrown away if saving it fails. */
int tg_register_copy(const tg_register *src, tg_register *ret);

/* Loads the register from a JSON file. A missing file is an empty register; a malformed or
 * unreadable one is an error (-EBADMSG, -EACCES...) with a message in err. */
int tg_register_load(const char *path, tg_register *ret, char *err, size_t err_size);
/* Writes atomically (temporary file, fsync, rename, fsync of the directory), mode 0600. */
int tg_register_save(const char *path, const tg_register *reg);

const tg_medium *tg_register_find_label(const tg_register *reg, const char *label);
const tg_medium *tg_register_match(const tg_register *reg, uint16_t vid, uint16_t pid, const char *serial);

/* Validation of admin input; on error returns -EINVAL with the reason in err. */
int tg_register_add_medium(tg_register *reg, const tg_medium *m, char *err, size_t err_size);
int tg_register_remove_medium(tg_register *reg, const char *label);
int tg_register_add_exception(tg_register *reg, const tg_exception *e, int64_t now, int64_t max_duration,
                              uint64_t *ret_id, char *err, size_t err_size);
int tg_register_revoke_exception(tg_register *reg, uint64_t id, const char *by, int64_t now);

typedef enum { TG_EXC_ACTIVE, TG_EXC_EXPIRED, TG_EXC_REVOKED } tg_exception_state;
tg_exception_state tg_exception_state_at(const tg_exception *e, int64_t now);
const char *tg_exception_state_to_string(tg_exception_state s);

/* The active exception for label that applies to user (NULL: nobody on the seat), or NULL.
 * None applies before its grant time, nor while the clock is behind the high-water mark:
 * setting the clock back must not revive an expired exception. */
const tg_exception *tg_register_active_exception(const tg_register *reg, const char *label, const char *user,
                                                 int64_t now);
/* Earliest expiry among active exceptions after now, or 0 if none. */
int64_t tg_register_next_expiry(const tg_register *reg, int64_t now);
