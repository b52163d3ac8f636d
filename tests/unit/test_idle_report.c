/* SPDX-License-Identifier: GPL-2.0-or-later */
/* When the session helper reports (lib/idle-report.c), with made-up times. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "termguard/idle-report.h"

#define S(n) ((uint64_t) (n) *1000000)
#define MS(n) ((uint64_t) (n) *1000)
#define T0 S(1000) /* any monotonic time */

/* The first measurement is reported at once; until termguardd answers, the report is retried
 * every TG_IDLE_REPORT_RETRY_USEC and the helper sleeps in between. */
static void first_report_and_retry(void **state) {
        (void) state;
        tg_idle_reporter r = {0};
        assert_true(tg_idle_report_due(&r, 0, T0));
        tg_idle_report_sent(&r, 0, T0, false, 0);
        assert_false(tg_idle_report_due(&r, 500, T0 + S(1)));
        assert_int_equal(tg_idle_report_sleep(&r, 500, T0 + S(1)), TG_IDLE_REPORT_RETRY_USEC - S(1));
        assert_true(tg_idle_report_due(&r, 10000, T0 + TG_IDLE_REPORT_RETRY_USEC));
}

/* While the user works: one report per interval, and no wake-up before the idle spell could
 * begin or the report is due. */
static void working_reports_once_per_interval(void **state) {
        (void) state;
        tg_idle_reporter r = {0};
        tg_idle_report_sent(&r, 0, T0, true, S(4));
        assert_false(r.idle);
        /* input 1 s ago: the idle spell could begin in 3 s */
        assert_int_equal(tg_idle_report_sleep(&r, 1000, T0 + S(1)), S(3));
        assert_false(tg_idle_report_due(&r, 1000, T0 + S(1)));
        /* input just now at T0+3.9: the periodic report is due at T0+4 */
        assert_int_equal(tg_idle_report_sleep(&r, 0, T0 + MS(3900)), MS(100));
        assert_true(tg_idle_report_due(&r, 100, T0 + S(4)));
}

/* No input for an interval: reported at once as the start of an idle spell; then polled every
 * second (only looking shows input), reported once per interval, and input reported at once. */
static void idle_spell_and_input(void **state) {
        (void) state;
        tg_idle_reporter r = {0};
        tg_idle_report_sent(&r, 0, T0, true, S(4));
        assert_false(tg_idle_report_due(&r, 3999, T0 + MS(3999)));
        assert_true(tg_idle_report_is_idle(&r, 4000));
        assert_true(tg_idle_report_due(&r, 4000, T0 + MS(3999))); /* a state change comes first */
        tg_idle_report_sent(&r, 4000, T0 + S(4), true, S(4));
        assert_true(r.idle);
        assert_int_equal(tg_idle_report_sleep(&r, 5000, T0 + S(5)), TG_IDLE_REPORT_POLL_USEC);
        assert_false(tg_idle_report_due(&r, 5000, T0 + S(5)));
        assert_true(tg_idle_report_due(&r, 8000, T0 + S(8))); /* periodic, while idle */
        /* input: at once, whatever the time */
        assert_true(tg_idle_report_due(&r, 200, T0 + S(5)));
}

/* Bad values: idle times beyond any range neither overflow nor make the helper spin. */
static void extreme_values(void **state) {
        (void) state;
        tg_idle_reporter r = {0};
        tg_idle_report_sent(&r, UINT64_MAX, T0, true, S(60));
        assert_true(r.idle);
        assert_true(tg_idle_report_sleep(&r, UINT64_MAX, T0) >= 1000);
        tg_idle_report_sent(&r, 0, T0, true, 0); /* a daemon that names no interval: the retry's */
        assert_false(tg_idle_report_due(&r, 0, T0 + S(1)));
        assert_true(tg_idle_report_due(&r, 0, T0 + TG_IDLE_REPORT_RETRY_USEC));
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(first_report_and_retry),
                cmocka_unit_test(working_reports_once_per_interval),
                cmocka_unit_test(idle_spell_and_input),
                cmocka_unit_test(extreme_values),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
