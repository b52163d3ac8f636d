/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "termguard/hex.h"

static void encode_is_lowercase_and_bounded(void **state) {
        const uint8_t in[] = {0x00, 0x0f, 0xa5, 0xff};
        char out[9] = "";
        (void) state;
        assert_int_equal(tg_hex_encode(in, sizeof(in), out, sizeof(out)), 0);
        assert_string_equal(out, "000fa5ff");
        assert_int_equal(tg_hex_encode(in, 0, out, 1), 0);
        assert_string_equal(out, "");
        memcpy(out, "untouch", 8);
        assert_int_equal(tg_hex_encode(in, sizeof(in), out, 8), -ENOBUFS);
        assert_string_equal(out, "untouch");
        assert_int_equal(tg_hex_encode(in, 0, out, 0), -ENOBUFS);
}

static void round_trip_either_case(void **state) {
        uint8_t in[256], out[256];
        char text[513];
        size_t n = 0;
        (void) state;
        for (size_t i = 0; i < sizeof(in); i++)
                in[i] = (uint8_t) i;
        assert_int_equal(tg_hex_encode(in, sizeof(in), text, sizeof(text)), 0);
        assert_int_equal(tg_hex_decode(text, out, sizeof(out), &n), 0);
        assert_int_equal(n, sizeof(in));
        assert_memory_equal(in, out, sizeof(in));
        assert_int_equal(tg_hex_decode("DEadBEef", out, sizeof(out), &n), 0);
        assert_int_equal(n, 4);
        assert_memory_equal(out, "\xde\xad\xbe\xef", 4);
        assert_int_equal(tg_hex_decode("", out, 0, &n), 0);
        assert_int_equal(n, 0);
}

static void decode_refuses_anything_but_digit_pairs(void **state) {
        static const char *const bad[] = {"+f", " f",  "f ", "-1", "0x",  "0x12",
                                          "1",  "abc", "g0", "0g", "1\n", "\xc3\xa9"};
        uint8_t out[8] = {0x55};
        size_t n = 99;
        (void) state;
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                assert_int_equal(tg_hex_decode(bad[i], out, sizeof(out), &n), -EINVAL);
                assert_int_equal(n, 99);
                assert_int_equal(out[0], 0x55);
        }
}

static void decode_refuses_overlong(void **state) {
        uint8_t out[2] = {0x55, 0x55};
        size_t n = 99;
        (void) state;
        assert_int_equal(tg_hex_decode("010203", out, sizeof(out), &n), -E2BIG);
        assert_int_equal(n, 99);
        assert_int_equal(out[0], 0x55);
        assert_int_equal(tg_hex_decode("0102", out, sizeof(out), &n), 0);
        assert_int_equal(n, 2);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(encode_is_lowercase_and_bounded),
                cmocka_unit_test(round_trip_either_case),
                cmocka_unit_test(decode_refuses_anything_but_digit_pairs),
                cmocka_unit_test(decode_refuses_overlong),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
