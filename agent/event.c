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
#include "termguard/event-catalogue.h"
#include "termguard/macro.h"
#include "termguard/record.h"

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

/* Appends one journald field; fields has room (the caller bounds n). */
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

/* "descriptor_sha256" as journald's DESCRIPTOR_SHA256. */
static void journald_name(const char *name, char *ret, size_t size) {
        size_t j;
        for (j = 0; name[j] && j < size - 1; j++)
                ret[j] = name[j] == '-' ? '_' : (char) toupper((unsigned char) name[j]);
        ret[j] = '\0';
}

static const char *const via_names[] = {
        [TG_RECORD_VIA_DAEMON] = "daemon",
        [TG_RECORD_VIA_SOCKET] = "socket",
        [TG_RECORD_VIA_SPOOL] = "spool",
};

/* The journald mirror: MESSAGE_ID, the fields, and for records handed in, the sender as
 * termguardd established it. Returns the number of fields. */
#define MIRROR_FIELDS_MAX (TG_EVENT_FIELDS_MAX + 16)
static size_t mirror_fields(const tg_record *rec, char *fields[static MIRROR_FIELDS_MAX]) {
        bool mfa = strncmp(rec->event->type, "mfa.", 4) == 0;
        size_t n = 0;
        int r;

        r = add_field(fields, &n, "MESSAGE=%s", rec->message);
        if (r >= 0)
                r = add_field(fields, &n, "PRIORITY=%d", rec->priority);
        if (r >= 0)
                r = add_field(fields, &n, "TERMGUARD_EVENT=%s", rec->event->type);
        if (r >= 0)
                r = add_field(fields, &n, "MESSAGE_ID=%s", rec->event->message_id);
        if (r >= 0)
                r = add_field(fields, &n, "TERMGUARD_RECORD_ID=%s", rec->id);
        /* The producer's name, as before the records went through termguardd: queries by
         * SYSLOG_IDENTIFIER=pam_termguard keep working. Who really sent it is TERMGUARD_SENDER_*. */
        if (r >= 0)
                r = add_field(fields, &n, "SYSLOG_IDENTIFIER=%s", rec->producer);
        if (r >= 0 && mfa)
                r = add_field(fields, &n, "SYSLOG_FACILITY=%d", LOG_AUTHPRIV >> 3);
        if (r >= 0 && rec->sender.via != TG_RECORD_VIA_DAEMON) {
                r = add_field(fields, &n, "TERMGUARD_VIA=%s", via_names[rec->sender.via]);
                if (r >= 0)
                        r = add_field(fields, &n, "TERMGUARD_SENDER_UID=%u", (unsigned) rec->sender.uid);
                if (r >= 0)
                        r = add_field(fields, &n, "TERMGUARD_SENDER_PID=%d", (int) rec->sender.pid);
                if (r >= 0)
                        r = add_field(fields, &n, "TERMGUARD_SENDER_COMM=%s", rec->sender.comm);
                if (r >= 0 && rec->sender.unit[0])
                        r = add_field(fields, &n, "TERMGUARD_SENDER_UNIT=%s", rec->sender.unit);
        }
        for (size_t i = 0; r >= 0 && i < rec->n_fields; i++) {
                char key[64];
                journald_name(rec->fields[i].name, key, sizeof(key));
                r = add_field(fields, &n, "TERMGUARD_%s=%s", key, rec->fields[i].value);
        }
        return n; /* out of memory: the fields made so far */
}

static char *json_line(const tg_record *rec) {
        _cleanup_json_ json_object *o = json_object_new_object();
        char *line = NULL;

        if (!o)
                return NULL;
        json_object_object_add(o, "event", json_object_new_string(rec->event->type));
        json_object_object_add(o, "message", json_object_new_string(rec->message));
        for (size_t i = 0; i < rec->n_fields; i++)
                json_object_object_add(o, rec->fields[i].name, json_object_new_string(rec->fields[i].value));
        if (rec->sender.via != TG_RECORD_VIA_DAEMON) {
                json_object_object_add(o, "record_id", json_object_new_string(rec->id));
                json_object_object_add(o, "producer", json_object_new_string(rec->producer));
                json_object_object_add(o, "via", json_object_new_string(via_names[rec->sender.via]));
                json_object_object_add(o, "sender_uid", json_object_new_int64(rec->sender.uid));
                json_object_object_add(o, "sender_pid", json_object_new_int64(rec->sender.pid));
                json_object_object_add(o, "sender_comm", json_object_new_string(rec->sender.comm));
                json_object_object_add(o, "sender_unit", json_object_new_string(rec->sender.unit));
        }
        if (asprintf(&line, "%s\n",
                     json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE)) < 0)
                return NULL;
        return line;
}

int event_record(const tg_record *rec) {
        char *fields[MIRROR_FIELDS_MAX];
        struct iovec iov[MIRROR_FIELDS_MAX];
        _cleanup_free_ char *line = NULL;
        size_t n;

        n = mirror_fields(rec, fields);
        if (!stderr_is_journal())
                line = json_line(rec);
        pthread_mutex_lock(&output_lock);
        if (journal_available()) {
                for (size_t i = 0; i < n; i++)
                        iov[i] = (struct iovec){.iov_base = fields[i], .iov_len = strlen(fields[i])};
                (void) sd_journal_sendv(iov, (int) n); /* a mirror: the record does not depend on it */
        }
        if (line) {
                fputs(line, stderr);
                fflush(stderr);
        }
        pthread_mutex_unlock(&output_lock);
        for (size_t i = 0; i < n; i++)
                free(fields[i]);
        return 0;
}

void event_emit(const char *type, int priority, const char *message, ...) {
        tg_record rec;
        va_list ap;
        int r;

        r = tg_record_init(&rec, type, priority, "termguardd", message);
        if (r < 0) {
                /* The catalogue's unit test keeps this from happening. */
                log_msg(LOG_ERR, "Cannot record %s (%s): %s", type, message,
                        r == -EINVAL ? "not in the event catalogue" : strerror(-r));
                return;
        }
        va_start(ap, message);
        for (const char *k = va_arg(ap, const char *); k; k = va_arg(ap, const char *)) {
                const char *v = va_arg(ap, const char *);
                r = tg_record_set_escaped(&rec, k, v);
                if (r < 0)
                        log_msg(LOG_ERR, "Event %s: field %s: %s", type, k,
                                r == -EINVAL ? "not in the event catalogue" : strerror(-r));
        }
        va_end(ap);
        (void) event_record(&rec);
        tg_record_done(&rec);
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
