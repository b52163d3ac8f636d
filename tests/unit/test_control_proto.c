/* SPDX-License-Identifier: GPL-2.0-or-later */
#define _GNU_SOURCE
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "termguard/control-proto.h"
#include "termguard/register.h"

static int decode(const char *text, tg_ctl_request *req, char *err, size_t err_size) {
        return tg_ctl_request_decode(text, strlen(text), req, err, err_size);
}

static void request_round_trip(void **state) {
        tg_ctl_request out, in;
        char *line, err[256];
        (void) state;

        tg_ctl_request_init(&out, TG_CTL_MEDIA_ADD);
        assert_int_equal(tg_ctl_request_set(&out, TG_F_VID, "0951"), 0);
        assert_int_equal(tg_ctl_request_set(&out, TG_F_PID, "1666"), 0);
        assert_int_equal(tg_ctl_request_set(&out, TG_F_SERIAL, "001A4D5F1A2BB171"), 0);
        assert_int_equal(tg_ctl_request_set(&out, TG_F_LABEL, "総務-01"), 0);
        assert_int_equal(tg_ctl_request_set(&out, TG_F_MODE, "read-write"), 0);
        assert_int_equal(tg_ctl_request_set(&out, TG_F_LABEL, "again"), -EEXIST);
        assert_int_equal(tg_ctl_request_set(&out, TG_F_UNTIL, "2026-12-01T17:00:00Z"), -EINVAL);
        assert_int_equal(tg_ctl_request_encode(&out, &line), 0);
        /* One line, ended by its newline (one expression: the analyzer does not know that a
         * failed cmocka assertion does not return). */
        assert_true(strchr(line, '\n') && strchr(line, '\n')[1] == '\0');

        assert_int_equal(decode(line, &in, err, sizeof(err)), 0);
        assert_int_equal(in.command, TG_CTL_MEDIA_ADD);
        assert_int_equal(in.num[TG_F_VID], 0x0951);
        assert_int_equal(in.num[TG_F_PID], 0x1666);
        assert_string_equal(in.str[TG_F_SERIAL], "001A4D5F1A2BB171");
        assert_string_equal(in.str[TG_F_LABEL], "総務-01");
        assert_true(in.has[TG_F_MODE]);
        assert_int_equal(in.num[TG_F_MODE], TG_MODE_READ_WRITE);
        assert_false(in.has[TG_F_DEPARTMENT]);
        tg_ctl_request_done(&in);
        free(line);

        tg_ctl_request_init(&out, TG_CTL_EXCEPTION_REVOKE);
        assert_int_equal(tg_ctl_request_set(&out, TG_F_ID, "12"), 0);
        assert_int_equal(tg_ctl_request_encode(&out, &line), 0);
        assert_string_equal(line, "{\"command\":\"exception-revoke\",\"id\":12}\n");
        assert_int_equal(decode(line, &in, err, sizeof(err)), 0);
        assert_int_equal(in.num[TG_F_ID], 12);
        tg_ctl_request_done(&in);
        free(line);

        tg_ctl_request_init(&out, TG_CTL_EXCEPTION_GRANT);
        assert_int_equal(tg_ctl_request_set(&out, TG_F_LABEL, "USB-1"), 0);
        assert_int_equal(tg_ctl_request_set(&out, TG_F_UNTIL, "2026-12-01T17:00:00+09:00"), 0);
        assert_int_equal(tg_ctl_request_set(&out, TG_F_APPROVER, "課長"), 0);
        assert_int_equal(tg_ctl_request_set(&out, TG_F_REASON, "監査資料"), 0);
        assert_int_equal(tg_ctl_request_encode(&out, &line), 0);
        assert_int_equal(decode(line, &in, err, sizeof(err)), 0);
        assert_int_equal(in.num[TG_F_UNTIL], 1796112000); /* 2026-12-01T08:00:00Z */
        tg_ctl_request_done(&in);
        free(line);
}

