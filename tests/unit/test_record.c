/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Records and their hand-over encoding: what a producer writes parses back the same, and
 * what a hostile sender could write is refused or escaped. */
#define _GNU_SOURCE
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include <cmocka.h>

#include "termguard/record.h"

static int decode(const char *text, bool accept_sender, tg_record *rec, char *err, size_t err_size) {
        return tg_record_decode(text, strlen(text), accept_sender, rec, err, err_size);
}

static void round_trip(void **state) {
        tg_record out, in;
        char *line, err[256];
        (void) state;

        assert_int_equal(tg_record_init(&out, "mfa.failure", -1, "pam_termguard", "mfa.failure user=tanaka"), 0);
        assert_int_equal(out.priority, LOG_WARNING);
        assert_int_equal(strlen(out.id), TG_RECORD_ID_LEN);
        assert_int_equal(tg_record_set(&out, "user", "tanaka"), 0);
        assert_int_equal(tg_record_set(&out, "service", "sshd"), 0);
        assert_int_equal(tg_record_set(&out, "detail", "総務の端末"), 0);
        assert_int_equal(tg_record_set(&out, "rhost", NULL), 0); /* left out */
        assert_int_equal(tg_record_set(&out, "user", "again"), -EEXIST);
        assert_int_equal(tg_record_set(&out, "label", "x"), -EINVAL); /* not a field of mfa.failure */
        assert_int_equal(tg_record_encode(&out, false, &line), 0);
        assert_true(strchr(line, '\n') && strchr(line, '\n')[1] == '\0');
        assert_null(strstr(line, "sender"));

        assert_int_equal(decode(line, false, &in, err, sizeof(err)), 0);
        assert_ptr_equal(in.event, out.event);
        assert_string_equal(in.id, out.id);
        assert_int_equal(in.priority, LOG_WARNING);
        assert_int_equal(in.time, out.time);
        assert_string_equal(in.producer, "pam_termguard");
        assert_string_equal(in.message, "mfa.failure user=tanaka");
        assert_int_equal(in.n_fields, 3);
        assert_string_equal(tg_record_get(&in, "user"), "tanaka");
        assert_string_equal(tg_record_get(&in, "detail"), "総務の端末");
        assert_null(tg_record_get(&in, "rhost"));
        assert_false(in.has_sender);
        tg_record_done(&in);
        free(line);

        /* The spool's form names its sender, which only the spool reader accepts. */
        out.has_sender = true;
        out.sender = (tg_record_sender){.uid = 0, .pid = 4242, .comm = "sshd"};
        assert_int_equal(tg_record_encode(&out, true, &line), 0);
        assert_int_equal(decode(line, true, &in, err, sizeof(err)), 0);
        assert_true(in.has_sender);
        assert_int_equal(in.sender.uid, 0);
        assert_int_equal(in.sender.pid, 4242);
        assert_string_equal(in.sender.comm, "sshd");
        assert_int_equal(in.sender.via, TG_RECORD_VIA_SPOOL);
        tg_record_done(&in);
        assert_int_equal(decode(line, false, &in, err, sizeof(err)), -EBADMSG);
        assert_non_null(strstr(err, "sender"));
        free(line);
        tg_record_done(&out);
}

static void producers_cannot_make_unknown_records(void **state) {
        tg_record r;
        (void) state;
        assert_int_equal(tg_record_init(&r, "mfa.bogus", -1, "pam_termguard", ""), -EINVAL);
        assert_int_equal(tg_record_init(&r, "usb.attach", 8, "termguardd", ""), -EINVAL);
        assert_int_equal(tg_record_init(&r, "usb.attach", -1, "a b", ""), -EINVAL);
        assert_int_equal(tg_record_init(&r, "usb.attach", -1, "", ""), -EINVAL);
        assert_int_equal(tg_record_init(&r, "usb.attach", -1, NULL, ""), -EINVAL);
}

/* Values a producer got from the network or a device are escaped and bounded before they are
 * written: a newline cannot start a journald field of its own. */
static void values_are_escaped_and_bounded(void **state) {
        tg_record r;
        char big[4000];
        (void) state;
        memset(big, 'A', sizeof(big) - 1);
        big[sizeof(big) - 1] = '\0';
        assert_int_equal(tg_record_init(&r, "mfa.success", -1, "pam_termguard", "line\nMESSAGE_ID=0\x1b[2J"), 0);
        assert_int_equal(tg_record_set(&r, "rhost", "10.0.0.1\nMESSAGE_ID=00000000000000000000000000000000\xff"), 0);
        assert_int_equal(tg_record_set(&r, "detail", big), 0);
        assert_null(strchr(r.message, '\n'));
        assert_null(strchr(r.message, '\x1b'));
        assert_string_equal(tg_record_get(&r, "rhost"),
                            "10.0.0.1\\x0aMESSAGE_ID=00000000000000000000000000000000\\xff");
        assert_true(strlen(tg_record_get(&r, "detail")) < TG_RECORD_VALUE_MAX + 8);
        tg_record_done(&r);
}

