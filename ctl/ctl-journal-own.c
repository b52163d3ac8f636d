/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * termguardctl log for staff (not root): the journal is root's, so termguardd is asked, and
 * it answers with the caller's own records only (who asks is the kernel's word, not ours).
 * Values arrive escaped; tables escape again by display, CSV quotes.
 */
#define _GNU_SOURCE
#include <inttypes.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ctl.h"
#include "termguard/csv.h"
#include "termguard/macro.h"
#include "termguard/timeutil.h"

static const char *field(json_object *rec, const char *key) {
        json_object *fields = tg_ctl_get_map(rec, TG_F_FIELDS), *v;
        if (!fields || !json_object_object_get_ex(fields, key, &v))
                return NULL;
        return json_object_get_string(v);
}

static int64_t record_time(const json_object *rec) {
        return json_object_get_int64(json_object_object_get(rec, tg_ctl_field_name(TG_F_TIME)));
}

static int64_t view_time(const void *rec) {
        return record_time(rec);
}

static const char *view_type(const void *rec) {
        return tg_ctl_get_string((json_object *) rec, TG_F_EVENT_TYPE);
}

static const char *view_field(const void *rec, const char *key) {
        return field((json_object *) rec, key);
}

/* termguardd sends no user names of its own: a record's user is its "user" field */
static const char *view_user(const void *rec, char *buf _unused_, size_t size _unused_) {
        return field((json_object *) rec, "user");
}

static const ctl_log_view own_view = {
        .time = view_time,
        .type = view_type,
        .field = view_field,
        .user = view_user,
};

/* The fields not in a column of their own, as "key=value key=value" (free() it). */
static char *details(json_object *rec) {
        json_object *fields = tg_ctl_get_map(rec, TG_F_FIELDS);
        char *buf = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&buf, &len);
        bool first = true;

        if (!f)
                return NULL;
        if (fields) {
                json_object_object_foreach(fields, k, v) {
                        if (strcmp(k, "device") == 0)
                                continue;
                        fprintf(f, "%s%s=%s", first ? "" : " ", k, json_object_get_string(v));
                        first = false;
                }
        }
        fclose(f);
        return buf;
}

static void print_json(json_object *rec) {
        json_object *o = json_object_new_object();
        char t[40];
        int64_t usec = record_time(rec);

        json_object_object_add(o, "seq", json_object_get(json_object_object_get(rec, "seq")));
        ctl_log_time(usec, t, sizeof(t));
        json_object_object_add(o, "time", json_object_new_string(t));
        json_object_object_add(o, "time_usec", json_object_new_int64(usec));
        json_object_object_foreach(rec, k, v) {
                if (strcmp(k, "seq") != 0 && strcmp(k, tg_ctl_field_name(TG_F_TIME)) != 0)
                        json_object_object_add(o, k, json_object_get(v));
        }
        printf("%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
        json_object_put(o);
}

int ctl_journal_log_own(const ctl_context *ctx, const ctl_log_query *q) {
        tg_ctl_request req;
        tg_ctl_reply reply;
        char since[TG_ISO8601_MAX], until[TG_ISO8601_MAX];
        ctl_table *t = NULL;
        int rc;

        tg_ctl_request_init(&req, TG_CTL_LOG_OWN);
        /* whole seconds there; the exact bounds are applied here */
        if (q->have_since) {
                tg_format_iso8601(q->since / 1000000 - (q->since % 1000000 < 0), since, sizeof(since));
                (void) tg_ctl_request_set(&req, TG_F_SINCE, since);
        }
        if (q->have_until) {
                tg_format_iso8601(q->until / 1000000 + (q->until % 1000000 > 0), until, sizeof(until));
                (void) tg_ctl_request_set(&req, TG_F_UNTIL, until);
        }
        rc = ctl_call(ctx, &req, &reply);
        tg_ctl_request_done(&req);
        if (rc)
                return rc;
        json_object *list = tg_ctl_get_list(reply.json, TG_F_RECORDS);
        if (q->format == CTL_LOG_CSV) {
                static const char *const header[] = {"seq",    "time",       "clock",  "type",
                                                     "device", "sender_uid", "sender", "details"};
                tg_csv_begin(stdout);
                for (size_t i = 0; i < ELEMENTSOF(header); i++)
                        tg_csv_cell(stdout, header[i], i == 0);
                tg_csv_end_row(stdout);
        } else if (q->format == CTL_LOG_TABLE) {
                t = ctl_table_new(5);
                ctl_table_add(t, _("TIME (UTC)"), _("SEQ"), _("TYPE"), _("DEVICE"), _("DETAILS"));
        }
        for (size_t i = 0; list && i < json_object_array_length(list); i++) {
                json_object *rec = json_object_array_get_idx(list, i);
                char tm[40];
                _cleanup_free_ char *rest = NULL;
                const char *device = field(rec, "device");

                if (!ctl_log_matches(&own_view, rec, q))
                        continue;
                if (q->format == CTL_LOG_JSON) {
                        print_json(rec);
                        continue;
                }
                rest = details(rec);
                ctl_log_time(record_time(rec), tm, sizeof(tm));
                if (q->format == CTL_LOG_CSV) {
                        tg_csv_cell(stdout, tg_ctl_get_string(rec, TG_F_SEQ), true);
                        tg_csv_cell(stdout, tm, false);
                        tg_csv_cell(stdout, tg_ctl_get_string(rec, TG_F_CLOCK), false);
                        tg_csv_cell(stdout, tg_ctl_get_string(rec, TG_F_EVENT_TYPE), false);
                        tg_csv_cell(stdout, device ? device : "", false);
                        tg_csv_cell(stdout, tg_ctl_get_string(rec, TG_F_UID), false);
                        tg_csv_cell(stdout, tg_ctl_get_string(rec, TG_F_COMM), false);
                        tg_csv_cell(stdout, rest ? rest : "", false);
                        tg_csv_end_row(stdout);
                } else
                        ctl_table_add(t, tm, tg_ctl_get_string(rec, TG_F_SEQ), tg_ctl_get_string(rec, TG_F_EVENT_TYPE),
                                      device, rest);
        }
        if (t) {
                ctl_table_print(t, stdout);
                ctl_table_free(t);
        }
        if (tg_ctl_get_bool(reply.json, TG_F_TRUNCATED) ||
            strcmp(tg_ctl_get_string(reply.json, TG_F_SCANNED_FROM), "1") != 0)
                fprintf(stderr, "%s\n",
                        _("termguardctl: only your most recent records are shown; for older ones ask an "
                          "administrator."));
        tg_ctl_reply_done(&reply);
        return 0;
}
