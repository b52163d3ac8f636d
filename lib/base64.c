/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <string.h>

#include "termguard/base64.h"
#include "termguard/macro.h"

static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

int tg_base64_encode(const void *data, size_t len, char *ret, size_t ret_size) {
        const uint8_t *p = data;
        size_t i = 0, o = 0;

        assert_return((data || len == 0) && ret, -EINVAL);
        /* (len + 2) / 3 * 4 + 1 without overflow */
        if (len / 3 >= (SIZE_MAX - 5) / 4 || ret_size < TG_BASE64_SIZE(len))
                return -ENOBUFS;
        for (; i + 3 <= len; i += 3) {
                uint32_t v = (uint32_t) p[i] << 16 | (uint32_t) p[i + 1] << 8 | p[i + 2];
                ret[o++] = alphabet[v >> 18];
                ret[o++] = alphabet[(v >> 12) & 63];
                ret[o++] = alphabet[(v >> 6) & 63];
                ret[o++] = alphabet[v & 63];
        }
        if (i < len) {
                uint32_t v = (uint32_t) p[i] << 16 | (i + 1 < len ? (uint32_t) p[i + 1] << 8 : 0);
                ret[o++] = alphabet[v >> 18];
                ret[o++] = alphabet[(v >> 12) & 63];
                ret[o++] = i + 1 < len ? alphabet[(v >> 6) & 63] : '=';
                ret[o++] = '=';
        }
        ret[o] = '\0';
        return 0;
}

static int sextet(char c) {
        const char *p = c ? strchr(alphabet, c) : NULL;
        return p ? (int) (p - alphabet) : -1;
}

int tg_base64_decode(const char *text, uint8_t *ret, size_t ret_size, size_t *ret_len) {
        size_t n, pad = 0, out;

        assert_return(text && (ret || ret_size == 0) && ret_len, -EINVAL);
        n = strlen(text);
        if (n % 4)
                return -EINVAL;
        if (n > 0 && text[n - 1] == '=')
                pad = text[n - 2] == '=' ? 2 : 1;
        for (size_t i = 0; i < n - pad; i++)
                if (sextet(text[i]) < 0)
                        return -EINVAL;
        /* the bits below the last character's share of a byte must be zero */
        if ((pad == 2 && (sextet(text[n - 3]) & 15)) || (pad == 1 && (sextet(text[n - 2]) & 3)))
                return -EINVAL;
        out = n / 4 * 3 - pad;
        if (out > ret_size)
                return -E2BIG;
        for (size_t i = 0, o = 0; i < n; i += 4) {
                uint32_t v = 0;
                for (size_t k = 0; k < 4; k++)
                        v = v << 6 | (i + k < n - pad ? (uint32_t) sextet(text[i + k]) : 0);
                ret[o++] = (uint8_t) (v >> 16);
                if (o < out)
                        ret[o++] = (uint8_t) (v >> 8);
                if (o < out)
                        ret[o++] = (uint8_t) v;
        }
        *ret_len = out;
        return 0;
}
