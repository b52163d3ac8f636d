/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Records of the event catalogue and their hand-over encoding (include/termguard/record.h):
 * written by every producer, read by termguardd from its record socket and its spool. What
 * the reader accepts is exactly what the writer can write: a type of the catalogue, fields of
 * that type, escaped values within their bounds.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include <json-c/json.h>

#include "termguard/escape.h"
#include "termguard/hex.h"
#include "termguard/json-util.h"
#include "termguard/macro.h"
#include "termguard/record.h"

/* Escaped text of n input bytes takes at most this much room. */
#define ESCAPED_SIZE(n) ((n) *4 + 8)

static char *escape_dup(const char *s, size_t max) {
        size_t size = ESCAPED_SIZE(max);
        char *buf = malloc(size);
        if (!buf)
                return NULL;
        tg_escape(s, strlen(s), max, buf, size);
        return buf;
}

static int new_id(char ret[static TG_RECORD_ID_LEN + 1]) {
        unsigned char raw[TG_RECORD_ID_LEN / 2];
        size_t got = 0;

        while (got < sizeof(raw)) {
                ssize_t n = getrandom(raw + got, sizeof(raw) - got, 0);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return -errno;
                got += (size_t) n;
        }
        tg_hex_encode(raw, sizeof(raw), ret, TG_RECORD_ID_LEN + 1);
        return 0;
}

/* The program that made the record, as it names itself: a claim, kept for the journald
 * mirror's SYSLOG_IDENTIFIER. */
static bool valid_producer(const char *p) {
        size_t n = p ? strspn(p, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-") : 0;
        return n > 0 && n <= TG_RECORD_PRODUCER_MAX && p[n] == '\0';
}

int tg_record_init(tg_record *rec, const char *type, int priority, const char *producer, const char *message) {
        const tg_event_type *t = tg_event_lookup(type);
        struct timespec ts;
        int r;

        if (!t || priority > 7 || !valid_producer(producer))
                return -EINVAL;
        *rec = (tg_record){.event = t, .priority = priority < 0 ? t->priority : priority};
        r = new_id(rec->id);
        if (r < 0)
                return r;
        if (clock_gettime(CLOCK_REALTIME, &ts) < 0)
                return -errno;
        rec->time = (int64_t) ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
        memcpy(rec->producer, producer, strlen(producer) + 1);
        if (message && strlen(message) < ESCAPED_SIZE(TG_RECORD_MESSAGE_MAX) &&
            tg_text_is_escaped(message, strlen(message)))
                rec->message = strdup(message); /* escaped already, or plain text */
        else
                rec->message = escape_dup(message ? message : "", TG_RECORD_MESSAGE_MAX);
        return rec->message ? 0 : -ENOMEM;
}

static int find_field(const tg_record *rec, const char *name) {
        for (size_t i = 0; i < rec->n_fields; i++)
                if (strcmp(rec->fields[i].name, name) == 0)
                        return (int) i;
        return -1;
}

/* The catalogue's own string for name: records keep no copy of field names. */
static const char *catalogue_name(const tg_event_type *t, const char *name) {
        for (const char *const *f = t->fields; *f; f++)
                if (strcmp(*f, name) == 0)
                        return *f;
        return NULL;
}

static int set(tg_record *rec, const char *name, const char *value, bool escaped) {
        const char *n = catalogue_name(rec->event, name);
        char *v;

        if (!n)
                return -EINVAL;
        if (find_field(rec, n) >= 0)
                return -EEXIST;
        if (!value)
                return 0;
        if (rec->n_fields >= ELEMENTSOF(rec->fields))
                return -E2BIG;
        if (escaped && strlen(value) < ESCAPED_SIZE(TG_RECORD_VALUE_MAX) && tg_text_is_escaped(value, strlen(value)))
                v = strdup(value);
        else
                v = escape_dup(value, TG_RECORD_VALUE_MAX);
        if (!v)
                return -ENOMEM;
        rec->fields[rec->n_fields].name = n;
        rec->fields[rec->n_fields].value = v;
        rec->n_fields++;
        return 0;
}

int tg_record_set(tg_record *rec, const char *name, const char *value) {
        return set(rec, name, value, false);
}

int tg_record_set_escaped(tg_record *rec, const char *name, const char *value) {
        return set(rec, name, value, true);
}

const char *tg_record_get(const tg_record *rec, const char *name) {
        int i = find_field(rec, name);
        return i < 0 ? NULL : rec->fields[i].value;
}

void tg_record_done(tg_record *rec) {
        free(rec->message);
        for (size_t i = 0; i < rec->n_fields; i++)
                free(rec->fields[i].value);
        *rec = (tg_record){0};
}

int tg_record_encode(const tg_record *rec, bool with_sender, char **ret) {
        _cleanup_json_ json_object *o = json_object_new_object();
        json_object *f = json_object_new_object();
        char *text;

        if (!o || !f) {
                json_object_put(f);
                return -ENOMEM;
        }
        json_object_object_add(o, "v", json_object_new_int(TG_RECORD_VERSION));
        json_object_object_add(o, "id", json_object_new_string(rec->id));
        json_object_object_add(o, "type", json_object_new_string(rec->event->type));
        json_object_object_add(o, "priority", json_object_new_int(rec->priority));
        json_object_object_add(o, "time", json_object_new_int64(rec->time));
        json_object_object_add(o, "producer", json_object_new_string(rec->producer));
        json_object_object_add(o, "message", json_object_new_string(rec->message));
        for (size_t i = 0; i < rec->n_fields; i++)
                json_object_object_add(f, rec->fields[i].name, json_object_new_string(rec->fields[i].value));
        json_object_object_add(o, "fields", f);
        if (with_sender) {
                json_object *s = json_object_new_object();
                if (!s)
                        return -ENOMEM;
                json_object_object_add(s, "uid", json_object_new_int64(rec->sender.uid));
                json_object_object_add(s, "pid", json_object_new_int64(rec->sender.pid));
                json_object_object_add(s, "comm", json_object_new_string(rec->sender.comm));
                json_object_object_add(o, "sender", s);
        }
        if (asprintf(&text, "%s\n",
                     json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE)) < 0)
                return -ENOMEM;
        *ret = text;
        return 0;
}

