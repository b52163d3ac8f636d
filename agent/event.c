/* SPDX-License-Identifier: GPL-2.0-or-later */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <sys/uio.h>

#include <json-c/json.h>
#include <systemd/sd-journal.h>

#include "cleanup.h"
#include "event.h"
#include "termguard/macro.h"

/* Stable ids so operators can filter the journal for termguard events. */
static const struct {
        const char *type, *id;
} message_ids[] = {
        {"usb.attach", "7c1b9a8c4f2e4d0fa1a1e3b0b0a10001"},
        {"usb.decision", "7c1b9a8c4f2e4d0fa1a1e3b0b0a10002"},
        {"usb.detach", "7c1b9a8c4f2e4d0fa1a1e3b0b0a10003"},
        {"usb.controller-locked", "7c1b9a8c4f2e4d0fa1a1e3b0b0a10004"},
        {"storage.read-only", "7c1b9a8c4f2e4d0fa1a1e3b0b0a10005"},
        {"storage.unmounted", "7c1b9a8c4f2e4d0fa1a1e3b0b0a10006"},
        {"register.media-added", "7c1b9a8c4f2e4d0fa1a1e3b0b0a10007"},
        {"register.media-removed", "7c1b9a8c4f2e4d0fa1a1e3b0b0a10008"},
        {"exception.granted", "7c1b9a8c4f2e4d0fa1a1e3b0b0a10009"},
        {"exception.revoked", "7c1b9a8c4f2e4d0fa1a1e3b0b0a1000a"},
        {"exception.expired", "7c1b9a8c4f2e4d0fa1a1e3b0b0a1000b"},
        {"admin.denied", "7c1b9a8c4f2e4d0fa1a1e3b0b0a1000c"},
        {"daemon.started", "7c1b9a8c4f2e4d0fa1a1e3b0b0a1000d"},
        {"daemon.stopping", "7c1b9a8c4f2e4d0fa1a1e3b0b0a1000e"},
        {"config.reloaded", "7c1b9a8c4f2e4d0fa1a1e3b0b0a1000f"},
        {"config.reload-failed", "7c1b9a8c4f2e4d0fa1a1e3b0b0a10010"},
        {"storage.error", "7c1b9a8c4f2e4d0fa1a1e3b0b0a10011"},
        {"seat.user-changed", "7c1b9a8c4f2e4d0fa1a1e3b0b0a10012"},
        {"storage.unexpected", "7c1b9a8c4f2e4d0fa1a1e3b0b0a10013"},
        {"clock.set-back", "7c1b9a8c4f2e4d0fa1a1e3b0b0a10014"},
        {"usb.resync", "7c1b9a8c4f2e4d0fa1a1e3b0b0a10015"},
        {"usb.operation", "7c1b9a8c4f2e4d0fa1a1e3b0b0a10016"},
        {"storage.cut-off-failed", "7c1b9a8c4f2e4d0fa1a1e3b0b0a10017"},
        {"usb.missed", "7c1b9a8c4f2e4d0fa1a1e3b0b0a10018"},
        /* termguard-hid-fallback, the degraded mode while termguardd cannot start */
        {"fallback.started", "7c1b9a8c4f2e4d0fa1a1e3b0b0a10019"},
        {"fallback.hid-admitted", "7c1b9a8c4f2e4d0fa1a1e3b0b0a1001a"},
        {"fallback.blocked", "7c1b9a8c4f2e4d0fa1a1e3b0b0a1001b"},
        {"fallback.done", "7c1b9a8c4f2e4d0fa1a1e3b0b0a1001c"},
};

/* USB workers (unmounting) record too: one record, one line, never interleaved. */
static pthread_mutex_t output_lock = PTHREAD_MUTEX_INITIALIZER;

/* stderr is the journal under systemd: then journald gets the structured record only. */
static bool stderr_is_journal(void) {
        return getenv("JOURNAL_STREAM") != NULL;
}

static bool journal_available(void) {
        return access("/run/systemd/journal/socket", W_OK) == 0;
}