static const char *const good =
        "{\"v\":1,\"id\":\"0123456789abcdef0123456789abcdef\",\"type\":\"mfa.failure\",\"priority\":4,"
        "\"time\":1700000000000000,\"producer\":\"pam_termguard\",\"message\":\"m\",\"fields\":{\"user\":\"tanaka\"}}"
        "\n";

static void decoder_takes_a_valid_record(void **state) {
        tg_record r;
        char err[256];
        (void) state;
        assert_int_equal(decode(good, false, &r, err, sizeof(err)), 0);
        assert_string_equal(tg_record_get(&r, "user"), "tanaka");
        tg_record_done(&r);
}

/* One hostile record after another: each must be refused, with a reason. */
static void decoder_refuses_hostile_records(void **state) {
        static const char *const bad[] = {
                "",
                "null",
                "[]",
                "{}",
                "{\"v\":1}",
                "not json",
                /* trailing data after the object */
                "{\"v\":1,\"id\":\"0123456789abcdef0123456789abcdef\",\"type\":\"mfa.failure\",\"priority\":4,"
                "\"time\":1,\"producer\":\"p\",\"message\":\"m\",\"fields\":{}}{}",
                /* unknown type */
                "{\"v\":1,\"id\":\"0123456789abcdef0123456789abcdef\",\"type\":\"usb.bogus\",\"priority\":4,"
                "\"time\":1,\"producer\":\"p\",\"message\":\"m\",\"fields\":{}}",
                /* a field the type does not have */
                "{\"v\":1,\"id\":\"0123456789abcdef0123456789abcdef\",\"type\":\"mfa.failure\",\"priority\":4,"
                "\"time\":1,\"producer\":\"p\",\"message\":\"m\",\"fields\":{\"label\":\"x\"}}",
                /* a control character in a value (what tg_escape never writes) */
                "{\"v\":1,\"id\":\"0123456789abcdef0123456789abcdef\",\"type\":\"mfa.failure\",\"priority\":4,"
                "\"time\":1,\"producer\":\"p\",\"message\":\"m\",\"fields\":{\"user\":\"a\\nMESSAGE_ID=0\"}}",
                /* a NUL in a value */
                "{\"v\":1,\"id\":\"0123456789abcdef0123456789abcdef\",\"type\":\"mfa.failure\",\"priority\":4,"
                "\"time\":1,\"producer\":\"p\",\"message\":\"m\",\"fields\":{\"user\":\"a\\u0000b\"}}",
                /* an invisible direction override */
                "{\"v\":1,\"id\":\"0123456789abcdef0123456789abcdef\",\"type\":\"mfa.failure\",\"priority\":4,"
                "\"time\":1,\"producer\":\"p\",\"message\":\"m\\u202e\",\"fields\":{}}",
                /* a value that is not a string */
                "{\"v\":1,\"id\":\"0123456789abcdef0123456789abcdef\",\"type\":\"mfa.failure\",\"priority\":4,"
                "\"time\":1,\"producer\":\"p\",\"message\":\"m\",\"fields\":{\"user\":7}}",
                /* priority out of range, version unknown, bad id, bad producer, unknown key */
                "{\"v\":1,\"id\":\"0123456789abcdef0123456789abcdef\",\"type\":\"mfa.failure\",\"priority\":9,"
                "\"time\":1,\"producer\":\"p\",\"message\":\"m\",\"fields\":{}}",
                "{\"v\":2,\"id\":\"0123456789abcdef0123456789abcdef\",\"type\":\"mfa.failure\",\"priority\":4,"
                "\"time\":1,\"producer\":\"p\",\"message\":\"m\",\"fields\":{}}",
                "{\"v\":1,\"id\":\"0123456789ABCDEF0123456789ABCDEF\",\"type\":\"mfa.failure\",\"priority\":4,"
                "\"time\":1,\"producer\":\"p\",\"message\":\"m\",\"fields\":{}}",
                "{\"v\":1,\"id\":\"0123456789abcdef0123456789abcdef\",\"type\":\"mfa.failure\",\"priority\":4,"
                "\"time\":1,\"producer\":\"p q\",\"message\":\"m\",\"fields\":{}}",
                "{\"v\":1,\"id\":\"0123456789abcdef0123456789abcdef\",\"type\":\"mfa.failure\",\"priority\":4,"
                "\"time\":1,\"producer\":\"p\",\"message\":\"m\",\"fields\":{},\"seq\":5}",
                /* a sender over the socket: forged */
                "{\"v\":1,\"id\":\"0123456789abcdef0123456789abcdef\",\"type\":\"mfa.success\",\"priority\":6,"
                "\"time\":1,\"producer\":\"p\",\"message\":\"m\",\"fields\":{},\"sender\":{\"uid\":0,\"pid\":1,"
                "\"comm\":\"sshd\"}}",
                /* fields not an object */
                "{\"v\":1,\"id\":\"0123456789abcdef0123456789abcdef\",\"type\":\"mfa.failure\",\"priority\":4,"
                "\"time\":1,\"producer\":\"p\",\"message\":\"m\",\"fields\":[]}",
                /* negative time */
                "{\"v\":1,\"id\":\"0123456789abcdef0123456789abcdef\",\"type\":\"mfa.failure\",\"priority\":4,"
                "\"time\":-1,\"producer\":\"p\",\"message\":\"m\",\"fields\":{}}",
        };
        (void) state;
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                tg_record r;
                char err[256] = "";
                int res = decode(bad[i], false, &r, err, sizeof(err));
                if (res != -EBADMSG)
                        fail_msg("case %zu accepted (%d): %s", i, res, bad[i]);
                assert_true(err[0] != '\0');
        }
}