__attribute__((format(printf, 3, 4))) static int bad(char *err, size_t err_size, const char *fmt, ...) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, err_size, fmt, ap);
        va_end(ap);
        return -EBADMSG;
}

/* A name from the record, in an error that is logged and recorded: escaped and cut. */
static int bad_key(char *err, size_t err_size, const char *what, const char *key) {
        char esc[64];
        tg_escape(key, strlen(key), 32, esc, sizeof(esc));
        return bad(err, err_size, "%s \"%s\"", what, esc);
}

/* A string member that must be text tg_escape could have written, of at most max bytes. */
static int get_escaped(json_object *o, const char *key, size_t max, const char **ret, char *err, size_t err_size) {
        const char *s = ""; /* set on success; "" for the analyzer, which cannot see that */
        int r = tg_json_get_string_ref(o, key, TG_JSON_REQUIRED, max, &s, err, err_size);
        if (r < 0)
                return r;
        if (!tg_text_is_escaped(s, strlen(s)))
                return bad(err, err_size, "field \"%s\" is not escaped text", key);
        *ret = s;
        return 0;
}

static bool key_in(const char *key, const char *const *keys) {
        for (; *keys; keys++)
                if (strcmp(key, *keys) == 0)
                        return true;
        return false;
}

static int decode_sender(json_object *s, tg_record_sender *ret, char *err, size_t err_size) {
        static const char *const keys[] = {"uid", "pid", "comm", NULL};
        const char *comm = "";
        int64_t uid = 0, pid = 0;

        if (!json_object_is_type(s, json_type_object))
                return bad(err, err_size, "\"sender\" is not an object");
        json_object_object_foreach(s, key, v) {
                (void) v;
                if (!key_in(key, keys))
                        return bad_key(err, err_size, "unknown sender field", key);
        }
        if (tg_json_get_int64(s, "uid", TG_JSON_REQUIRED, 0, UINT32_MAX - 1, &uid, err, err_size) < 0 ||
            tg_json_get_int64(s, "pid", TG_JSON_REQUIRED, 1, INT32_MAX, &pid, err, err_size) < 0 ||
            get_escaped(s, "comm", TG_RECORD_COMM_MAX, &comm, err, err_size) < 0)
                return -EBADMSG;
        *ret = (tg_record_sender){.via = TG_RECORD_VIA_SPOOL, .uid = (uid_t) uid, .pid = (pid_t) pid};
        memcpy(ret->comm, comm, strlen(comm) + 1);
        return 0;
}

