/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The usage register built from records, and the CSV it is exported as. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "termguard/csv.h"
#include "termguard/macro.h"
#include "termguard/usage-report.h"

#define H(x) ((int64_t) (x) *3600 * 1000000)

static void feed(tg_usage_report *r, int64_t t, const char *boot, const char *type, ...) {
        const char *keys[16], *values[16];
        tg_usage_record rec = {.time_usec = t, .boot_id = boot, .type = type, .keys = keys, .values = values};
        va_list ap;
        va_start(ap, type);
        for (const char *k; (k = va_arg(ap, const char *));) {
                keys[rec.n_fields] = k;
                values[rec.n_fields++] = va_arg(ap, const char *);
        }
        va_end(ap);
        assert_int_equal(tg_usage_report_add(r, &rec), 0);
}

static void pairs_uses_per_boot_and_device(void **state) {
        tg_usage_report r;
        tg_usage_total *t;
        size_t n;
        (void) state;
        tg_usage_report_init(&r, H(10), H(100));
        /* before the period, detached inside it: counts */
        feed(&r, H(5), "b1", "usb.attach", "device", "1-1", "vid", "0781", "pid", "5581", "serial", "S1", "user",
             "tanaka", NULL);
        feed(&r, H(5), "b1", "usb.decision", "device", "1-1", "decision", "read-write", "label", "L1", NULL);
        feed(&r, H(11), "b1", "media.file-written", "device", "1-1", NULL);
        feed(&r, H(12), "b1", "usb.detach", "device", "1-1", NULL);
        /* the same device name in another boot is another use; it never got a detach */
        feed(&r, H(20), "b2", "usb.decision", "device", "1-1", "decision", "read-only", "label", "L1", "user", "suzuki",
             "trigger", "startup", NULL);
        /* a file written on another device does not count for 1-1 */
        feed(&r, H(21), "b2", "media.file-written", "device", "1-9", NULL);
        /* before the period entirely: left out */
        feed(&r, H(1), "b0", "usb.attach", "device", "2-1", NULL);
        feed(&r, H(1), "b0", "usb.decision", "device", "2-1", "decision", "read-only", NULL);
        feed(&r, H(2), "b0", "usb.detach", "device", "2-1", NULL);
        /* a keyboard: not storage; a blocked phone (still image): storage */
        feed(&r, H(30), "b2", "usb.decision", "device", "3-1", "decision", "allowed", "interfaces", "1.0:03:allow",
             NULL);
        feed(&r, H(31), "b2", "usb.decision", "device", "3-2", "decision", "blocked", "interfaces", "1.0:06:deny",
             "vid", "04e8", "pid", "6860", "serial", "P", NULL);
        /* at or after the end: ignored */
        feed(&r, H(100), "b2", "usb.detach", "device", "1-1", NULL);
        tg_usage_report_finish(&r);

        assert_int_equal(r.n_uses, 3);
        assert_string_equal(r.uses[0].medium, "L1");
        assert_string_equal(r.uses[0].user, "tanaka");
        assert_string_equal(r.uses[0].decision, "read-write");
        assert_int_equal(r.uses[0].attached_usec, H(5));
        assert_int_equal(r.uses[0].detached_usec, H(12));
        assert_int_equal(r.uses[0].files_written, 1);
        assert_string_equal(r.uses[1].user, "suzuki");
        assert_int_equal(r.uses[1].detached_usec, 0);
        assert_int_equal(r.uses[1].files_written, 0);
        assert_string_equal(r.uses[2].medium, "04e8:6860 P");

        assert_int_equal(tg_usage_report_totals(&r, false, &t, &n), 0);
        assert_int_equal(n, 2);
        assert_string_equal(t[0].key, "04e8:6860 P");
        assert_int_equal(t[0].blocked, 1);
        assert_string_equal(t[1].key, "L1");
        assert_int_equal(t[1].uses, 2);
        assert_int_equal(t[1].files_written, 1);
        free(t);
        assert_int_equal(tg_usage_report_totals(&r, true, &t, &n), 0);
        assert_int_equal(n, 3); /* "", suzuki, tanaka */
        free(t);
        tg_usage_report_clear(&r);
}

static void hostile_values_are_bounded(void **state) {
        tg_usage_report r;
        char big[1000];
        (void) state;
        memset(big, 'x', sizeof(big) - 1);
        big[sizeof(big) - 1] = 0;
        tg_usage_report_init(&r, 0, H(1));
        feed(&r, 1, "b", "usb.decision", "device", big, "decision", big, NULL);
        feed(&r, 2, "c", "usb.decision", "device", big, "decision", "read-only", "user", big, "serial", big, NULL);
        feed(&r, 3, "b", "usb.attach", "device", "", NULL); /* no device: nothing */
        tg_usage_report_finish(&r);
        /* an unknown decision is not storage; long values are cut, never overrun */
        assert_int_equal(r.n_uses, 1);
        assert_int_equal(strlen(r.uses[0].user), TG_USAGE_TEXT_MAX - 1);
        assert_true(strlen(r.uses[0].medium) < TG_USAGE_TEXT_MAX);
        tg_usage_report_clear(&r);
}

static char *csv_of(const char *const *cells, size_t n) {
        char *buf = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&buf, &len);
        tg_csv_begin(f);
        for (size_t i = 0; i < n; i++)
                tg_csv_cell(f, cells[i], i == 0);
        tg_csv_end_row(f);
        fclose(f);
        return buf;
}

static void csv_quotes_and_guards_formulas(void **state) {
        static const char *const cells[] = {"plain", "with \"quotes\"", "a,b", "line\nbreak", "=1+2", "+1",
                                            "-2",    "@SUM(A1)",        "\tx", "総務課",      "",     NULL};
        char *s = csv_of(cells, ELEMENTSOF(cells));
        (void) state;
        assert_string_equal(s, "\xef\xbb\xbf\"plain\",\"with \"\"quotes\"\"\",\"a,b\",\"line\nbreak\",\"'=1+2\","
                               "\"'+1\",\"'-2\",\"'@SUM(A1)\",\"'\tx\",\"総務課\",\"\",\"\"\r\n");
        free(s);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(pairs_uses_per_boot_and_device),
                cmocka_unit_test(hostile_values_are_bounded),
                cmocka_unit_test(csv_quotes_and_guards_formulas),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
