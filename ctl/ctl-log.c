/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Which records termguardctl log shows, and how their times read: one filter and one time
 * format for the journal read where it lies (ctl-journal.c) and for the caller's own records
 * termguardd sends (ctl-journal-own.c). Each sees its records through a ctl_log_view.
 */
#define _GNU_SOURCE
#include <fnmatch.h>
#include <inttypes.h>
#include <string.h>

#include "ctl.h"
#include "termguard/macro.h"
#include "termguard/timeutil.h"

bool ctl_log_matches(const ctl_log_view *view, const void *rec, const ctl_log_query *q) {
        int64_t t = view->time(rec);
        char buf[64];
        const char *user;

        if ((q->have_since && t < q->since) || (q->have_until && t >= q->until))
                return false;
        if (q->type && fnmatch(q->type, view->type(rec), 0) != 0)
                return false;
        if (q->device) {
                /* a medium is named by its device, its register label or its serial */
                static const char *const keys[] = {"device", "label", "serial"};
                bool hit = false;
                for (size_t i = 0; i < ELEMENTSOF(keys) && !hit; i++) {
                        const char *v = view->field(rec, keys[i]);
                        hit = v && strcmp(v, q->device) == 0;
                }
                if (!hit)
                        return false;
        }
        if (q->user) {
                user = view->user(rec, buf, sizeof(buf));
                if (!user || strcmp(user, q->user) != 0)
                        return false;
        }
        return true;
}

void ctl_log_time(int64_t usec, char *buf, size_t size) {
        char iso[TG_ISO8601_MAX];
        tg_format_iso8601(usec / 1000000, iso, sizeof(iso));
        /* microseconds before the Z: records of one second stay in order for the reader */
        snprintf(buf, size, "%.19s.%06" PRId64 "Z", iso, usec % 1000000);
}
