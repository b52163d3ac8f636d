/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Follows the user on seat0 (logind's seat state). Exceptions granted to one user apply only
 * while that user holds the seat, so a change of user re-judges every device at once.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>

#include <systemd/sd-login.h>

#include "event.h"
#include "seat.h"
#include "termguard/account.h"
#include "termguard/macro.h"

const char *seat_user(void) {
        static char name[TG_USER_MAX + 1];
        tg_account a;
        uid_t uid;

        if (sd_seat_get_active("seat0", NULL, &uid) < 0)
                return NULL;
        /* A name that would not fit is never shown cut: the uid stands for it. */
        if (tg_account_by_uid(uid, &a) == 0 && strlen(a.name) < sizeof(name))
                memcpy(name, a.name, strlen(a.name) + 1);
        else
                snprintf(name, sizeof(name), "uid:%u", (unsigned) uid);
        return name;
}

static int seat_changed(sd_event_source *s _unused_, int fd _unused_, uint32_t revents _unused_, void *userdata) {
        Manager *m = userdata;
        const char *user = seat_user();

        (void) sd_login_monitor_flush(m->seat_monitor);
        if (strcmp(user ? user : "", m->seat_user) == 0)
                return 0;
        snprintf(m->seat_user, sizeof(m->seat_user), "%s", user ? user : "");
        event_emit("seat.user-changed", LOG_INFO, user ? "User on the seat changed" : "Nobody on the seat", "user",
                   m->seat_user, NULL);
        m->seat_changed(m, "seat-change");
        return 0;
}

/* Subscribes first, then reads: a change between the two is then either in what is read or
 * reported by the monitor, never lost. */
int seat_start(Manager *m, void (*changed)(Manager *m, const char *trigger)) {
        const char *user;
        int r;

        m->seat_changed = changed;
        r = sd_login_monitor_new("seat", &m->seat_monitor);
        if (r < 0)
                /* No logind state (minimal systems): nobody holds the seat, and per-user
                 * exceptions apply to nobody. */
                log_msg(LOG_INFO, "Not following seat changes (%s); per-user exceptions apply to nobody", strerror(-r));
        else {
                r = sd_event_add_io(m->event, &m->seat_source, sd_login_monitor_get_fd(m->seat_monitor),
                                    (uint32_t) sd_login_monitor_get_events(m->seat_monitor), seat_changed, m);
                if (r < 0) {
                        m->seat_monitor = sd_login_monitor_unref(m->seat_monitor);
                        return r;
                }
        }
        user = seat_user();
        snprintf(m->seat_user, sizeof(m->seat_user), "%s", user ? user : "");
        return 0;
}

void seat_stop(Manager *m) {
        m->seat_source = sd_event_source_unref(m->seat_source);
        m->seat_monitor = sd_login_monitor_unref(m->seat_monitor);
}