void log_msg(int priority, const char *fmt, ...) {
        static const char *const level[] = {"emerg", "alert", "crit", "error", "warning", "notice", "info", "debug"};
        va_list ap;
        va_start(ap, fmt);
        pthread_mutex_lock(&output_lock);
        if (stderr_is_journal() && journal_available()) {
                sd_journal_printv(priority, fmt, ap);
        } else {
                fprintf(stderr, "termguardd: %s: ", level[priority & 7]);
                vfprintf(stderr, fmt, ap);
                fputc('\n', stderr);
        }
        pthread_mutex_unlock(&output_lock);
        va_end(ap);
}

/* Appends one journal field; fields has room (the caller bounds n). */
__attribute__((format(printf, 3, 4))) static int add_field(char **fields, size_t *n, const char *fmt, ...) {
        va_list ap;
        int r;

        va_start(ap, fmt);
        r = vasprintf(&fields[*n], fmt, ap);
        va_end(ap);
        if (r < 0)
                return -ENOMEM;
        (*n)++;
        return 0;
}

void event_emit(const char *type, int priority, const char *message, ...) {
        _cleanup_json_ json_object *o = json_object_new_object();
        struct iovec iov[40];
        char *fields[40];
        size_t n = 0;
        const char *id = NULL;
        va_list ap;
        int r;

        for (size_t i = 0; i < ELEMENTSOF(message_ids); i++)
                if (strcmp(message_ids[i].type, type) == 0)
                        id = message_ids[i].id;

        json_object_object_add(o, "event", json_object_new_string(type));
        json_object_object_add(o, "message", json_object_new_string(message));
        r = add_field(fields, &n, "MESSAGE=%s", message);
        if (r >= 0)
                r = add_field(fields, &n, "PRIORITY=%d", priority);
        if (r >= 0)
                r = add_field(fields, &n, "TERMGUARD_EVENT=%s", type);
        if (r >= 0)
                r = add_field(fields, &n, "MESSAGE_ID=%s", id ? id : "7c1b9a8c4f2e4d0fa1a1e3b0b0a1ffff");
        if (r >= 0)
                r = add_field(fields, &n, "SYSLOG_IDENTIFIER=%s", program_invocation_short_name);
        if (r < 0) {
                for (size_t i = 0; i < n; i++)
                        free(fields[i]);
                return;
        }

        va_start(ap, message);
        for (const char *k = va_arg(ap, const char *); k; k = va_arg(ap, const char *)) {
                const char *v = va_arg(ap, const char *);
                if (!v)
                        continue;
                json_object_object_add(o, k, json_object_new_string(v));
                if (n < ELEMENTSOF(fields)) {
                        char key[64];
                        size_t j;
                        for (j = 0; k[j] && j < sizeof(key) - 1; j++)
                                key[j] = k[j] == '-' ? '_' : (char) toupper((unsigned char) k[j]);
                        key[j] = '\0';
                        if (asprintf(&fields[n], "TERMGUARD_%s=%s", key, v) >= 0)
                                n++;
                }
        }
        va_end(ap);

        pthread_mutex_lock(&output_lock);
        if (journal_available()) {
                for (size_t i = 0; i < n; i++)
                        iov[i] = (struct iovec){.iov_base = fields[i], .iov_len = strlen(fields[i])};
                (void) sd_journal_sendv(iov, (int) n);
        }
        if (!stderr_is_journal()) {
                fprintf(stderr, "%s\n",
                        json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
                fflush(stderr);
        }
        pthread_mutex_unlock(&output_lock);
        for (size_t i = 0; i < n; i++)
                free(fields[i]);
}

static const char *name_of(const char *path) {
        const char *slash = strrchr(path, '/');
        return slash ? slash + 1 : path;
}

void event_cut_off_failed(const char *device, const char *target, const char *step, int error, const char *why) {
        log_msg(LOG_ERR, "Failed to cut off storage of %s (%s of %s): %s", name_of(device), step, name_of(target),
                strerror(-error));
        event_emit("storage.cut-off-failed", LOG_ERR, "A step that cuts removable storage off failed", "device",
                   name_of(device), "target", name_of(target), "step", step, "error", strerror(-error), "why", why,
                   NULL);
}
