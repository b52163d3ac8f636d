/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A caller's own records in the audit journal, for staff who are not root: the records they
 * sent (sender uid) and the records about them (field "user"), who they are taken from the
 * control socket's peer credentials. See own-records.h.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "event.h"
#include "own-records.h"
#include "termguard/account.h"
#include "termguard/escape.h"
#include "termguard/journal.h"
#include "termguard/macro.h"

/* What one request may cost the event loop and the reply: the newest records are searched,
 * at most this many (older ones are said to be unsearched), and at most this many are sent. */
#define OWN_SCAN_RECORDS_MAX 20000
#define OWN_REPLY_RECORDS_MAX 500
/* A value as sent: escaped, and cut to this many characters. */
#define OWN_VALUE_CHARS_MAX 256
#define OWN_VALUE_BYTES_MAX (4 * OWN_VALUE_CHARS_MAX + 8)

static bool is_own(const tg_journal_record *rec, uid_t uid, const char *user) {
        const char *u = tg_journal_record_get(rec, "user");
        /* Records termguardd made itself carry uid 0: only the "user" field makes them anyone's. */
        if (uid != 0 && tg_journal_record_uid(rec) == uid)
                return true;
        return user && u && strcmp(u, user) == 0;
}

static json_object *record_json(const tg_journal_record *rec, char *val) {
        json_object *o = json_object_new_object(), *fields = json_object_new_object();
        const char *comm = tg_journal_record_comm(rec);

        if (!o || !fields) {
                json_object_put(o);
                json_object_put(fields);
                return NULL;
        }
        tg_ctl_put_int(o, TG_F_SEQ, (int64_t) tg_journal_record_seq(rec));
        tg_ctl_put_int(o, TG_F_TIME, tg_journal_record_time(rec));
        tg_ctl_put_string(o, TG_F_CLOCK, tg_journal_clock_to_string(tg_journal_record_clock(rec)));
        tg_escape_str(tg_journal_record_type(rec), val, OWN_VALUE_BYTES_MAX);
        tg_ctl_put_string(o, TG_F_EVENT_TYPE, val);
        tg_ctl_put_int(o, TG_F_PRIORITY, tg_journal_record_priority(rec));
        tg_ctl_put_int(o, TG_F_UID, (int64_t) tg_journal_record_uid(rec));
        tg_escape(comm, strlen(comm), 16, val, OWN_VALUE_BYTES_MAX);
        tg_ctl_put_string(o, TG_F_COMM, val);
        for (size_t i = 0; i < tg_journal_record_n_fields(rec); i++) {
                const char *k, *v;
                tg_journal_record_field(rec, i, &k, &v);
                tg_escape(v, strlen(v), OWN_VALUE_CHARS_MAX, val, OWN_VALUE_BYTES_MAX);
                json_object_object_add(fields, k, json_object_new_string(val));
        }
        tg_ctl_put_map(o, TG_F_FIELDS, fields);
        return o;
}

json_object *own_records_reply(Manager *m, uid_t uid, int64_t since_usec, int64_t until_usec) {
        _cleanup_free_ char *val = malloc(OWN_VALUE_BYTES_MAX);
        json_object *ring[OWN_REPLY_RECORDS_MAX] = {0};
        char dir[PATH_MAX + 16];
        tg_account caller;
        tg_journal_reader *reader = NULL;
        const tg_journal_record *rec;
        event_journal_info info;
        uint64_t from = 1;
        size_t n = 0;
        bool truncated = false;
        int r;

        if (!val)
                return tg_ctl_reply_error(TG_CTL_ERR_INTERNAL, "out of memory");
        event_journal_status(&info);
        if (info.state == EVENT_JOURNAL_NOT_INITIALISED)
                return tg_ctl_reply_error(TG_CTL_ERR_NOT_FOUND, "%s", EVENT_JOURNAL_NOT_INITIALISED_REASON);
        /* A user without a name (deleted, or only a number) still has the records they sent. */
        bool named = tg_account_by_uid(uid, &caller) == 0;
        snprintf(dir, sizeof(dir), "%s/journal", m->cfg.state_dir);
        r = tg_journal_reader_open(dir, &reader);
        if (r < 0)
                return tg_ctl_reply_error(TG_CTL_ERR_IO, "cannot read the audit journal: %s", strerror(-r));
        if (info.next_seq > OWN_SCAN_RECORDS_MAX)
                from = info.next_seq - OWN_SCAN_RECORDS_MAX;
        if (from > 1 && tg_journal_reader_seek_seq(reader, from) < 0)
                from = 1; /* the whole journal then: the older part may be pruned */
        for (size_t scanned = 0; scanned < OWN_SCAN_RECORDS_MAX && (r = tg_journal_reader_next(reader, &rec)) != 0;
             scanned++) {
                int64_t t;
                if (r == -EBADMSG)
                        continue; /* damaged: verify says where */
                if (r < 0)
                        break;
                t = tg_journal_record_time(rec);
                if ((since_usec && t < since_usec) || (until_usec && t >= until_usec) ||
                    !is_own(rec, uid, named ? caller.name : NULL))
                        continue;
                /* the newest kept: a ring over the last OWN_REPLY_RECORDS_MAX */
                json_object *o = record_json(rec, val);
                if (!o) {
                        r = -ENOMEM;
                        break;
                }
                size_t slot = n % OWN_REPLY_RECORDS_MAX;
                if (ring[slot]) {
                        json_object_put(ring[slot]);
                        truncated = true;
                }
                ring[slot] = o;
                n++;
        }
        tg_journal_reader_free(reader);
        if (r < 0) {
                for (size_t i = 0; i < OWN_REPLY_RECORDS_MAX; i++)
                        json_object_put(ring[i]);
                return tg_ctl_reply_error(TG_CTL_ERR_IO, "reading the audit journal failed: %s", strerror(-r));
        }
        json_object *list = json_object_new_array(), *o = tg_ctl_reply_ok();
        size_t kept = n < OWN_REPLY_RECORDS_MAX ? n : OWN_REPLY_RECORDS_MAX;
        for (size_t i = 0; i < kept; i++) {
                size_t slot = (n - kept + i) % OWN_REPLY_RECORDS_MAX;
                json_object_array_add(list, ring[slot]);
        }
        tg_ctl_put_list(o, TG_F_RECORDS, list);
        tg_ctl_put_int(o, TG_F_SCANNED_FROM, (int64_t) from);
        tg_ctl_put_bool(o, TG_F_TRUNCATED, truncated);
        return o;
}