static void client_rejects_bad_ids(void **state) {
        tg_ctl_request req;
        (void) state;
        for (const char *const *s =
                     (const char *const[]){"0", "-1", "x", "1x", " 1", "+1", "", "99999999999999999999", NULL};
             *s; s++) {
                tg_ctl_request_init(&req, TG_CTL_EXCEPTION_REVOKE);
                assert_int_equal(tg_ctl_request_set(&req, TG_F_ID, *s), -EINVAL);
        }
}

/* The session helper's report: 0 ms is a valid idle time (input just now), unlike an id. */
static void session_idle_round_trip(void **state) {
        tg_ctl_request out, in;
        char *line, err[256];
        (void) state;

        tg_ctl_request_init(&out, TG_CTL_SESSION_IDLE);
        assert_int_equal(tg_ctl_request_set(&out, TG_F_SESSION, "c2"), 0);
        assert_int_equal(tg_ctl_request_set(&out, TG_F_IDLE_MS, "0"), 0);
        assert_int_equal(tg_ctl_request_encode(&out, &line), 0);
        assert_string_equal(line, "{\"command\":\"session-idle\",\"session\":\"c2\",\"idle_ms\":0}\n");
        assert_int_equal(decode(line, &in, err, sizeof(err)), 0);
        assert_true(in.has[TG_F_IDLE_MS]);
        assert_int_equal(in.num[TG_F_IDLE_MS], 0);
        assert_string_equal(in.str[TG_F_SESSION], "c2");
        tg_ctl_request_done(&in);
        free(line);

        /* the Wayland helper asks for notices as notify-only; without the flag it is not */
        tg_ctl_request_init(&out, TG_CTL_SESSION_NOTIFY);
        assert_int_equal(tg_ctl_request_set(&out, TG_F_SESSION, "c2"), 0);
        assert_int_equal(tg_ctl_request_set(&out, TG_F_NOTIFY_ONLY, "true"), 0);
        assert_int_equal(tg_ctl_request_encode(&out, &line), 0);
        assert_string_equal(line, "{\"command\":\"session-notify\",\"session\":\"c2\",\"notify_only\":true}\n");
        assert_int_equal(decode(line, &in, err, sizeof(err)), 0);
        assert_true(in.has[TG_F_NOTIFY_ONLY]);
        tg_ctl_request_done(&in);
        free(line);
        assert_int_equal(decode("{\"command\":\"session-notify\",\"session\":\"c2\"}\n", &in, err, sizeof(err)), 0);
        assert_false(in.has[TG_F_NOTIFY_ONLY]);
        tg_ctl_request_done(&in);

        for (const char *const *s =
                     (const char *const[]){"-1", "x", "1.5", "", "604800001", "99999999999999999999", NULL};
             *s; s++) {
                tg_ctl_request_init(&out, TG_CTL_SESSION_IDLE);
                assert_int_equal(tg_ctl_request_set(&out, TG_F_IDLE_MS, *s), -EINVAL);
        }
        tg_ctl_request_init(&out, TG_CTL_SESSION_IDLE);
        assert_int_equal(tg_ctl_request_set(&out, TG_F_IDLE_MS, "604800000"), 0);
}

