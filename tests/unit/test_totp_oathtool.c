/* SPDX-License-Identifier: GPL-2.0-or-later */
/* TOTP against an independent implementation: oathtool (OATH Toolkit) must agree for random
 * secrets and times. A program of its own so that a machine without oathtool skips it (exit 77)
 * while the RFC vectors in test_totp still run. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <cmocka.h>

#include "termguard/totp.h"

static void cross_check_with_oathtool(void **state) {
        uint32_t seed = 4711;
        (void) state;
        for (int round = 0; round < 20; round++) {
                uint8_t key[20];
                char b[64], cmd[256], line[32];
                int64_t t;
                uint32_t v;
                for (size_t i = 0; i < sizeof(key); i++) {
                        seed = seed * 1103515245u + 12345u;
                        key[i] = (uint8_t) (seed >> 16);
                }
                seed = seed * 1103515245u + 12345u;
                t = 1000000000LL + (int64_t) (seed % 3000000000u); /* up to 2065 */
                assert_int_equal(tg_base32_encode(key, sizeof(key), b, sizeof(b)), 0);
                snprintf(cmd, sizeof(cmd), "oathtool --totp -b -d 6 --now '@%lld' %s", (long long) t, b);
                FILE *f = popen(cmd, "r");
                assert_non_null(f);
                assert_non_null(fgets(line, sizeof(line), f));
                assert_int_equal(pclose(f), 0);
                assert_int_equal(tg_hotp(TG_OTP_SHA1, key, sizeof(key), (uint64_t) t / 30, 6, &v), 0);
                assert_int_equal(v, (uint32_t) strtoul(line, NULL, 10));
        }
}

int main(void) {
        if (system("command -v oathtool >/dev/null 2>&1") != 0) {
                fprintf(stderr, "test_totp_oathtool: skipped, oathtool not installed (Debian package oathtool)\n");
                return 77;
        }
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(cross_check_with_oathtool),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
