/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Preloaded into termguardd by the VM tests (LD_PRELOAD): the seat changes hands at the moment
 * termguardd subscribes to seat changes, just before the subscription is made. A daemon that
 * reads the seat first and subscribes second never learns of that change; one that subscribes
 * first reads the new user.
 *
 * TG_SEAT_SWITCH=FILE: FILE (a complete seat state, as logind writes it) is renamed over
 * /run/systemd/seats/seat0, atomically as logind does, once, at the first subscription.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <systemd/sd-login.h>

int sd_login_monitor_new(const char *category, sd_login_monitor **ret) {
        int (*real)(const char *, sd_login_monitor **) = dlsym(RTLD_NEXT, "sd_login_monitor_new");
        const char *from = getenv("TG_SEAT_SWITCH");

        if (!real)
                return -ENOSYS;
        if (from && *from) {
                if (rename(from, "/run/systemd/seats/seat0") < 0)
                        fprintf(stderr, "seat-switch: rename %s: %s\n", from, strerror(errno));
                else
                        fprintf(stderr, "seat-switch: the seat changed hands as termguardd subscribes\n");
                unsetenv("TG_SEAT_SWITCH");
        }
        return real(category, ret);
}