/* Each hostile request is refused with a reason; the command is known where it was named. */
static void hostile_requests(void **state) {
        static const struct {
                const char *text;
                tg_ctl_command command;
                const char *reason;
        } cases[] = {
                {"", _TG_CTL_COMMAND_INVALID, "not a JSON object"},
                {"[1,2]", _TG_CTL_COMMAND_INVALID, "not a JSON object"},
                {"{\"command\":\"status\"} {}", _TG_CTL_COMMAND_INVALID, "not a JSON object"},
                {"{\"command\":\"status\"", _TG_CTL_COMMAND_INVALID, "not a JSON object"},
                {"{\"a\":[[[[[[[[[[1]]]]]]]]]]}", _TG_CTL_COMMAND_INVALID, "not a JSON object"},
                {"{}", _TG_CTL_COMMAND_INVALID, "missing command"},
                {"{\"command\":7}", _TG_CTL_COMMAND_INVALID, "missing command"},
                {"{\"command\":\"rm -rf\\u001b[2J\"}", _TG_CTL_COMMAND_INVALID, "unknown command \"rm -rf\\x1b[2J\""},
                {"{\"command\":\"status\",\"x\":1}", TG_CTL_STATUS, "unknown argument \"x\""},
                {"{\"command\":\"media-remove\"}", TG_CTL_MEDIA_REMOVE, "label: missing"},
                {"{\"command\":\"media-remove\",\"label\":5}", TG_CTL_MEDIA_REMOVE, "label: expected a string"},
                {"{\"command\":\"media-remove\",\"label\":null}", TG_CTL_MEDIA_REMOVE, "label: expected a string"},
                {"{\"command\":\"media-remove\",\"label\":\"a\\u0000b\"}", TG_CTL_MEDIA_REMOVE, "NUL"},
                {"{\"command\":\"media-add\",\"vid\":\"0x51\",\"pid\":\"1666\",\"serial\":\"S\",\"label\":\"x\"}",
                 TG_CTL_MEDIA_ADD, "vid: expected 4 hex digits"},
                {"{\"command\":\"media-add\",\"vid\":\"0951\",\"pid\":\"+fff\",\"serial\":\"S\",\"label\":\"x\"}",
                 TG_CTL_MEDIA_ADD, "pid: expected 4 hex digits"},
                {"{\"command\":\"media-add\",\"vid\":\"0951\",\"pid\":\"1666\",\"label\":\"x\"}", TG_CTL_MEDIA_ADD,
                 "serial: missing"},
                {"{\"command\":\"media-add\",\"vid\":\"0951\",\"pid\":\"1666\",\"serial\":\"S\",\"label\":\"x\","
                 "\"mode\":\"rw\"}",
                 TG_CTL_MEDIA_ADD, "mode: expected read-only"},
                {"{\"command\":\"exception-revoke\",\"id\":\"3\"}", TG_CTL_EXCEPTION_REVOKE, "id: expected"},
                {"{\"command\":\"exception-revoke\",\"id\":0}", TG_CTL_EXCEPTION_REVOKE, "id: expected"},
                {"{\"command\":\"exception-revoke\",\"id\":-4}", TG_CTL_EXCEPTION_REVOKE, "id: expected"},
                {"{\"command\":\"exception-revoke\",\"id\":1.5}", TG_CTL_EXCEPTION_REVOKE, "id: expected"},
                {"{\"command\":\"session-idle\",\"session\":\"c2\"}", TG_CTL_SESSION_IDLE, "idle_ms: missing"},
                {"{\"command\":\"session-idle\",\"session\":\"c2\",\"idle_ms\":-1}", TG_CTL_SESSION_IDLE,
                 "idle_ms: expected"},
                {"{\"command\":\"session-idle\",\"session\":\"c2\",\"idle_ms\":604800001}", TG_CTL_SESSION_IDLE,
                 "idle_ms: expected"},
                {"{\"command\":\"session-idle\",\"session\":\"c2\",\"idle_ms\":\"5\"}", TG_CTL_SESSION_IDLE,
                 "idle_ms: expected"},
                {"{\"command\":\"session-idle\",\"session\":\"../c2\",\"idle_ms\":5}", TG_CTL_SESSION_IDLE,
                 "session: expected"},
                {"{\"command\":\"session-notify\",\"session\":\"c2\",\"notify_only\":false}", TG_CTL_SESSION_NOTIFY,
                 "notify_only: expected true"},
                {"{\"command\":\"session-notify\",\"session\":\"c2\",\"notify_only\":\"yes\"}", TG_CTL_SESSION_NOTIFY,
                 "notify_only: expected"},
                {"{\"command\":\"journal.forwarded\"}", TG_CTL_JOURNAL_FORWARDED, "seq: missing"},
                {"{\"command\":\"journal.forwarded\",\"seq\":0}", TG_CTL_JOURNAL_FORWARDED, "seq: expected"},
                {"{\"command\":\"journal.forwarded\",\"seq\":-3}", TG_CTL_JOURNAL_FORWARDED, "seq: expected"},
                {"{\"command\":\"journal.forwarded\",\"seq\":\"7\"}", TG_CTL_JOURNAL_FORWARDED, "seq: expected"},
                {"{\"command\":\"forwarder.status\",\"last_commit_usec\":0,\"pending\":-1,\"last_error\":\"\"}",
                 TG_CTL_FORWARDER_STATUS, "pending: expected"},
                {"{\"command\":\"forwarder.status\",\"last_commit_usec\":0,\"pending\":0,\"last_error\":\"a\\nb\"}",
                 TG_CTL_FORWARDER_STATUS, "last_error: expected"},
                {"{\"command\":\"forwarder.status\",\"last_commit_usec\":0,\"pending\":0,\"last_error\":\"\\u202e\"}",
                 TG_CTL_FORWARDER_STATUS, "last_error: expected"},
                {"{\"command\":\"exception-grant\",\"label\":\"x\",\"until\":\"tomorrow\",\"approver\":\"a\","
                 "\"reason\":\"r\"}",
                 TG_CTL_EXCEPTION_GRANT, "until: expected an ISO 8601 time"},
        };
        (void) state;
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                tg_ctl_request req;
                char err[256] = "";
                int r = tg_ctl_request_decode(cases[i].text, strlen(cases[i].text), &req, err, sizeof(err));
                if (r != -EINVAL || req.command != cases[i].command || !strstr(err, cases[i].reason))
                        fail_msg("case %zu (%s): r=%d command=%d err=%s", i, cases[i].text, r, req.command, err);
                tg_ctl_request_done(&req);
        }
}

