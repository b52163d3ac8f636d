/* SPDX-License-Identifier: GPL-2.0-or-later */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "termguard/timeutil.h"

static void expect_time(const char *s, int64_t want) {
        int64_t t = -42;
        if (tg_parse_iso8601(s, &t) != 0)
                fail_msg("\"%s\" refused", s);
        if (t != want)
                fail_msg("\"%s\": %lld, want %lld", s, (long long) t, (long long) want);
}

static void expect_refused(const char *s) {
        int64_t t = -42;
        if (tg_parse_iso8601(s, &t) != -EINVAL)
                fail_msg("\"%s\" accepted", s ? s : "(null)");
        assert_int_equal(t, -42); /* untouched */
}

static void iso8601_valid(void **state) {
        (void) state;
        expect_time("2026-12-01T17:00:00Z", 1796144400);
        expect_time("2026-12-02T02:00:00+09:00", 1796144400);
        expect_time("2026-12-01T12:00:00-05:00", 1796144400);
        expect_time("2026-12-01T17:00:00+00:00", 1796144400);
        expect_time("2026-12-01T17:00:00-00:00", 1796144400);
        expect_time("2040-01-01T00:00:00Z", INT64_C(2208988800)); /* past 2038 */
        expect_time("1970-01-01T00:00:00Z", 0);
        expect_time("1970-01-01T09:00:00+09:00", 0);
        expect_time("2024-02-29T12:00:00Z", 1709208000); /* leap day */
        expect_time("2000-02-29T00:00:00Z", 951782400);  /* divisible by 400: leap */
        expect_time("2026-12-31T23:59:59Z", 1798761599);
        expect_time("9999-12-31T23:59:59Z", TG_TIME_MAX);
        expect_time("9999-12-31T23:59:59+01:00", TG_TIME_MAX - 3600);
}

static void iso8601_out_of_range(void **state) {
        (void) state;
        expect_refused("2026-13-01T17:00:00Z");
        expect_refused("2026-00-01T17:00:00Z");
        expect_refused("2026-12-00T17:00:00Z");
        expect_refused("2026-12-32T17:00:00Z");
        expect_refused("2026-04-31T17:00:00Z"); /* April has 30 days */
        expect_refused("2026-02-29T12:00:00Z"); /* not a leap year */
        expect_refused("1900-02-29T12:00:00Z"); /* divisible by 100: no leap day */
        expect_refused("2026-12-01T24:00:00Z");
        expect_refused("2026-12-01T17:60:00Z");
        expect_refused("2026-12-01T23:59:60Z"); /* leap seconds: POSIX time has none */
        expect_refused("2026-12-01T17:00:00+24:00");
        expect_refused("2026-12-01T17:00:00+09:60");
}

static void iso8601_before_1970_and_far_future(void **state) {
        (void) state;
        expect_refused("1969-12-31T23:59:59Z");
        expect_refused("1960-01-01T00:00:00Z");
        expect_refused("0000-01-01T00:00:00Z");
        expect_refused("1970-01-01T00:00:00+00:01"); /* one minute before the epoch */
        expect_refused("9999-12-31T23:59:59-00:01"); /* past the last year of four digits */
        expect_refused("10000-01-01T00:00:00Z");
        expect_refused("99999999999-01-01T00:00:00Z");
}

static void iso8601_malformed(void **state) {
        (void) state;
        expect_refused(NULL);
        expect_refused("");
        expect_refused("2026-12-01T17:00:00");   /* no zone */
        expect_refused("2026-12-01");            /* no time */
        expect_refused("2026-12-01T17:00:00+9"); /* short offset */
        expect_refused("2026-12-01T17:00:00+0900");
        expect_refused("2026-12-01T17:00:00+09:00:00");
        expect_refused("2026-12-01T17:00:00Zjunk"); /* trailing junk */
        expect_refused("2026-12-01T17:00:00Z ");
        expect_refused("2026-12-01T17:00:00z");
        expect_refused("2026-12-01T17:00:00.5Z"); /* fractions: not on our wire */
        expect_refused(" 2026-12-01T17:00:00Z");  /* leading space */
        expect_refused("2026-12-01 17:00:00Z");
        expect_refused("2026-1-01T17:00:00Z");
        expect_refused("2026-12-1T17:00:00Z");
        expect_refused("2026-12-01T7:00:00Z");
        expect_refused("+026-12-01T17:00:00Z");
        expect_refused("2026-12-01T17:00:+0Z");
        expect_refused("2026-12-01T17:00:00+0a:00");
        expect_refused("2026-12-01T17:00:00\n");
}

