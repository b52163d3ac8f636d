/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "termguard/tokens.h"

static int parse(const char *text, tg_token_model *ret) {
        return tg_token_model_parse(text, strlen(text), ret);
}

static void models_parse_and_format(void **state) {
        tg_token_model m;
        char buf[TG_TOKEN_TEXT_MAX + 1];
        (void) state;

        assert_int_equal(parse("04E6:5116", &m), 0);
        assert_int_equal(m.vid, 0x04e6);
        assert_int_equal(m.pid, 0x5116);
        assert_string_equal(m.serial, "");
        assert_int_equal(tg_token_model_format(&m, buf, sizeof(buf)), 9);
        assert_string_equal(buf, "04e6:5116");

        assert_int_equal(parse("1050:0407/CC-0001_x", &m), 0);
        assert_string_equal(m.serial, "CC-0001_x");
        assert_int_equal(tg_token_model_format(&m, buf, sizeof(buf)), 19);
        assert_string_equal(buf, "1050:0407/CC-0001_x");
        assert_int_equal(tg_token_model_format(&m, buf, 19), -ENOBUFS);
}

static void bad_models_are_refused(void **state) {
        static const char *const bad[] = {
                "",
                "04e6",
                "04e6:",
                "04e6:511",
                "4e6:5116",
                "04e6-5116",
                "04e6:5116/",
                "04e6:5116x",
                "04e6:51160",
                "g4e6:5116",
                "04e6:5116/a b",
                "04e6:5116/\x01",
                "04e6:5116/\xe3\x81\x82",
                "+4e6:5116",
        };
        tg_token_model m = {.vid = 7};
        char longest[TG_TOKEN_TEXT_MAX + 2];
        (void) state;

        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                assert_int_equal(parse(bad[i], &m), -EINVAL);
                assert_int_equal(m.vid, 7); /* untouched */
        }
        /* The serial's bound, and one past it. */
        snprintf(longest, sizeof(longest), "0001:0002/%0*d", TG_TOKEN_SERIAL_MAX, 0);
        assert_int_equal(parse(longest, &m), 0);
        assert_int_equal(strlen(m.serial), TG_TOKEN_SERIAL_MAX);
        snprintf(longest, sizeof(longest), "0001:0002/%0*d", TG_TOKEN_SERIAL_MAX + 1, 0);
        assert_int_equal(parse(longest, &m), -EINVAL);
}

static void lists_add_reset_and_are_bounded(void **state) {
        tg_token_list l = {0};
        char many[TG_RAW_ACCESS_MODELS_MAX * 10 + 16] = "";
        (void) state;

        assert_int_equal(tg_token_list_extend(&l, " 04e6:5116\t1050:0407/K1 "), 0);
        assert_int_equal(l.n, 2);
        assert_int_equal(tg_token_list_extend(&l, "096e:0858"), 0);
        assert_int_equal(l.n, 3);
        /* One bad model: nothing of that line is added. */
        assert_int_equal(tg_token_list_extend(&l, "1111:2222 nonsense"), -EINVAL);
        assert_int_equal(l.n, 3);
        /* An empty value empties the list. */
        assert_int_equal(tg_token_list_extend(&l, "  "), 0);
        assert_int_equal(l.n, 0);

        for (int i = 0; i < TG_RAW_ACCESS_MODELS_MAX; i++)
                snprintf(many + strlen(many), sizeof(many) - strlen(many), "%04x:0001 ", i);
        assert_int_equal(tg_token_list_extend(&l, many), 0);
        assert_int_equal(l.n, TG_RAW_ACCESS_MODELS_MAX);
        assert_int_equal(tg_token_list_extend(&l, "ffff:ffff"), -E2BIG);
        assert_int_equal(l.n, TG_RAW_ACCESS_MODELS_MAX);
}

static void raw_access_matches_model_and_serial(void **state) {
        tg_token_list l = {0};
        (void) state;

        assert_false(tg_token_raw_allowed(&l, 0x04e6, 0x5116, NULL));
        assert_false(tg_token_raw_allowed(NULL, 0x04e6, 0x5116, NULL));
        assert_int_equal(tg_token_list_extend(&l, "04e6:5116 1050:0407/K1"), 0);
        /* A model without serial: any serial, or none. */
        assert_true(tg_token_raw_allowed(&l, 0x04e6, 0x5116, NULL));
        assert_true(tg_token_raw_allowed(&l, 0x04e6, 0x5116, "anything"));
        assert_false(tg_token_raw_allowed(&l, 0x04e6, 0x5117, NULL));
        assert_false(tg_token_raw_allowed(&l, 0x04e7, 0x5116, NULL));
        /* A model with serial: that serial alone, exactly. */
        assert_true(tg_token_raw_allowed(&l, 0x1050, 0x0407, "K1"));
        assert_false(tg_token_raw_allowed(&l, 0x1050, 0x0407, "K2"));
        assert_false(tg_token_raw_allowed(&l, 0x1050, 0x0407, "k1"));
        assert_false(tg_token_raw_allowed(&l, 0x1050, 0x0407, "K1 "));
        assert_false(tg_token_raw_allowed(&l, 0x1050, 0x0407, ""));
        assert_false(tg_token_raw_allowed(&l, 0x1050, 0x0407, NULL));
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(models_parse_and_format),
                cmocka_unit_test(bad_models_are_refused),
                cmocka_unit_test(lists_add_reset_and_are_bounded),
                cmocka_unit_test(raw_access_matches_model_and_serial),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