static void oversized_requests(void **state) {
        tg_ctl_request req;
        char err[256];
        size_t big = TG_CTL_REQUEST_MAX + 1;
        char *text = malloc(big + 1);
        (void) state;

        assert_non_null(text);
        memset(text, ' ', big);
        text[big] = '\0';
        assert_int_equal(tg_ctl_request_decode(text, big, &req, err, sizeof(err)), -EINVAL);
        assert_non_null(strstr(err, "larger than"));
        tg_ctl_request_done(&req);

        /* A label one byte over the register's bound. */
        char label[TG_LABEL_MAX + 2];
        memset(label, 'a', sizeof(label) - 1);
        label[sizeof(label) - 1] = '\0';
        snprintf(text, big, "{\"command\":\"media-remove\",\"label\":\"%s\"}", label);
        assert_int_equal(decode(text, &req, err, sizeof(err)), -EINVAL);
        assert_non_null(strstr(err, "label: longer than"));
        tg_ctl_request_done(&req);
        label[TG_LABEL_MAX] = '\0';
        snprintf(text, big, "{\"command\":\"media-remove\",\"label\":\"%s\"}", label);
        assert_int_equal(decode(text, &req, err, sizeof(err)), 0);
        tg_ctl_request_done(&req);
        free(text);
}

