/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "termguard/base64.h"
#include "termguard/macro.h"

/* RFC 4648, section 10 */
static const struct {
        const char *bytes, *text;
} rfc4648[] = {
        {"", ""},
        {"f", "Zg=="},
        {"fo", "Zm8="},
        {"foo", "Zm9v"},
        {"foob", "Zm9vYg=="},
        {"fooba", "Zm9vYmE="},
        {"foobar", "Zm9vYmFy"},
};

static void rfc4648_vectors(void **state) {
        char text[16];
        uint8_t bytes[16];
        size_t n;
        (void) state;
        for (size_t i = 0; i < ELEMENTSOF(rfc4648); i++) {
                size_t len = strlen(rfc4648[i].bytes);
                assert_int_equal(tg_base64_encode(rfc4648[i].bytes, len, text, sizeof(text)), 0);
                assert_string_equal(text, rfc4648[i].text);
                n = 99;
                assert_int_equal(tg_base64_decode(rfc4648[i].text, bytes, sizeof(bytes), &n), 0);
                assert_int_equal(n, len);
                assert_memory_equal(bytes, rfc4648[i].bytes, len);
        }
}

/* Every byte value, every alignment of the tail, and the two characters beyond the letters and
 * digits. */
static void binary_round_trip(void **state) {
        uint8_t in[256], out[256];
        char text[TG_BASE64_SIZE(256)];
        size_t n;
        (void) state;
        for (size_t i = 0; i < sizeof(in); i++)
                in[i] = (uint8_t) (255 - i);
        for (size_t len = 0; len <= sizeof(in); len++) {
                assert_int_equal(tg_base64_encode(in, len, text, TG_BASE64_SIZE(len)), 0);
                assert_int_equal(strlen(text), (len + 2) / 3 * 4);
                assert_int_equal(tg_base64_decode(text, out, sizeof(out), &n), 0);
                assert_int_equal(n, len);
                assert_memory_equal(in, out, len);
        }
        assert_int_equal(tg_base64_encode("\xff\xfe\x00", 3, text, sizeof(text)), 0);
        assert_string_equal(text, "//4A");
        assert_int_equal(tg_base64_encode("\xfb\xef\xbe", 3, text, sizeof(text)), 0);
        assert_string_equal(text, "++++");
}

static void encode_bounded(void **state) {
        char text[9];
        (void) state;
        memcpy(text, "untouch", 8);
        /* "foobar" needs 9 bytes with its NUL */
        assert_int_equal(tg_base64_encode("foobar", 6, text, 8), -ENOBUFS);
        assert_string_equal(text, "untouch");
        assert_int_equal(tg_base64_encode("foobar", 6, text, 9), 0);
        assert_string_equal(text, "Zm9vYmFy");
        assert_int_equal(tg_base64_encode("", 0, text, 0), -ENOBUFS);
}

static void decode_refuses_all_but_canonical(void **state) {
        static const char *const bad[] = {
                "Zg",       /* not a multiple of four */
                "Zg=",      /* nor with its padding cut */
                "Zm9v\n",   /* no line breaks */
                "Zm 9",     /* nor spaces */
                "Zm-_",     /* the URL-safe alphabet is another encoding */
                "Z===",     /* three padding characters */
                "====",     /* padding alone */
                "Zg==Zg==", /* padding in the middle */
                "Zm=v",     /* '=' before the end */
                "Zh==",     /* bits left over that are not zero */
                "Zm9=",     /* the same with one padding character */
                "\xc3\xa9"
                "AA" /* not ASCII */
        };
        uint8_t out[8] = {0x55};
        size_t n = 99;
        (void) state;
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                assert_int_equal(tg_base64_decode(bad[i], out, sizeof(out), &n), -EINVAL);
                assert_int_equal(n, 99);
                assert_int_equal(out[0], 0x55);
        }
}

static void decode_refuses_overlong(void **state) {
        uint8_t out[5] = {0x55};
        size_t n = 99;
        (void) state;
        assert_int_equal(tg_base64_decode("Zm9vYmFy", out, sizeof(out), &n), -E2BIG);
        assert_int_equal(n, 99);
        assert_int_equal(out[0], 0x55);
        assert_int_equal(tg_base64_decode("Zm9vYmE=", out, sizeof(out), &n), 0);
        assert_int_equal(n, 5);
        assert_memory_equal(out, "fooba", 5);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(rfc4648_vectors),         cmocka_unit_test(binary_round_trip),
                cmocka_unit_test(encode_bounded),          cmocka_unit_test(decode_refuses_all_but_canonical),
                cmocka_unit_test(decode_refuses_overlong),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
