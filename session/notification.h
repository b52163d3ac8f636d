/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include <systemd/sd-bus.h>

#include "termguard/notice.h"

/* The desktop notification of a notice from termguardd, in the session's language (gettext,
 * domain termguard), shown through org.freedesktop.Notifications on the session bus. */

#define NOTIFICATION_SUMMARY_MAX 256
#define NOTIFICATION_BODY_MAX 2048

/* The summary (plain text, as the specification has it) and the body (markup-escaped: some
 * servers read the body as markup). */
void notification_text(const tg_notice *n, char *summary, size_t summary_size, char *body, size_t body_size);

typedef struct {
        sd_bus *bus;          /* NULL: no session bus; nothing is shown */
        char last_error[256]; /* said once until it changes */
} Notifier;

/* Connects to the session bus; without one the helper says so once and shows nothing. */
void notifier_open(Notifier *nf);
void notifier_close(Notifier *nf);
/* Asks the notification server to show n, without waiting for its answer: a server that is
 * missing or slow is said once and never holds up the helper. */
void notifier_show(Notifier *nf, const tg_notice *n);