static void reply_round_trip(void **state) {
        json_object *o = tg_ctl_reply_ok(), *a = json_object_new_array(), *m = json_object_new_object();
        tg_ctl_reply reply;
        char *line;
        (void) state;

        tg_ctl_put_string(m, TG_F_LABEL, "総務-01");
        tg_ctl_put_string(m, TG_F_VID, "0951");
        tg_ctl_put_string(m, TG_F_PID, "1666");
        tg_ctl_put_string(m, TG_F_SERIAL, "S1");
        tg_ctl_put_string(m, TG_F_DEPARTMENT, "総務課");
        tg_ctl_put_string(m, TG_F_MODE, "read-only");
        tg_ctl_put_string(m, TG_F_ADDED_BY, "root");
        tg_ctl_put_string(m, TG_F_ADDED_AT, "2026-11-23T00:00:00Z");
        json_object_array_add(a, m);
        tg_ctl_put_list(o, TG_F_MEDIA, a);
        assert_int_equal(tg_ctl_reply_encode(TG_CTL_MEDIA_LIST, o, &line), 0);
        /* The same object is not a reply of another command. */
        assert_int_equal(tg_ctl_reply_check(TG_CTL_EXCEPTION_LIST, o, NULL, 0), -EBADMSG);
        json_object_put(o);

        assert_int_equal(tg_ctl_reply_decode(TG_CTL_MEDIA_LIST, line, strlen(line), &reply), 0);
        assert_true(reply.ok);
        json_object *list = tg_ctl_get_list(reply.json, TG_F_MEDIA);
        assert_non_null(list);
        assert_int_equal(json_object_array_length(list), 1);
        assert_string_equal(tg_ctl_get_string(json_object_array_get_idx(list, 0), TG_F_DEPARTMENT), "総務課");
        tg_ctl_reply_done(&reply);
        free(line);

        o = tg_ctl_reply_ok();
        tg_ctl_put_int(o, TG_F_ID, 7);
        assert_int_equal(tg_ctl_reply_encode(TG_CTL_EXCEPTION_GRANT, o, &line), 0);
        json_object_put(o);
        assert_int_equal(tg_ctl_reply_decode(TG_CTL_EXCEPTION_GRANT, line, strlen(line), &reply), 0);
        assert_string_equal(tg_ctl_get_string(reply.json, TG_F_ID), "7");
        tg_ctl_reply_done(&reply);
        free(line);

        o = tg_ctl_reply_error(TG_CTL_ERR_PERMISSION_DENIED, "only %s", "administrators");
        assert_int_equal(tg_ctl_reply_encode(_TG_CTL_COMMAND_INVALID, o, &line), 0);
        json_object_put(o);
        assert_int_equal(tg_ctl_reply_decode(TG_CTL_MEDIA_ADD, line, strlen(line), &reply), 0);
        assert_false(reply.ok);
        assert_int_equal(reply.code, TG_CTL_ERR_PERMISSION_DENIED);
        assert_string_equal(reply.error, "only administrators");
        tg_ctl_reply_done(&reply);
        free(line);
}

/* The daemon cannot send, and the client does not accept, a reply the table does not describe. */
static void malformed_replies(void **state) {
        static const char *const bad[] = {
                "",
                "null",
                "{}",
                "{\"ok\":\"yes\"}",
                "{\"ok\":false}",
                "{\"ok\":false,\"code\":1,\"error\":\"x\"}",
                "{\"ok\":true}",
                "{\"ok\":true,\"id\":\"7\"}",
                "{\"ok\":true,\"id\":7,\"extra\":1}",
                "{\"ok\":true,\"id\":7",
        };
        tg_ctl_reply reply;
        json_object *o;
        char *line;
        (void) state;

        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
                if (tg_ctl_reply_decode(TG_CTL_EXCEPTION_GRANT, bad[i], strlen(bad[i]), &reply) != -EBADMSG)
                        fail_msg("accepted %s", bad[i]);
        /* a media list whose element lacks a field */
        const char *partial = "{\"ok\":true,\"media\":[{\"label\":\"x\"}]}";
        assert_int_equal(tg_ctl_reply_decode(TG_CTL_MEDIA_LIST, partial, strlen(partial), &reply), -EBADMSG);
        /* an unknown error code is still an error */
        const char *other = "{\"ok\":false,\"code\":\"brand-new\",\"error\":\"x\"}";
        assert_int_equal(tg_ctl_reply_decode(TG_CTL_STATUS, other, strlen(other), &reply), 0);
        assert_false(reply.ok);
        assert_int_equal(reply.code, TG_CTL_ERR_INTERNAL);
        tg_ctl_reply_done(&reply);

        o = tg_ctl_reply_ok();
        tg_ctl_put_string(o, TG_F_VERSION, "0.1.0");
        assert_int_equal(tg_ctl_reply_encode(TG_CTL_STATUS, o, &line), -EBADMSG);
        json_object_put(o);
}

