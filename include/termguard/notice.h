/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/*
 * What termguardd tells a session helper to show the staff member (a desktop notification),
 * defined once for both ends. After a session-notify request is accepted the daemon keeps the
 * connection and writes one JSON object per line:
 *   {"notice": KIND, "device": TEXT, "label": TEXT, "seconds": N, "until": T, "dropped": N}
 * Only the facts travel; the helper words them in the session's language. Device text is the
 * daemon's escaped form of what the device claims (tg_escape), and the helper checks it again:
 * a notice that does not decode is not shown.
 */

#include <stddef.h>
#include <stdint.h>

#include "termguard/register.h" /* TG_LABEL_MAX */

/* The longest device description in a notice, in bytes (cut at a whole character). */
#define TG_NOTICE_DEVICE_MAX 160
/* The longest notice line, newline included. */
#define TG_NOTICE_LINE_MAX 1024
/* seconds: an idle warning, a logoff or an exception ending is never further away than this. */
#define TG_NOTICE_SECONDS_MAX (INT64_C(7) * 24 * 3600)
/* dropped: notices lost before this one (a helper that did not read); counted up to this. */
#define TG_NOTICE_DROPPED_MAX UINT32_MAX

typedef enum {
        TG_NOTICE_STORAGE_BLOCKED,   /* device: its storage was refused */
        TG_NOTICE_STORAGE_READ_ONLY, /* device, label: admitted read-only */
        TG_NOTICE_EXCEPTION_ENDING,  /* label, seconds left, until (epoch s) */
        TG_NOTICE_IDLE_WARNING,      /* seconds left before the lock */
        TG_NOTICE_LOGOFF_WARNING,    /* the lock was not confirmed: seconds left before the logoff */
        _TG_NOTICE_KIND_MAX,
        _TG_NOTICE_KIND_INVALID = -1,
} tg_notice_kind;

typedef struct {
        tg_notice_kind kind;
        char device[TG_NOTICE_DEVICE_MAX + 1];
        char label[TG_LABEL_MAX + 1];
        int64_t seconds;
        int64_t until;
        uint64_t dropped;
} tg_notice;

const char *tg_notice_kind_to_string(tg_notice_kind k);
tg_notice_kind tg_notice_kind_from_string(const char *s);

/* Fills n->device from an escaped device string (a Device's product_esc or similar) and the
 * vendor and product ids: "PRODUCT (vvvv:pppp)", cut at a whole character. */
void tg_notice_set_device(tg_notice *n, const char *escaped_name, uint16_t vid, uint16_t pid);

/* The notice as one line of JSON with its newline (free() it). -EINVAL when a field the kind
 * needs is missing or out of range, or a text is not escaped. */
int tg_notice_encode(const tg_notice *n, char **ret);
/* One line (without or with its newline). -EBADMSG with the reason in err when it is not a
 * notice: unknown kind, a field of the wrong type or out of range, text too long or not in
 * escaped form, a field the kind needs missing. ret is untouched on failure. */
int tg_notice_decode(const char *buf, size_t len, tg_notice *ret, char *err, size_t err_size);
