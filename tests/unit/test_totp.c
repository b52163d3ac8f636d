/* SPDX-License-Identifier: GPL-2.0-or-later */
#define _GNU_SOURCE
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "termguard/totp.h"

static const uint8_t k20[] = "12345678901234567890";
static const uint8_t k32[] = "12345678901234567890123456789012";
static const uint8_t k64[] = "1234567890123456789012345678901234567890123456789012345678901234";

static void rfc4226_vectors(void **state) {
        static const uint32_t want[] = {755224, 287082, 359152, 969429, 338314, 254676, 287922, 162583, 399871, 520489};
        (void) state;
        for (uint64_t c = 0; c < 10; c++) {
                uint32_t v;
                assert_int_equal(tg_hotp(TG_OTP_SHA1, k20, 20, c, 6, &v), 0);
                assert_int_equal(v, want[c]);
        }
}

static void rfc6238_vectors_including_past_2038(void **state) {
        static const struct {
                int64_t t;
                uint32_t sha1, sha256, sha512;
        } v[] = {
                {59, 94287082, 46119246, 90693936},         {1111111109, 7081804, 68084774, 25091201},
                {1111111111, 14050471, 67062674, 99943326}, {1234567890, 89005924, 91819424, 93441116},
                {2000000000, 69279037, 90698825, 38618901}, {20000000000LL, 65353130, 77737706, 47863826},
        };
        (void) state;
        for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
                uint32_t x;
                uint64_t step = (uint64_t) v[i].t / 30;
                assert_int_equal(tg_hotp(TG_OTP_SHA1, k20, 20, step, 8, &x), 0);
                assert_int_equal(x, v[i].sha1);
                assert_int_equal(tg_hotp(TG_OTP_SHA256, k32, 32, step, 8, &x), 0);
                assert_int_equal(x, v[i].sha256);
                assert_int_equal(tg_hotp(TG_OTP_SHA512, k64, 64, step, 8, &x), 0);
                assert_int_equal(x, v[i].sha512);
        }
}

static const tg_totp_params p6 = {.algorithm = TG_OTP_SHA1, .digits = 6, .period = 30, .window = 1};

static void code_at(int64_t t, char out[9]) {
        uint32_t v;
        assert_int_equal(tg_hotp(TG_OTP_SHA1, k20, 20, (uint64_t) t / 30, 6, &v), 0);
        snprintf(out, 9, "%06u", v);
}

static void verify_window_and_replay(void **state) {
        char c[9];
        uint64_t step;
        const int64_t now = 1800000000; /* a multiple of 30 */
        (void) state;

        code_at(now, c);
        assert_int_equal(tg_totp_verify(&p6, k20, 20, now, c, 0, &step), 0);
        assert_int_equal(step, now / 30);
        /* the same code again: replay refused */
        assert_int_equal(tg_totp_verify(&p6, k20, 20, now, c, step, NULL), -EACCES);
        /* previous and next step accepted (clock skew of one step) */
        code_at(now - 30, c);
        assert_int_equal(tg_totp_verify(&p6, k20, 20, now, c, 0, &step), 0);
        assert_int_equal(step, now / 30 - 1);
        code_at(now + 30, c);
        assert_int_equal(tg_totp_verify(&p6, k20, 20, now, c, 0, NULL), 0);
        /* two steps away: refused */
        code_at(now - 60, c);
        assert_int_equal(tg_totp_verify(&p6, k20, 20, now, c, 0, NULL), -EACCES);
        code_at(now + 60, c);
        assert_int_equal(tg_totp_verify(&p6, k20, 20, now, c, 0, NULL), -EACCES);
        /* an older code after a newer one was used: refused (no going back) */
        code_at(now - 30, c);
        assert_int_equal(tg_totp_verify(&p6, k20, 20, now, c, now / 30, NULL), -EACCES);
}

static void malformed_codes(void **state) {
        (void) state;
        assert_int_equal(tg_totp_verify(&p6, k20, 20, 59, "", 0, NULL), -EACCES);
        assert_int_equal(tg_totp_verify(&p6, k20, 20, 59, "12345", 0, NULL), -EACCES);
        assert_int_equal(tg_totp_verify(&p6, k20, 20, 59, "1234567", 0, NULL), -EACCES);
        assert_int_equal(tg_totp_verify(&p6, k20, 20, 59, "12a456", 0, NULL), -EACCES);
        assert_int_equal(tg_totp_verify(&p6, k20, 20, 59, " 12345", 0, NULL), -EACCES);
        assert_int_equal(tg_totp_verify(&p6, k20, 20, 59, NULL, 0, NULL), -EINVAL);
        tg_totp_params bad = p6;
        bad.digits = 4;
        assert_int_equal(tg_totp_verify(&bad, k20, 20, 59, "1234", 0, NULL), -EINVAL);
        uint32_t v;
        assert_int_equal(tg_hotp(TG_OTP_SHA1, k20, 0, 0, 6, &v), -EINVAL);
}

static void base32_round_trip(void **state) {
        uint8_t out[64];
        char enc[128];
        size_t n;
        (void) state;
        assert_int_equal(tg_base32_encode(k20, 20, enc, sizeof(enc)), 0);
        assert_string_equal(enc, "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ");
        assert_int_equal(tg_base32_decode("gezd gnbv-gy3tqojqgezdgnbvgy3tqojq", out, sizeof(out), &n), 0);
        assert_int_equal(n, 20);
        assert_memory_equal(out, k20, 20);
        assert_int_equal(tg_base32_decode("GEZ1", out, sizeof(out), &n), -EINVAL);
        assert_int_equal(tg_base32_decode("GEZDGNBVGY3TQOJQ", out, 4, &n), -ENOBUFS);
        assert_int_equal(tg_base32_encode(k20, 20, enc, 10), -ENOBUFS);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(rfc4226_vectors),          cmocka_unit_test(rfc6238_vectors_including_past_2038),
                cmocka_unit_test(verify_window_and_replay), cmocka_unit_test(malformed_codes),
                cmocka_unit_test(base32_round_trip),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