static void decoder_refuses_oversized_and_bad_senders(void **state) {
        tg_record r;
        char err[256];
        size_t big = TG_RECORD_WIRE_MAX + 10;
        char *buf = malloc(big + 1);
        (void) state;
        assert_non_null(buf);
        memset(buf, ' ', big);
        buf[big] = '\0';
        assert_int_equal(tg_record_decode(buf, big, false, &r, err, sizeof(err)), -EBADMSG);
        free(buf);
        /* a value longer than any producer writes */
        char *longv = NULL;
        assert_true(asprintf(&longv,
                             "{\"v\":1,\"id\":\"0123456789abcdef0123456789abcdef\",\"type\":\"mfa.failure\","
                             "\"priority\":4,\"time\":1,\"producer\":\"p\",\"message\":\"m\",\"fields\":{\"user\":"
                             "\"%0*d\"}}",
                             TG_RECORD_VALUE_MAX * 4 + 100, 0) > 0);
        assert_int_equal(decode(longv, false, &r, err, sizeof(err)), -EBADMSG);
        free(longv);
        static const char *const senders[] = {
                "{\"uid\":-1,\"pid\":1,\"comm\":\"x\"}",
                "{\"uid\":0,\"pid\":0,\"comm\":\"x\"}",
                "{\"uid\":0,\"pid\":1,\"comm\":\"x\\u001b\"}",
                "{\"uid\":0,\"pid\":1,\"comm\":\"x\",\"unit\":\"forged.service\"}",
                "\"root\"",
        };
        for (size_t i = 0; i < sizeof(senders) / sizeof(senders[0]); i++) {
                char *t = NULL;
                assert_true(asprintf(&t,
                                     "{\"v\":1,\"id\":\"0123456789abcdef0123456789abcdef\",\"type\":\"mfa.failure\","
                                     "\"priority\":4,\"time\":1,\"producer\":\"p\",\"message\":\"m\",\"fields\":{},"
                                     "\"sender\":%s}",
                                     senders[i]) > 0);
                if (decode(t, true, &r, err, sizeof(err)) != -EBADMSG)
                        fail_msg("sender accepted: %s", senders[i]);
                free(t);
        }
}

/* The reason of a refusal is logged and recorded: what it quotes of the record is escaped. */
static void refusal_reasons_are_escaped(void **state) {
        tg_record r;
        char err[256];
        (void) state;
        assert_int_equal(decode("{\"v\":1,\"x\\u001b[2J\\nMESSAGE_ID=0\":1}", false, &r, err, sizeof(err)), -EBADMSG);
        assert_null(strchr(err, '\x1b'));
        assert_null(strchr(err, '\n'));
        assert_non_null(strstr(err, "\\x1b"));
}

static void spool_names_sort_by_time(void **state) {
        tg_record a, b;
        char na[96], nb[96];
        (void) state;
        assert_int_equal(tg_record_init(&a, "mfa.success", -1, "pam_termguard", ""), 0);
        assert_int_equal(tg_record_init(&b, "mfa.success", -1, "pam_termguard", ""), 0);
        a.time = 999;
        b.time = 1000;
        assert_int_equal(tg_record_spool_name(&a, na, sizeof(na)), 0);
        assert_int_equal(tg_record_spool_name(&b, nb, sizeof(nb)), 0);
        assert_true(strcmp(na, nb) < 0);
        assert_true(tg_record_spool_name_valid(na));
        assert_false(tg_record_spool_name_valid("../etc/passwd"));
        assert_false(tg_record_spool_name_valid(".tmp-00000000000000000999-x.rec"));
        na[5] = 'x';
        assert_false(tg_record_spool_name_valid(na));
        assert_int_equal(tg_record_spool_name(&a, na, 10), -ENAMETOOLONG);
        tg_record_done(&a);
        tg_record_done(&b);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(round_trip),
                cmocka_unit_test(producers_cannot_make_unknown_records),
                cmocka_unit_test(values_are_escaped_and_bounded),
                cmocka_unit_test(decoder_takes_a_valid_record),
                cmocka_unit_test(decoder_refuses_hostile_records),
                cmocka_unit_test(decoder_refuses_oversized_and_bad_senders),
                cmocka_unit_test(refusal_reasons_are_escaped),
                cmocka_unit_test(spool_names_sort_by_time),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
