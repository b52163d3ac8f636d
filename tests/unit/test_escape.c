/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
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

/* The first and last code point of every range of invisible format characters. */
static const uint32_t invisible[] = {
        0x00ad, 0x061c, 0x180e, 0x200b, 0x200f, 0x2028, 0x2029, 0x202a,  0x202e,  0x2060,
        0x2064, 0x2066, 0x2069, 0x206f, 0xfeff, 0xfff9, 0xfffb, 0xe0000, 0xe0001, 0xe007f,
};

static size_t utf8(uint32_t cp, char *out) {
        if (cp < 0x80) {
                out[0] = (char) cp;
                return 1;
        }
        if (cp < 0x800) {
                out[0] = (char) (0xc0 | (cp >> 6));
                out[1] = (char) (0x80 | (cp & 0x3f));
                return 2;
        }
        if (cp < 0x10000) {
                out[0] = (char) (0xe0 | (cp >> 12));
                out[1] = (char) (0x80 | ((cp >> 6) & 0x3f));
                out[2] = (char) (0x80 | (cp & 0x3f));
                return 3;
        }
        out[0] = (char) (0xf0 | (cp >> 18));
        out[1] = (char) (0x80 | ((cp >> 12) & 0x3f));
        out[2] = (char) (0x80 | ((cp >> 6) & 0x3f));
        out[3] = (char) (0x80 | (cp & 0x3f));
        return 4;
}

/* "総務<cp>課" */
static void japanese_around(uint32_t cp, char *out) {
        size_t n = strlen("総務");
        memcpy(out, "総務", n);
        n += utf8(cp, out + n);
        strcpy(out + n, "課");
}

static void invisible_format_characters_are_escaped(void **state) {
        (void) state;
        for (size_t i = 0; i < sizeof(invisible) / sizeof(invisible[0]); i++) {
                char in[32], out[64], want[64];
                japanese_around(invisible[i], in);
                snprintf(want, sizeof(want), invisible[i] <= 0xffff ? "総務\\u%04x課" : "総務\\U%08x課",
                         (unsigned) invisible[i]);
                tg_escape_str(in, out, sizeof(out));
                assert_string_equal(out, want);
                assert_true(tg_char_is_invisible_format(invisible[i]));
                assert_true(tg_text_is_escaped(out, strlen(out)));
                assert_false(tg_text_is_escaped(in, strlen(in)));
                assert_false(tg_valid_text(in, 64, true));
        }
}

/* The attacker's names: look like "KINGSTON" or "stick-1", are not. */
static void look_alikes_are_visible(void **state) {
        char out[64];
        (void) state;
        tg_escape_str("KINGSTON\u202eexe.txt", out, sizeof(out));
        assert_string_equal(out, "KINGSTON\\u202eexe.txt");
        tg_escape_str("stick\u200b-1", out, sizeof(out));
        assert_string_equal(out, "stick\\u200b-1");
        tg_escape_str("\u2066総務課\u2069", out, sizeof(out));
        assert_string_equal(out, "\\u2066総務課\\u2069");
        /* an escape is never cut in half: room for "ab" only */
        char small[10];
        tg_escape_str("ab\u202e", small, sizeof(small));
        assert_string_equal(small, "ab\xe2\x80\xa6");
}

/* Neighbours of the ranges and what Japanese text needs stay as they are. */
static void visible_neighbours_and_japanese_stay(void **state) {
        static const uint32_t visible[] = {
                0x00ac, 0x00ae, 0x061b,  0x200a,  0x2010,  0x2027, 0x202f, 0x205f, 0x2070, 0x3000,
                0xfefc, 0xfffc, 0xe0080, 0xe0100, 0xe01ef, 0x3099, 0x309a, 0xff61, 0x301c,
        };
        (void) state;
        for (size_t i = 0; i < sizeof(visible) / sizeof(visible[0]); i++) {
                char in[32], out[64];
                japanese_around(visible[i], in);
                tg_escape_str(in, out, sizeof(out));
                assert_string_equal(out, in);
                assert_false(tg_char_is_invisible_format(visible[i]));
                assert_true(tg_valid_text(in, 64, true));
        }
        char out[128];
        /* 葛 with an ideographic variation selector, as in resident names */
        tg_escape_str("葛\U000e0100飾区　総務課　ﾃｽﾄ", out, sizeof(out));
        assert_string_equal(out, "葛\U000e0100飾区　総務課　ﾃｽﾄ");
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
        assert_false(tg_valid_text("stick\u200b-1", 64, 0)); /* looks like stick-1 */
        assert_false(tg_valid_text("総務課\u202e", 64, 1));
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
                cmocka_unit_test(invisible_format_characters_are_escaped),
                cmocka_unit_test(look_alikes_are_visible),
                cmocka_unit_test(visible_neighbours_and_japanese_stay),
                cmocka_unit_test(valid_text),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
