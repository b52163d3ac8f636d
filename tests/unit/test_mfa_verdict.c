/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "termguard/mfa-verdict.h"

static const char good[] = "OUTCOME=ok\nLOCKED_NOW=0\nPREV_LOGIN_AT=1700000000\nPREV_LOGIN_FROM=tty1\n"
                           "PREV_FAILED=2\nRECORDED=1\n";

static int parse(const char *s, size_t len, tg_auth_result *r) {
        *r = (tg_auth_result){.outcome = TG_AUTH_ERROR};
        return tg_mfa_verdict_parse(s, len, r);
}

static void round_trip_every_outcome(void **state) {
        (void) state;
        for (int o = TG_AUTH_OK; o <= TG_AUTH_ERROR; o++) {
                tg_auth_result in = {.outcome = (tg_auth_outcome) o,
                                     .locked_now = o == TG_AUTH_WRONG_CODE,
                                     .prev_login_at = INT64_MAX - o,
                                     .prev_failed_since = TG_MFA_FAILURES_MAX},
                               out;
                snprintf(in.prev_login_from, sizeof(in.prev_login_from), "192.0.2.%d 総務課", o);
                char buf[TG_MFA_VERDICT_MAX + 1];
                int n = tg_mfa_verdict_format(&in, buf, sizeof(buf));
                assert_true(n > 0);
                assert_int_equal(parse(buf, (size_t) n, &out), 0);
                assert_int_equal(out.outcome, in.outcome);
                assert_int_equal(out.locked_now, in.locked_now);
                assert_true(out.prev_login_at == in.prev_login_at);
                assert_string_equal(out.prev_login_from, in.prev_login_from);
                assert_int_equal(out.prev_failed_since, in.prev_failed_since);
                assert_true(out.recorded);
        }
}

static void stored_origin_is_escaped_on_output(void **state) {
        tg_auth_result in = {.outcome = TG_AUTH_OK}, out;
        char buf[TG_MFA_VERDICT_MAX + 1];
        (void) state;
        /* a state file edited by hand: a newline would forge a line of the answer */
        snprintf(in.prev_login_from, sizeof(in.prev_login_from), "%s", "x\nOUTCOME=ok\x1b[2J");
        int n = tg_mfa_verdict_format(&in, buf, sizeof(buf));
        assert_true(n > 0);
        assert_int_equal(parse(buf, (size_t) n, &out), 0);
        assert_string_equal(out.prev_login_from, "x\\x0aOUTCOME=ok\\x1b[2J");
        /* the longest origin still fits its field once escaped */
        memset(in.prev_login_from, '\x01', TG_MFA_FROM_MAX);
        in.prev_login_from[TG_MFA_FROM_MAX] = '\0';
        n = tg_mfa_verdict_format(&in, buf, sizeof(buf));
        assert_true(n > 0);
        assert_int_equal(parse(buf, (size_t) n, &out), 0);
        assert_true(strlen(out.prev_login_from) <= TG_MFA_FROM_MAX);
}

/* An origin that needs no escape and fills its field (a long host name) comes through whole:
 * only one that escaping makes longer is cut and marked. */
static void longest_plain_origin_is_not_cut(void **state) {
        tg_auth_result in = {.outcome = TG_AUTH_OK}, out;
        char buf[TG_MFA_VERDICT_MAX + 1];
        (void) state;
        for (size_t len = TG_MFA_FROM_MAX - 4; len <= TG_MFA_FROM_MAX; len++) {
                memset(in.prev_login_from, 'h', len);
                in.prev_login_from[len] = '\0';
                int n = tg_mfa_verdict_format(&in, buf, sizeof(buf));
                assert_true(n > 0);
                assert_int_equal(parse(buf, (size_t) n, &out), 0);
                assert_string_equal(out.prev_login_from, in.prev_login_from);
        }
        /* escaped, one byte over: cut at a whole escape and marked */
        memset(in.prev_login_from, 'h', TG_MFA_FROM_MAX - 4);
        memcpy(in.prev_login_from + TG_MFA_FROM_MAX - 4, "a\x1b", 3);
        int n = tg_mfa_verdict_format(&in, buf, sizeof(buf));
        assert_true(n > 0);
        assert_int_equal(parse(buf, (size_t) n, &out), 0);
        assert_true(strlen(out.prev_login_from) <= TG_MFA_FROM_MAX);
        assert_non_null(strstr(out.prev_login_from, "\xe2\x80\xa6"));
}

