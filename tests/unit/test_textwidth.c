/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "termguard/textwidth.h"

static void ascii_and_japanese(void **state) {
        (void) state;
        assert_int_equal(tg_display_width(""), 0);
        assert_int_equal(tg_display_width(NULL), 0);
        assert_int_equal(tg_display_width("USB-SOUMU-01"), 12);
        assert_int_equal(tg_display_width("総務-01"), 7);
        assert_int_equal(tg_display_width("総務課"), 6);
        assert_int_equal(tg_display_width("ｿｳﾑ"), 3);      /* half-width katakana */
        assert_int_equal(tg_display_width("ＡＢ"), 4);     /* full-width Latin */
        assert_int_equal(tg_display_width("が"), 2);       /* precomposed */
        assert_int_equal(tg_display_width("か\u3099"), 2); /* combining voiced mark */
        assert_int_equal(tg_display_width("e\u0301"), 1);
        assert_int_equal(tg_display_width("\U00020B9F"), 2); /* CJK extension B (𠮟) */
        assert_int_equal(tg_display_width("テスト工業"), 10);
}

/* What would break a terminal is printed as \xNN and counted as such. */
static void unsafe_bytes(void **state) {
        char buf[64];
        (void) state;
        assert_int_equal(tg_display_width("a\x1b[2J"), 1 + 4 + 3);
        assert_string_equal(tg_display_text("a\x1b[2J", buf, sizeof(buf)), "a\\x1b[2J");
        assert_int_equal(tg_display_width("\xc2\x85"), 8); /* C1 NEL */
        assert_string_equal(tg_display_text("\xc2\x85", buf, sizeof(buf)), "\\xc2\\x85");
        assert_int_equal(tg_display_width("\xed\xa0\x80"), 12); /* surrogate */
        assert_int_equal(tg_display_width("\xc0\xaf"), 8);      /* overlong */
        assert_int_equal(tg_display_width("\xe7\xb7"), 8);      /* cut short */
        assert_string_equal(tg_display_text("\xe7\xb7", buf, sizeof(buf)), "\\xe7\\xb7");
        assert_int_equal(tg_display_width("\x7f"), 4);
        /* Escapes already in a reply stay as they are. */
        assert_string_equal(tg_display_text("a\\x01b", buf, sizeof(buf)), "a\\x01b");
        /* Printed width and counted width agree. */
        const char *mixed = "総\x01務\xff-01";
        assert_int_equal(tg_display_width(mixed), tg_display_width(tg_display_text(mixed, buf, sizeof(buf))));
}

/* Invisible format characters are printed as tg_escape shows them and counted as such: the
 * first and last of each range, between Japanese text. */
static void invisible_format_characters(void **state) {
        static const struct {
                const char *in, *shown;
        } cases[] = {
                {"総務\u00ad課", "総務\\u00ad課"},         {"総務\u061c課", "総務\\u061c課"},
                {"総務\u180e課", "総務\\u180e課"},         {"総務\u200b課", "総務\\u200b課"},
                {"総務\u200f課", "総務\\u200f課"},         {"総務\u2028課", "総務\\u2028課"},
                {"総務\u202e課", "総務\\u202e課"},         {"総務\u2060課", "総務\\u2060課"},
                {"総務\u2066課", "総務\\u2066課"},         {"総務\u2069課", "総務\\u2069課"},
                {"総務\u206f課", "総務\\u206f課"},         {"総務\ufeff課", "総務\\ufeff課"},
                {"総務\ufff9課", "総務\\ufff9課"},         {"総務\ufffb課", "総務\\ufffb課"},
                {"総務\U000e0001課", "総務\\U000e0001課"}, {"総務\U000e007f課", "総務\\U000e007f課"},
        };
        char buf[64];
        (void) state;
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                assert_string_equal(tg_display_text(cases[i].in, buf, sizeof(buf)), cases[i].shown);
                assert_int_equal(tg_display_width(cases[i].in), 6 + strlen(cases[i].shown) - strlen("総務課"));
                assert_int_equal(tg_display_width(cases[i].in), tg_display_width(buf));
        }
        /* A product name that reads "KINGSTONtxt.exe" when shown raw. */
        assert_string_equal(tg_display_text("KINGSTON\u202eexe.txt", buf, sizeof(buf)), "KINGSTON\\u202eexe.txt");
        assert_int_equal(tg_display_width("KINGSTON\u202eexe.txt"), 8 + 6 + 7);
        /* Variation selectors are part of Japanese names and stay zero-width. */
        assert_int_equal(tg_display_width("葛\U000e0100飾"), 4);
        /* An escape is not cut in half. */
        char small[8];
        assert_string_equal(tg_display_text("ab\u202e", small, sizeof(small)), "ab");
}

static void cut_at_whole_characters(void **state) {
        char buf[5];
        (void) state;
        assert_string_equal(tg_display_text("総務課", buf, sizeof(buf)), "総");
        assert_string_equal(tg_display_text("ab\x01", buf, sizeof(buf)), "ab");
        assert_string_equal(tg_display_text("abcdef", buf, sizeof(buf)), "abcd");
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(ascii_and_japanese),
                cmocka_unit_test(unsafe_bytes),
                cmocka_unit_test(invisible_format_characters),
                cmocka_unit_test(cut_at_whole_characters),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