static void iso8601_format(void **state) {
        char buf[TG_ISO8601_MAX];
        (void) state;
        tg_format_iso8601(1796144400, buf, sizeof(buf));
        assert_string_equal(buf, "2026-12-01T17:00:00Z");
        tg_format_iso8601(0, buf, sizeof(buf));
        assert_string_equal(buf, "1970-01-01T00:00:00Z");
        tg_format_iso8601(TG_TIME_MAX, buf, sizeof(buf));
        assert_string_equal(buf, "9999-12-31T23:59:59Z");
        tg_format_iso8601(1709208000, buf, sizeof(buf));
        assert_string_equal(buf, "2024-02-29T12:00:00Z");
        /* What it formats, it parses back. */
        for (int64_t t = 0; t < TG_TIME_MAX; t += INT64_C(86399) * 997) {
                int64_t back = -1;
                tg_format_iso8601(t, buf, sizeof(buf));
                assert_int_equal(tg_parse_iso8601(buf, &back), 0);
                assert_int_equal(back, t);
        }
}

static void now_is_the_clock(void **state) {
        (void) state;
        int64_t before = (int64_t) time(NULL), now = tg_now(), after = (int64_t) time(NULL);
        assert_true(before <= now && now <= after);
}

static void durations(void **state) {
        int64_t d = -42;
        (void) state;
        assert_int_equal(tg_parse_duration("90", &d), 0);
        assert_int_equal(d, 90);
        assert_int_equal(tg_parse_duration("90s", &d), 0);
        assert_int_equal(d, 90);
        assert_int_equal(tg_parse_duration("45m", &d), 0);
        assert_int_equal(d, 2700);
        assert_int_equal(tg_parse_duration("45min", &d), 0);
        assert_int_equal(d, 2700);
        assert_int_equal(tg_parse_duration("8h", &d), 0);
        assert_int_equal(d, 28800);
        assert_int_equal(tg_parse_duration("2d", &d), 0);
        assert_int_equal(d, 172800);
        d = -42;
        assert_int_equal(tg_parse_duration("-1h", &d), -EINVAL);
        assert_int_equal(tg_parse_duration("+1h", &d), -EINVAL);
        assert_int_equal(tg_parse_duration(" 1h", &d), -EINVAL);
        assert_int_equal(tg_parse_duration("\t1h", &d), -EINVAL);
        assert_int_equal(tg_parse_duration("1 h", &d), -EINVAL);
        assert_int_equal(tg_parse_duration("1h ", &d), -EINVAL);
        assert_int_equal(tg_parse_duration("1w", &d), -EINVAL);
        assert_int_equal(tg_parse_duration("1hh", &d), -EINVAL);
        assert_int_equal(tg_parse_duration("h", &d), -EINVAL);
        assert_int_equal(tg_parse_duration("0x10", &d), -EINVAL);
        assert_int_equal(tg_parse_duration("", &d), -EINVAL);
        assert_int_equal(tg_parse_duration(NULL, &d), -EINVAL);
        assert_true(tg_parse_duration("99999999999999999999d", &d) < 0);
        assert_int_equal(tg_parse_duration("9999999999999999d", &d), -ERANGE);
        assert_int_equal(d, -42); /* untouched */
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(iso8601_valid),
                cmocka_unit_test(iso8601_out_of_range),
                cmocka_unit_test(iso8601_before_1970_and_far_future),
                cmocka_unit_test(iso8601_malformed),
                cmocka_unit_test(iso8601_format),
                cmocka_unit_test(now_is_the_clock),
                cmocka_unit_test(durations),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