/* A caller's own records: each record's fields are a map of strings, bounded; anything else
 * is no reply of log-own. */
static void log_own_replies(void **state) {
        static const char *const bad[] = {
                /* a field that is not text */
                "{\"ok\":true,\"scanned_from\":1,\"truncated\":false,\"records\":[{\"seq\":1,\"time_usec\":1,"
                "\"clock\":\"x\",\"type\":\"t\",\"priority\":4,\"uid\":1,\"comm\":\"c\",\"fields\":{\"a\":1}}]}",
                /* fields not a map */
                "{\"ok\":true,\"scanned_from\":1,\"truncated\":false,\"records\":[{\"seq\":1,\"time_usec\":1,"
                "\"clock\":\"x\",\"type\":\"t\",\"priority\":4,\"uid\":1,\"comm\":\"c\",\"fields\":[\"a\"]}]}",
                /* a record without its type */
                "{\"ok\":true,\"scanned_from\":1,\"truncated\":false,\"records\":[{\"seq\":1,\"time_usec\":1,"
                "\"clock\":\"x\",\"priority\":4,\"uid\":1,\"comm\":\"c\",\"fields\":{}}]}",
                /* without truncated */
                "{\"ok\":true,\"scanned_from\":1,\"records\":[]}",
        };
        json_object *o = tg_ctl_reply_ok(), *a = json_object_new_array(), *r = json_object_new_object();
        json_object *fields = json_object_new_object();
        tg_ctl_request req;
        tg_ctl_reply reply;
        char err[256], *line;
        (void) state;

        tg_ctl_put_int(r, TG_F_SEQ, 7);
        tg_ctl_put_int(r, TG_F_TIME, INT64_C(1796039222000000));
        tg_ctl_put_string(r, TG_F_CLOCK, "synchronised");
        tg_ctl_put_string(r, TG_F_EVENT_TYPE, "mfa.failure");
        tg_ctl_put_int(r, TG_F_PRIORITY, 4);
        tg_ctl_put_int(r, TG_F_UID, 1000);
        tg_ctl_put_string(r, TG_F_COMM, "pam-login");
        json_object_object_add(fields, "user", json_object_new_string("tanaka"));
        tg_ctl_put_map(r, TG_F_FIELDS, fields);
        json_object_array_add(a, r);
        tg_ctl_put_list(o, TG_F_RECORDS, a);
        tg_ctl_put_int(o, TG_F_SCANNED_FROM, 1);
        tg_ctl_put_bool(o, TG_F_TRUNCATED, false);
        assert_int_equal(tg_ctl_reply_encode(TG_CTL_LOG_OWN, o, &line), 0);
        json_object_put(o);
        assert_int_equal(tg_ctl_reply_decode(TG_CTL_LOG_OWN, line, strlen(line), &reply), 0);
        json_object *rec = json_object_array_get_idx(tg_ctl_get_list(reply.json, TG_F_RECORDS), 0);
        assert_string_equal(tg_ctl_get_string(rec, TG_F_EVENT_TYPE), "mfa.failure");
        assert_non_null(tg_ctl_get_map(rec, TG_F_FIELDS));
        assert_null(tg_ctl_get_map(rec, TG_F_COMM));
        tg_ctl_reply_done(&reply);
        free(line);

        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
                if (tg_ctl_reply_decode(TG_CTL_LOG_OWN, bad[i], strlen(bad[i]), &reply) != -EBADMSG)
                        fail_msg("accepted %s", bad[i]);
        /* more fields than a record has: refused */
        o = tg_ctl_reply_ok();
        a = json_object_new_array();
        r = json_object_new_object();
        fields = json_object_new_object();
        for (int i = 0; i < 65; i++) {
                char k[16];
                snprintf(k, sizeof(k), "f%d", i);
                json_object_object_add(fields, k, json_object_new_string("v"));
        }
        tg_ctl_put_int(r, TG_F_SEQ, 1);
        tg_ctl_put_int(r, TG_F_TIME, 1);
        tg_ctl_put_string(r, TG_F_CLOCK, "x");
        tg_ctl_put_string(r, TG_F_EVENT_TYPE, "t");
        tg_ctl_put_int(r, TG_F_PRIORITY, 4);
        tg_ctl_put_int(r, TG_F_UID, 1);
        tg_ctl_put_string(r, TG_F_COMM, "c");
        tg_ctl_put_map(r, TG_F_FIELDS, fields);
        json_object_array_add(a, r);
        tg_ctl_put_list(o, TG_F_RECORDS, a);
        tg_ctl_put_int(o, TG_F_SCANNED_FROM, 1);
        tg_ctl_put_bool(o, TG_F_TRUNCATED, false);
        assert_int_equal(tg_ctl_reply_encode(TG_CTL_LOG_OWN, o, &line), -EBADMSG);
        json_object_put(o);

        /* the request: times with a zone, nothing else */
        const char *ok = "{\"command\":\"log-own\",\"since\":\"2026-12-01T00:00:00+09:00\"}";
        assert_int_equal(tg_ctl_request_decode(ok, strlen(ok), &req, err, sizeof(err)), 0);
        assert_true(req.has[TG_F_SINCE]);
        assert_int_equal(req.num[TG_F_SINCE], INT64_C(1796050800));
        tg_ctl_request_done(&req);
        const char *bad_since = "{\"command\":\"log-own\",\"since\":\"yesterday\"}";
        assert_int_equal(tg_ctl_request_decode(bad_since, strlen(bad_since), &req, err, sizeof(err)), -EINVAL);
        assert_non_null(strstr(err, "since"));
        tg_ctl_request_done(&req);
        const char *user = "{\"command\":\"log-own\",\"user\":\"root\"}";
        assert_int_equal(tg_ctl_request_decode(user, strlen(user), &req, err, sizeof(err)), -EINVAL);
        tg_ctl_request_done(&req);
}