static void good_answer_parses(void **state) {
        tg_auth_result r;
        (void) state;
        assert_int_equal(parse(good, strlen(good), &r), 0);
        assert_int_equal(r.outcome, TG_AUTH_OK);
        assert_true(r.prev_login_at == 1700000000);
        assert_string_equal(r.prev_login_from, "tty1");
        assert_int_equal(r.prev_failed_since, 2);
        assert_true(r.recorded);
}

static void hostile_answers_are_errors(void **state) {
        static const char *const bad[] = {
                "",                                                                             /* nothing */
                "OUTCOME=ok\nLOCKED_NOW=0\nPREV_LOGIN_AT=0\nPREV_LOGIN_FROM=\nPREV_FAILED=0\n", /* RECORDED missing */
                "OUTCOME=ok\nLOCKED_NOW=0\nPREV_LOGIN_AT=0\nPREV_LOGIN_FROM=\nPREV_FAILED=0\nRECORDED=1", /* cut */
                "OUTCOME=ok\nLOCKED_NOW=0\nPREV_LOGIN_AT=0\nPREV_LOGIN_FROM=\nPREV_FAILED=0\nRECORDED=1\n"
                "OUTCOME=ok\n", /* duplicate */
                "OUTCOME=error\nOUTCOME=ok\nLOCKED_NOW=0\nPREV_LOGIN_AT=0\nPREV_LOGIN_FROM=\nPREV_FAILED=0\n"
                "RECORDED=1\n", /* duplicate, the later one a success */
                "OUTCOME=ok\nLOCKED_NOW=0\nPREV_LOGIN_AT=0\nPREV_LOGIN_FROM=\nPREV_FAILED=0\nRECORDED=1\nEXTRA=1\n",
                "OUTCOME=ok\nLOCKED_NOW=0\nPREV_LOGIN_AT=0\nPREV_LOGIN_FROM=\nPREV_FAILED=0\nRECORDED=1\n\n",
                "OUTCOME=OK\nLOCKED_NOW=0\nPREV_LOGIN_AT=0\nPREV_LOGIN_FROM=\nPREV_FAILED=0\nRECORDED=1\n",
                "OUTCOME=ok \nLOCKED_NOW=0\nPREV_LOGIN_AT=0\nPREV_LOGIN_FROM=\nPREV_FAILED=0\nRECORDED=1\n",
                "OUTCOME=ok\r\nLOCKED_NOW=0\nPREV_LOGIN_AT=0\nPREV_LOGIN_FROM=\nPREV_FAILED=0\nRECORDED=1\n",
                "OUTCOME=ok\nLOCKED_NOW=2\nPREV_LOGIN_AT=0\nPREV_LOGIN_FROM=\nPREV_FAILED=0\nRECORDED=1\n",
                "OUTCOME=ok\nLOCKED_NOW=0\nPREV_LOGIN_AT=12x\nPREV_LOGIN_FROM=\nPREV_FAILED=0\nRECORDED=1\n",
                "OUTCOME=ok\nLOCKED_NOW=0\nPREV_LOGIN_AT=-1\nPREV_LOGIN_FROM=\nPREV_FAILED=0\nRECORDED=1\n",
                "OUTCOME=ok\nLOCKED_NOW=0\nPREV_LOGIN_AT=+1\nPREV_LOGIN_FROM=\nPREV_FAILED=0\nRECORDED=1\n",
                "OUTCOME=ok\nLOCKED_NOW=0\nPREV_LOGIN_AT= 1\nPREV_LOGIN_FROM=\nPREV_FAILED=0\nRECORDED=1\n",
                "OUTCOME=ok\nLOCKED_NOW=0\nPREV_LOGIN_AT=\nPREV_LOGIN_FROM=\nPREV_FAILED=0\nRECORDED=1\n",
                "OUTCOME=ok\nLOCKED_NOW=0\nPREV_LOGIN_AT=9223372036854775808\nPREV_LOGIN_FROM=\nPREV_FAILED=0\n"
                "RECORDED=1\n",
                "OUTCOME=ok\nLOCKED_NOW=0\nPREV_LOGIN_AT=0\nPREV_LOGIN_FROM=\nPREV_FAILED=1000001\nRECORDED=1\n",
                "OUTCOME=ok\nLOCKED_NOW=0\nPREV_LOGIN_AT=0\nPREV_LOGIN_FROM=\nPREV_FAILED=0x1\nRECORDED=1\n",
                "OUTCOME=ok\nLOCKED_NOW=0\nPREV_LOGIN_AT=0\nPREV_LOGIN_FROM=\nPREV_FAILED=0\nRECORDED=0\n",
                "OUTCOME=ok\nLOCKED_NOW=0\nPREV_LOGIN_AT=0\nPREV_LOGIN_FROM=a\x1b[2J\nPREV_FAILED=0\nRECORDED=1\n",
                "OUTCOME=ok\nLOCKED_NOW=0\nPREV_LOGIN_AT=0\nPREV_LOGIN_FROM=a\tb\nPREV_FAILED=0\nRECORDED=1\n",
                "OUTCOME=ok\nLOCKED_NOW=0\nPREV_LOGIN_AT=0\nPREV_LOGIN_FROM=\xff\nPREV_FAILED=0\nRECORDED=1\n",
                "OUTCOME=ok\nLOCKED_NOW=0\nPREV_LOGIN_AT=0\nPREV_LOGIN_FROM=\xc2\x9b\nPREV_FAILED=0\nRECORDED=1\n",
                "OUTCOME=ok\nLOCKED_NOW=0\nPREV_LOGIN_AT=0\nPREV_LOGIN_FROM=\nPREV_FAILED=0\nRECORDED=1\nno equals\n",
                "OUTCOME=ok\nLOCKED_NOW=0\nPREV_LOGIN_AT=0\n=x\nPREV_LOGIN_FROM=\nPREV_FAILED=0\nRECORDED=1\n",
        };
        tg_auth_result r;
        (void) state;
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                r = (tg_auth_result){.outcome = TG_AUTH_ERROR};
                assert_int_equal(tg_mfa_verdict_parse(bad[i], strlen(bad[i]), &r), -EBADMSG);
                assert_int_equal(r.outcome, TG_AUTH_ERROR); /* untouched */
                assert_false(r.recorded);
        }
}

