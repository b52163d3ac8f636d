/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Desktop notifications of termguardd's notices (session/notification.h). The daemon sends
 * facts; the words are here, translated like every message termguard shows to staff. Device
 * text arrives in tg_escape's form (checked again by tg_notice_decode) and is escaped once more
 * for the body's markup, so a device that calls itself "<b>…</b>" is shown as it is named.
 */
#define _GNU_SOURCE
#include <inttypes.h>
#include <libintl.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "notification.h"
#include "termguard/escape.h"
#include "termguard/macro.h"

#define _(s) gettext(s)

#define NOTIFY_NAME "org.freedesktop.Notifications"
#define NOTIFY_PATH "/org/freedesktop/Notifications"
#define APP_NAME "termguard"
/* The specification's urgency hint. */
#define URGENCY_NORMAL 1
#define URGENCY_CRITICAL 2

static void local_clock(int64_t t, char *buf, size_t size) {
        time_t sec = (time_t) t;
        struct tm tm;
        if (!localtime_r(&sec, &tm) || strftime(buf, size, "%H:%M", &tm) == 0)
                snprintf(buf, size, "?");
}

void notification_text(const tg_notice *n, char *summary, size_t summary_size, char *body, size_t body_size) {
        char text[NOTIFICATION_BODY_MAX], clock[16];
        long minutes;
        size_t len;

        switch (n->kind) {
        case TG_NOTICE_STORAGE_BLOCKED:
                snprintf(summary, summary_size, "%s", _("USB storage blocked"));
                snprintf(text, sizeof(text),
                         _("%s is not registered for use on this terminal and cannot be used.\n"
                           "To use it, ask your administrator to register it."),
                         n->device);
                break;
        case TG_NOTICE_STORAGE_READ_ONLY:
                snprintf(summary, summary_size, "%s", _("USB storage is read-only"));
                if (n->label[0])
                        snprintf(text, sizeof(text),
                                 _("%s (registered as %s) is read-only: files can be read from it but not written.\n"
                                   "Writing to it needs an exception approved by an administrator."),
                                 n->device, n->label);
                else
                        snprintf(text, sizeof(text),
                                 _("%s is read-only: files can be read from it but not written.\n"
                                   "Writing to it needs an exception approved by an administrator."),
                                 n->device);
                break;
        case TG_NOTICE_EXCEPTION_ENDING:
                snprintf(summary, summary_size, "%s", _("Write permission ends soon"));
                local_clock(n->until, clock, sizeof(clock));
                minutes = (long) ((n->seconds + 59) / 60);
                snprintf(text, sizeof(text),
                         ngettext("Writing to %s is allowed until %s (%ld minute from now).\n"
                                  "Finish writing and remove the medium safely before then.",
                                  "Writing to %s is allowed until %s (%ld minutes from now).\n"
                                  "Finish writing and remove the medium safely before then.",
                                  (unsigned long) minutes),
                         n->label, clock, minutes);
                break;
        case TG_NOTICE_IDLE_WARNING:
                snprintf(summary, summary_size, "%s", _("This session will be locked soon"));
                snprintf(text, sizeof(text),
                         ngettext("No input for a while: this session will be locked in %ld second.\n"
                                  "Move the mouse or press a key to keep working.",
                                  "No input for a while: this session will be locked in %ld seconds.\n"
                                  "Move the mouse or press a key to keep working.",
                                  (unsigned long) n->seconds),
                         (long) n->seconds);
                break;
        case TG_NOTICE_LOGOFF_WARNING:
                snprintf(summary, summary_size, "%s", _("This session will be logged off"));
                snprintf(text, sizeof(text),
                         ngettext("This session could not be locked: it will be logged off in %ld second.\n"
                                  "Save your work now. Using the session keeps it open.",
                                  "This session could not be locked: it will be logged off in %ld seconds.\n"
                                  "Save your work now. Using the session keeps it open.",
                                  (unsigned long) n->seconds),
                         (long) n->seconds);
                break;
        default:
                snprintf(summary, summary_size, "termguard");
                text[0] = '\0';
                break;
        }
        len = strlen(text);
        if (n->dropped && len < sizeof(text))
                snprintf(text + len, sizeof(text) - len,
                         ngettext("\n(%" PRIu64 " earlier notice could not be shown.)",
                                  "\n(%" PRIu64 " earlier notices could not be shown.)", (unsigned long) n->dropped),
                         n->dropped);
        tg_escape_markup(text, body, body_size);
}

static void say_once(Notifier *nf, const char *text) {
        if (strcmp(nf->last_error, text) == 0)
                return;
        snprintf(nf->last_error, sizeof(nf->last_error), "%s", text);
        if (text[0])
                fprintf(stderr, "termguard-session: %s\n", text);
}

void notifier_open(Notifier *nf) {
        int r = sd_bus_open_user(&nf->bus);
        char text[256];

        if (r < 0) {
                nf->bus = NULL;
                snprintf(text, sizeof(text), "no session bus (%s): notifications are not shown", strerror(-r));
                say_once(nf, text);
        }
}

void notifier_close(Notifier *nf) {
        nf->bus = sd_bus_flush_close_unref(nf->bus);
}

static int on_shown(sd_bus_message *reply, void *userdata, sd_bus_error *ret_error _unused_) {
        Notifier *nf = userdata;
        const sd_bus_error *e = sd_bus_message_get_error(reply);
        char text[256];

        if (!e) {
                say_once(nf, "");
                return 0;
        }
        if (sd_bus_error_has_names(e, SD_BUS_ERROR_SERVICE_UNKNOWN, SD_BUS_ERROR_NAME_HAS_NO_OWNER))
                snprintf(text, sizeof(text), "no notification server on the session bus: notifications are not shown");
        else
                snprintf(text, sizeof(text), "the notification server refused a notification: %s",
                         e->message ? e->message : e->name);
        say_once(nf, text);
        return 0;
}

void notifier_show(Notifier *nf, const tg_notice *n) {
        char summary[NOTIFICATION_SUMMARY_MAX], body[NOTIFICATION_BODY_MAX], text[256];
        uint8_t urgency = n->kind == TG_NOTICE_IDLE_WARNING || n->kind == TG_NOTICE_LOGOFF_WARNING ? URGENCY_CRITICAL
                                                                                                   : URGENCY_NORMAL;
        int r;

        if (!nf->bus)
                return;
        notification_text(n, summary, sizeof(summary), body, sizeof(body));
        r = sd_bus_call_method_async(nf->bus, NULL, NOTIFY_NAME, NOTIFY_PATH, NOTIFY_NAME, "Notify", on_shown, nf,
                                     "susssasa{sv}i", APP_NAME, (uint32_t) 0, "dialog-warning", summary, body, 0, 1,
                                     "urgency", "y", urgency, (int32_t) -1);
        if (r < 0) {
                snprintf(text, sizeof(text), "cannot send a notification: %s", strerror(-r));
                say_once(nf, text);
        }
}