static void names_are_unique_per_command(void **state) {
        (void) state;
        assert_int_equal(tg_ctl_command_from_string("media-add"), TG_CTL_MEDIA_ADD);
        assert_int_equal(tg_ctl_command_from_string("media_add"), _TG_CTL_COMMAND_INVALID);
        assert_int_equal(tg_ctl_command_from_string(NULL), _TG_CTL_COMMAND_INVALID);
        for (int c = 0; c < _TG_CTL_COMMAND_MAX; c++) {
                assert_non_null(tg_ctl_command_to_string((tg_ctl_command) c));
                assert_int_equal(tg_ctl_command_from_string(tg_ctl_command_to_string((tg_ctl_command) c)), c);
        }
        for (int f = 0; f < _TG_F_MAX; f++)
                assert_non_null(tg_ctl_field_name((tg_ctl_field) f));
        assert_true(tg_ctl_command_takes(TG_CTL_EXCEPTION_GRANT, TG_F_TICKET));
        assert_false(tg_ctl_command_takes(TG_CTL_STATUS, TG_F_LABEL));
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(request_round_trip),      cmocka_unit_test(client_rejects_bad_ids),
                cmocka_unit_test(session_idle_round_trip), cmocka_unit_test(hostile_requests),
                cmocka_unit_test(oversized_requests),      cmocka_unit_test(reply_round_trip),
                cmocka_unit_test(malformed_replies),       cmocka_unit_test(names_are_unique_per_command),
                cmocka_unit_test(log_own_replies),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
