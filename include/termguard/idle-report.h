/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/*
 * When the session helper (termguard-session) measures input idle time and when it reports it
 * to termguardd: pure functions of what it reported last, the idle time just measured and a
 * monotonic time handed in (µs), so the unit tests drive them with made-up times.
 *
 * The helper reports when the session's state changes (input after an idle spell: at once, so
 * a lock countdown or a logoff grace learns of it; the start of an idle spell) and otherwise
 * once per interval, which termguardd names in its reply. It reports while the user works, too:
 * termguardd must tell a helper that is silent because nothing changed from one that was
 * killed, and a helper that reports nothing while the user types would have the daemon count
 * the lock from its last report. One report per interval (a quarter of the lock time, at most
 * a minute) is the price; the daemon hears nothing else.
 *
 * Measuring is local (one X request) and sparse: while the user works the helper sleeps until
 * the idle spell could begin or a report is due; only while idle does it look every second,
 * because only looking tells it that input came.
 */

#include <stdbool.h>
#include <stdint.h>

/* Until termguardd has named an interval (its first reply): the first report is retried this often. */
#define TG_IDLE_REPORT_RETRY_USEC (UINT64_C(10) * 1000000)
/* How often the helper looks while the session is idle. */
#define TG_IDLE_REPORT_POLL_USEC (UINT64_C(1) * 1000000)

typedef struct {
        bool reported;     /* a report was accepted */
        bool idle;         /* the state the last report gave */
        uint64_t last;     /* when the last report was sent (accepted or not); 0: never */
        uint64_t interval; /* from termguardd; 0 until it answered */
} tg_idle_reporter;

/* Idle means no input for at least one interval: shorter pauses are reported with the next
 * periodic report anyway. */
bool tg_idle_report_is_idle(const tg_idle_reporter *r, uint64_t idle_ms);

/* Is a report due at now, with idle_ms of input idle time just measured? */
bool tg_idle_report_due(const tg_idle_reporter *r, uint64_t idle_ms, uint64_t now);

/* A report was sent at now with idle_ms; accepted: termguardd answered with interval (µs). */
void tg_idle_report_sent(tg_idle_reporter *r, uint64_t idle_ms, uint64_t now, bool accepted, uint64_t interval);

/* How long to sleep before measuring again (µs, at least 1 ms). */
uint64_t tg_idle_report_sleep(const tg_idle_reporter *r, uint64_t idle_ms, uint64_t now);
