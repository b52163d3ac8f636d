/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <string.h>

#include "termguard/hex.h"
#include "termguard/macro.h"

int tg_hex_encode(const void *data, size_t len, char *ret, size_t ret_size) {
        static const char digits[] = "0123456789abcdef";
        const uint8_t *p = data;

        assert_return((data || len == 0) && ret, -EINVAL);
        if (ret_size == 0 || len > (ret_size - 1) / 2)
                return -ENOBUFS;
        for (size_t i = 0; i < len; i++) {
                ret[2 * i] = digits[p[i] >> 4];
                ret[2 * i + 1] = digits[p[i] & 15];
        }
        ret[2 * len] = '\0';
        return 0;
}

static int digit_value(char c) {
        if (c >= '0' && c <= '9')
                return c - '0';
        if (c >= 'a' && c <= 'f')
                return c - 'a' + 10;
        if (c >= 'A' && c <= 'F')
                return c - 'A' + 10;
        return -1;
}

int tg_hex_decode(const char *hex, uint8_t *ret, size_t ret_size, size_t *ret_len) {
        size_t n;

        assert_return(hex && (ret || ret_size == 0) && ret_len, -EINVAL);
        n = strlen(hex);
        if (n % 2)
                return -EINVAL;
        for (size_t i = 0; i < n; i++)
                if (digit_value(hex[i]) < 0)
                        return -EINVAL;
        if (n / 2 > ret_size)
                return -E2BIG;
        for (size_t i = 0; i < n / 2; i++)
                ret[i] = (uint8_t) (digit_value(hex[2 * i]) << 4 | digit_value(hex[2 * i + 1]));
        *ret_len = n / 2;
        return 0;
}
