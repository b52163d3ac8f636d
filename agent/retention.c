/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Retention of the audit journal: when segments are deleted (lib/journal.c deletes them and
 * writes the journal.pruned record), and how the event loop is kept free while it happens.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <string.h>
#include <sys/eventfd.h>
#include <syslog.h>
#include <time.h>

#include "event.h"
#include "retention.h"
#include "termguard/macro.h"

/* Segments deleted per step. A step holds the journal's lock and the event loop, which a
 * storage decision's record waits for: it costs a directory listing, one record read, the
 * durable journal.pruned record and the directory's fsync, about five flushes whether it
 * deletes one segment or four (bench/journal.sh: 39 ms a step on a disk of 148 flushes/s).
 * More segments are left for the next step, after whatever else the event loop has to do. */
#define PRUNE_STEP_SEGMENTS 4
/* When no segment is known to turn old at a given moment, a forwarded segment can still
 * become prunable unnoticed: the segment being written is closed by the next record after the
 * forwarder marked all of it, and the forwarder may be stopped from then on. Nothing else
 * tells the loop, so a daily re-check covers it (cheap: a directory listing). */
#define RECHECK_USEC (INT64_C(86400) * 1000000)
/* After a failed prune: retried after an hour (or sooner when the forwarded mark moves). */
#define RETRY_USEC (INT64_C(3600) * 1000000)
/* The timer may fire this late: a day-long retention period does not need the second. */
#define TIMER_ACCURACY_USEC (INT64_C(60) * 1000000)

static int64_t realtime_usec(void) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        return (int64_t) ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int64_t max_age_usec(const Manager *m) {
        return m->cfg.journal_max_age > 0 ? m->cfg.journal_max_age * 1000000 : -1;
}

/* Arms the timer at at (µs, CLOCK_REALTIME); 0: off. */
static void arm(Manager *m, int64_t at) {
        sd_event_source *s = m->retention.timer;
        int r;

        m->retention.next_at = at;
        if (!s)
                return;
        if (at == 0) {
                (void) sd_event_source_set_enabled(s, SD_EVENT_OFF);
                return;
        }
        r = sd_event_source_set_time(s, (uint64_t) at);
        if (r >= 0)
                r = sd_event_source_set_enabled(s, SD_EVENT_ONESHOT);
        if (r < 0)
                log_msg(LOG_ERR, "Failed to arm the journal's retention timer: %s", strerror(-r));
}

static void report_error(Manager *m, int error, uint64_t pruned_through) {
        char through[24];

        m->retention.last_error = error;
        if (error == m->retention.reported_error)
                return; /* said once; retried quietly until it works */
        m->retention.reported_error = error;
        snprintf(through, sizeof(through), "%" PRIu64, pruned_through);
        log_msg(LOG_ERR, "Retention could not prune the audit journal: %s (retried in an hour)", strerror(-error));
        (void) event_emit("journal.prune-failed", LOG_ERR,
                          "Retention could not delete old segments of the audit journal", "error", strerror(-error),
                          "pruned_through", through, NULL);
}

static int on_prune(sd_event_source *s _unused_, uint64_t usec _unused_, void *userdata) {
        Manager *m = userdata;
        tg_journal_prune_result res = {0};
        int64_t now = realtime_usec(), max_age = max_age_usec(m);
        int r = event_journal_prune(max_age, PRUNE_STEP_SEGMENTS, &res);

        if (res.deleted > 0)
                m->retention.last_prune_at = now;
        if (r == -ENOKEY) {
                arm(m, 0); /* no journal: nothing to keep or delete; a reload that opens one kicks */
                return 0;
        }
        if (r < 0) {
                report_error(m, r, res.pruned_through);
                arm(m, now + RETRY_USEC);
                return 0;
        }
        m->retention.last_error = m->retention.reported_error = 0;
        if (res.more)
                arm(m, 1); /* at once, after the events that are pending */
        else if (res.next_usec > 0)
                arm(m, res.next_usec);
        else
                arm(m, max_age > 0 ? now + RECHECK_USEC : 0);
        return 0;
}

static int on_pressure(sd_event_source *s _unused_, int fd, uint32_t revents _unused_, void *userdata) {
        eventfd_t n;
        (void) eventfd_read(fd, &n); /* non-blocking; a wake-up only */
        retention_kick(userdata);
        return 0;
}

void retention_kick(Manager *m) {
        arm(m, 1);
}

int retention_start(Manager *m) {
        int fd = event_journal_pressure_fd(), r;

        r = sd_event_add_time(m->event, &m->retention.timer, CLOCK_REALTIME, 1, TIMER_ACCURACY_USEC, on_prune, m);
        if (r < 0)
                return r;
        (void) sd_event_source_set_description(m->retention.timer, "journal-retention");
        if (fd >= 0) {
                r = sd_event_add_io(m->event, &m->retention.pressure, fd, EPOLLIN, on_pressure, m);
                if (r < 0)
                        return r;
        }
        retention_kick(m); /* at start: what became old while the daemon was not running */
        return 0;
}

void retention_stop(Manager *m) {
        m->retention.timer = sd_event_source_disable_unref(m->retention.timer);
        m->retention.pressure = sd_event_source_disable_unref(m->retention.pressure);
}

void retention_status(const Manager *m, retention_info *ret) {
        *ret = (retention_info){
                .max_age = m->cfg.journal_max_age,
                .next_prune_at = m->retention.next_at == 1 ? realtime_usec() : m->retention.next_at,
                .last_prune_at = m->retention.last_prune_at,
                .last_error = m->retention.last_error,
        };
}