static void embedded_nul_and_overlong_are_errors(void **state) {
        char buf[2 * TG_MFA_VERDICT_MAX];
        tg_auth_result r;
        (void) state;
        /* a NUL that a C string reader would stop at, with a valid answer before it */
        memcpy(buf, good, sizeof(good)); /* includes the NUL */
        memcpy(buf + sizeof(good), "X=1\n", 4);
        assert_int_equal(parse(buf, sizeof(good) + 4, &r), -EBADMSG);
        /* a NUL inside a value */
        memcpy(buf, good, sizeof(good) - 1);
        buf[strlen("OUTCOME=ok")] = '\0';
        assert_int_equal(parse(buf, sizeof(good) - 1, &r), -EBADMSG);
        /* an origin longer than its field */
        int n = snprintf(buf, sizeof(buf),
                         "OUTCOME=ok\nLOCKED_NOW=0\nPREV_LOGIN_AT=0\nPREV_LOGIN_FROM=%0*d\nPREV_FAILED=0\nRECORDED=1\n",
                         TG_MFA_FROM_MAX + 1, 0);
        assert_int_equal(parse(buf, (size_t) n, &r), -EBADMSG);
        /* the whole answer over its bound, however well-formed its start */
        memset(buf, 'a', sizeof(buf));
        memcpy(buf, good, sizeof(good) - 1);
        buf[sizeof(buf) - 1] = '\n';
        assert_int_equal(parse(buf, sizeof(buf), &r), -EBADMSG);
        assert_int_equal(parse(good, TG_MFA_VERDICT_MAX + 1, &r), -EBADMSG);
}

static void format_refuses_a_short_buffer(void **state) {
        tg_auth_result in = {.outcome = TG_AUTH_OK};
        char buf[16];
        (void) state;
        assert_int_equal(tg_mfa_verdict_format(&in, buf, sizeof(buf)), -ENOBUFS);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(round_trip_every_outcome),
                cmocka_unit_test(stored_origin_is_escaped_on_output),
                cmocka_unit_test(longest_plain_origin_is_not_cut),
                cmocka_unit_test(good_answer_parses),
                cmocka_unit_test(hostile_answers_are_errors),
                cmocka_unit_test(embedded_nul_and_overlong_are_errors),
                cmocka_unit_test(format_refuses_a_short_buffer),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
