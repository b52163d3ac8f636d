/* SPDX-License-Identifier: GPL-2.0-or-later */
/* When the session helper measures and reports input idle time (include/termguard/idle-report.h). */
#include "termguard/idle-report.h"

#define SLEEP_MIN_USEC UINT64_C(1000)

static uint64_t interval_of(const tg_idle_reporter *r) {
        return r->reported && r->interval ? r->interval : TG_IDLE_REPORT_RETRY_USEC;
}

static uint64_t usec_of(uint64_t ms) {
        return ms > UINT64_MAX / 1000 ? UINT64_MAX : ms * 1000;
}

bool tg_idle_report_is_idle(const tg_idle_reporter *r, uint64_t idle_ms) {
        return usec_of(idle_ms) >= interval_of(r);
}

bool tg_idle_report_due(const tg_idle_reporter *r, uint64_t idle_ms, uint64_t now) {
        if (!r->last)
                return true;
        if (r->reported && tg_idle_report_is_idle(r, idle_ms) != r->idle)
                return true;
        return now >= r->last + interval_of(r);
}

void tg_idle_report_sent(tg_idle_reporter *r, uint64_t idle_ms, uint64_t now, bool accepted, uint64_t interval) {
        r->last = now;
        if (!accepted)
                return;
        r->reported = true;
        r->interval = interval;
        r->idle = tg_idle_report_is_idle(r, idle_ms);
}

uint64_t tg_idle_report_sleep(const tg_idle_reporter *r, uint64_t idle_ms, uint64_t now) {
        uint64_t iv = interval_of(r), idle = usec_of(idle_ms), next;

        next = r->last ? r->last + iv : now; /* the periodic report, or the retry */
        if (!r->reported) {
                /* nothing to compare with until termguardd answered */
        } else if (!r->idle) {
                /* working: nothing can change before the idle spell could begin */
                uint64_t spell = idle < iv ? now + (iv - idle) : now;
                if (spell < next)
                        next = spell;
        } else if (now + TG_IDLE_REPORT_POLL_USEC < next)
                next = now + TG_IDLE_REPORT_POLL_USEC; /* idle: only looking shows input */
        return next > now + SLEEP_MIN_USEC ? next - now : SLEEP_MIN_USEC;
}