int tg_record_decode(const char *buf, size_t len, bool accept_sender, tg_record *ret, char *err, size_t err_size) {
        static const char *const keys[] = {"v",        "id",      "type",   "priority", "time",
                                           "producer", "message", "fields", "sender",   NULL};
        _cleanup_json_tokener_ struct json_tokener *tok = json_tokener_new();
        _cleanup_json_ json_object *o = NULL;
        tg_record rec = {0};
        const char *type = "", *id = "", *producer = "", *message = "";
        json_object *fields, *sender;
        int64_t v = 0, priority = 0, time = 0;
        int r;

        if (!tok)
                return -ENOMEM;
        if (len > TG_RECORD_WIRE_MAX)
                return bad(err, err_size, "record longer than %d bytes", TG_RECORD_WIRE_MAX);
        if (len > 0 && buf[len - 1] == '\n')
                len--;
        if (memchr(buf, '\0', len))
                return bad(err, err_size, "record holds a NUL byte");
        o = json_tokener_parse_ex(tok, buf, (int) len);
        if (!o || json_tokener_get_error(tok) != json_tokener_success || tok->char_offset != (int) len ||
            !json_object_is_type(o, json_type_object))
                return bad(err, err_size, "record is not one JSON object");
        json_object_object_foreach(o, key, val) {
                (void) val;
                if (!key_in(key, keys))
                        return bad_key(err, err_size, "unknown record field", key);
        }
        if (tg_json_get_int64(o, "v", TG_JSON_REQUIRED, TG_RECORD_VERSION, TG_RECORD_VERSION, &v, err, err_size) < 0 ||
            tg_json_get_string_ref(o, "type", TG_JSON_REQUIRED, 64, &type, err, err_size) < 0 ||
            tg_json_get_string_ref(o, "id", TG_JSON_REQUIRED, TG_RECORD_ID_LEN, &id, err, err_size) < 0 ||
            tg_json_get_int64(o, "priority", TG_JSON_REQUIRED, 0, 7, &priority, err, err_size) < 0 ||
            tg_json_get_int64(o, "time", TG_JSON_REQUIRED, 0, TG_RECORD_TIME_MAX, &time, err, err_size) < 0 ||
            tg_json_get_string_ref(o, "producer", TG_JSON_REQUIRED, TG_RECORD_PRODUCER_MAX, &producer, err, err_size) <
                    0 ||
            get_escaped(o, "message", ESCAPED_SIZE(TG_RECORD_MESSAGE_MAX), &message, err, err_size) < 0)
                return -EBADMSG;
        if (!valid_producer(producer))
                return bad(err, err_size, "field \"producer\" is not a program name");
        if (strlen(id) != TG_RECORD_ID_LEN || strspn(id, "0123456789abcdef") != TG_RECORD_ID_LEN)
                return bad(err, err_size, "field \"id\" is not %d hex digits", TG_RECORD_ID_LEN);
        rec.event = tg_event_lookup(type);
        if (!rec.event) {
                char esc[64];
                tg_escape(type, strlen(type), 40, esc, sizeof(esc));
                return bad(err, err_size, "unknown event type \"%s\"", esc);
        }
        if (!json_object_object_get_ex(o, "fields", &fields) || !json_object_is_type(fields, json_type_object))
                return bad(err, err_size, "\"fields\" is missing or not an object");
        if (json_object_object_get_ex(o, "sender", &sender)) {
                if (!accept_sender)
                        return bad(err, err_size, "a record handed over may not name its sender");
                r = decode_sender(sender, &rec.sender, err, err_size);
                if (r < 0)
                        return r;
                rec.has_sender = true;
        }
        memcpy(rec.id, id, TG_RECORD_ID_LEN + 1);
        rec.priority = (int) priority;
        rec.time = time;
        memcpy(rec.producer, producer, strlen(producer) + 1);
        rec.message = strdup(message);
        if (!rec.message)
                return -ENOMEM;
        json_object_object_foreach(fields, name, value) {
                const char *n = catalogue_name(rec.event, name), *s = "";
                char esc[64];
                if (!n) {
                        tg_escape(name, strlen(name), 40, esc, sizeof(esc));
                        tg_record_done(&rec);
                        return bad(err, err_size, "%s has no field \"%s\"", type, esc);
                }
                (void) value;
                r = get_escaped(fields, name, ESCAPED_SIZE(TG_RECORD_VALUE_MAX), &s, err, err_size);
                if (r >= 0 && (find_field(&rec, n) >= 0 || rec.n_fields >= ELEMENTSOF(rec.fields)))
                        r = bad(err, err_size, "field \"%s\" twice", n); /* json-c keeps one of twins */
                if (r >= 0) {
                        rec.fields[rec.n_fields].value = strdup(s);
                        rec.fields[rec.n_fields].name = n;
                        r = rec.fields[rec.n_fields].value ? 0 : -ENOMEM;
                        rec.n_fields += r >= 0;
                }
                if (r < 0) {
                        tg_record_done(&rec);
                        return r;
                }
        }
        *ret = rec;
        return 0;
}

int tg_record_spool_name(const tg_record *rec, char *ret, size_t size) {
        /* Sorted by name is sorted by time; the id keeps two records of one µs apart. */
        int n = snprintf(ret, size, "%020" PRId64 "-%s.rec", rec->time, rec->id);
        return n < 0 || (size_t) n >= size ? -ENAMETOOLONG : 0;
}

bool tg_record_spool_name_valid(const char *name) {
        size_t n = strlen(name);
        return n == 20 + 1 + TG_RECORD_ID_LEN + 4 && strspn(name, "0123456789") == 20 && name[20] == '-' &&
               strspn(name + 21, "0123456789abcdef") == TG_RECORD_ID_LEN && strcmp(name + n - 4, ".rec") == 0;
}
