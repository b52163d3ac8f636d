/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "termguard/escape.h"

static void plain_text_is_unchanged(void **state) {
        char out[64];
        (void) state;
        tg_escape_str("Kingston DataTraveler", out, sizeof(out));
        assert_string_equal(out, "Kingston DataTraveler");
        tg_escape_str("総務課USB", out, sizeof(out));
        assert_string_equal(out, "総務課USB");
}

static void control_characters_are_escaped(void **state) {
        char out[64];
        (void) state;
        tg_escape_str("a\nb\x1b[31m\x7f\\", out, sizeof(out));
        assert_string_equal(out, "a\\x0ab\\x1b[31m\\x7f\\\\");
}

static void invalid_utf8_is_escaped(void **state) {
        char out[64];
        (void) state;
        /* lone continuation, overlong '/', truncated sequence, surrogate, C1 control */
        tg_escape_str("\x80"
                      "\xc0\xaf"
                      "\xe3\x81"
                      "\xed\xa0\x80"
                      "\xc2\x85",
                      out, sizeof(out));
        assert_string_equal(out, "\\x80\\xc0\\xaf\\xe3\\x81\\xed\\xa0\\x80\\xc2\\x85");
}

static void long_input_is_bounded_and_marked(void **state) {
        char in[1000], out[64];
        (void) state;
        memset(in, 'A', sizeof(in) - 1);
        in[sizeof(in) - 1] = '\0';
        tg_escape_str(in, out, sizeof(out));
        assert_true(strlen(out) < sizeof(out));
        assert_non_null(strstr(out, "\xe2\x80\xa6"));
        tg_escape(in, strlen(in), 10, out, sizeof(out));
        assert_string_equal(out, "AAAAAAAAAA\xe2\x80\xa6");
}

static void escapes_never_split_in_output(void **state) {
        char out[8];
        (void) state;
        /* Room for one 4-byte escape only: the second must not appear half-written. */
        tg_escape_str("\x01\x02\x03", out, sizeof(out));
        assert_true(strlen(out) < sizeof(out));
        assert_int_equal(strncmp(out, "\\x01", 4), 0);
        assert_null(strstr(out, "\\x0\xe2"));
}

static void null_and_tiny_buffers(void **state) {
        char out[1] = {'x'};
        char out2[16];
        (void) state;
        tg_escape_str("abc", out, sizeof(out));
        assert_int_equal(out[0], '\0');
        tg_escape_str(NULL, out2, sizeof(out2));
        assert_string_equal(out2, "");
}

static void valid_text(void **state) {
        (void) state;
        assert_true(tg_valid_text("stick-1", 64, 0));
        assert_true(tg_valid_text("総務課 第1係", 64, 1));
        assert_false(tg_valid_text("総務課 第1係", 64, 0));
        assert_false(tg_valid_text("", 64, 1));
        assert_false(tg_valid_text(NULL, 64, 1));
        assert_false(tg_valid_text("a\tb", 64, 1));
        assert_false(tg_valid_text("quote\"", 64, 1));
        assert_false(tg_valid_text("\xff", 64, 1));
        assert_false(tg_valid_text("abcdef", 5, 1));
}

static void escaped_text_is_recognised(void **state) {
        char out[64];
        (void) state;
        tg_escape_str("a\nb\x1b\xff\\ 総務課", out, sizeof(out));
        assert_true(tg_text_is_escaped(out, strlen(out)));
        assert_true(tg_text_is_escaped("", 0));
        assert_false(tg_text_is_escaped("a\nb", 3));
        assert_false(tg_text_is_escaped("a\x7f", 2));
        assert_false(tg_text_is_escaped("\xc2\x85", 2)); /* C1 */
        assert_false(tg_text_is_escaped("\xff", 1));
        assert_false(tg_text_is_escaped("a\0b", 3));
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(escaped_text_is_recognised),
                cmocka_unit_test(plain_text_is_unchanged),
                cmocka_unit_test(control_characters_are_escaped),
                cmocka_unit_test(invalid_utf8_is_escaped),
                cmocka_unit_test(long_input_is_bounded_and_marked),
                cmocka_unit_test(escapes_never_split_in_output),
                cmocka_unit_test(null_and_tiny_buffers),
                cmocka_unit_test(valid_text),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
