/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <liboath/oath.h>

#include "termguard/totp.h"

/* HMAC through liboath, the library pam_oath uses: it carries its own SHA-1/SHA-2 code and
 * links nothing but libc, where OpenSSL cost every process that authenticates (sshd, sudo,
 * login) about 5 MiB and milliseconds of loading (bench/README.md). */

static bool otp_flags(tg_otp_algorithm alg, int *ret) {
        switch (alg) {
        case TG_OTP_SHA1: *ret = 0; return true;
        case TG_OTP_SHA256: *ret = OATH_TOTP_HMAC_SHA256; return true;
        case TG_OTP_SHA512: *ret = OATH_TOTP_HMAC_SHA512; return true;
        }
        return false;
}

/* The HOTP value of counter as digits decimal characters. liboath's HOTP call knows SHA-1 only;
 * its TOTP call with a step of one second from time 0 is HOTP of the counter for every
 * algorithm (RFC 6238 4.2: T = (now - T0) / X). */
static int hotp_text(tg_otp_algorithm alg, const uint8_t *key, size_t key_len, uint64_t counter, unsigned digits,
                     char out[static 9]) {
        int flags;
        if (!key || key_len == 0 || key_len > TG_OTP_KEY_MAX || digits < 6 || digits > 8 || !otp_flags(alg, &flags) ||
            counter > (uint64_t) INT64_MAX)
                return -EINVAL;
        if (oath_totp_generate2((const char *) key, key_len, (time_t) counter, 1, 0, digits, flags, out) != OATH_OK)
                return -EIO;
        return 0;
}

int tg_hotp(tg_otp_algorithm alg, const uint8_t *key, size_t key_len, uint64_t counter, unsigned digits,
            uint32_t *ret) {
        char text[9];
        uint32_t v = 0;
        if (!ret)
                return -EINVAL;
        int r = hotp_text(alg, key, key_len, counter, digits, text);
        if (r < 0)
                return r;
        for (unsigned i = 0; i < digits; i++)
                v = v * 10 + (uint32_t) (text[i] - '0');
        explicit_bzero(text, sizeof(text));
        *ret = v;
        return 0;
}

/* Compares n bytes in time that depends on n only. */
static bool equal_const_time(const char *a, const char *b, size_t n) {
        volatile unsigned char d = 0;
        for (size_t i = 0; i < n; i++)
                d |= (unsigned char) (a[i] ^ b[i]);
        return d == 0;
}

int tg_totp_verify(const tg_totp_params *p, const uint8_t *key, size_t key_len, int64_t now, const char *code,
                   uint64_t last_step, uint64_t *ret_step) {
        char want[9], got[9];
        uint64_t step, matched = 0;
        bool found = false;
        int r = 0;
        size_t len;

        if (!p || !code || p->period == 0 || p->digits < 6 || p->digits > 8 || p->window > 10 || now < 0)
                return -EINVAL;
        len = strlen(code);
        if (len != p->digits)
                return -EACCES;
        for (size_t i = 0; i < len; i++)
                if (code[i] < '0' || code[i] > '9')
                        return -EACCES;
        memcpy(got, code, len + 1);

        step = (uint64_t) now / p->period;
        for (int64_t d = -(int64_t) p->window; d <= (int64_t) p->window && r == 0; d++) {
                if (d < 0 && (uint64_t) (-d) > step)
                        continue;
                uint64_t s = step + (uint64_t) d;
                r = hotp_text(p->algorithm, key, key_len, s, p->digits, want);
                /* Every candidate is compared, whether or not one matched. Replay: a step at or
                 * before the last accepted one never counts. */
                bool eq = r == 0 && equal_const_time(want, got, p->digits);
                if (eq && s > last_step && !found) {
                        found = true;
                        matched = s;
                }
        }
        explicit_bzero(want, sizeof(want));
        explicit_bzero(got, sizeof(got));
        if (r < 0)
                return -EINVAL;
        if (!found)
                return -EACCES;
        if (ret_step)
                *ret_step = matched;
        return 0;
}

static const char b32[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

int tg_base32_encode(const uint8_t *in, size_t len, char *out, size_t out_size) {
        size_t o = 0;
        unsigned buf = 0, bits = 0;

        if ((len * 8 + 4) / 5 + 1 > out_size)
                return -ENOBUFS;
        for (size_t i = 0; i < len; i++) {
                buf = (buf << 8) | in[i];
                bits += 8;
                while (bits >= 5) {
                        out[o++] = b32[(buf >> (bits - 5)) & 31];
                        bits -= 5;
                }
        }
        if (bits > 0)
                out[o++] = b32[(buf << (5 - bits)) & 31];
        out[o] = '\0';
        return 0;
}

int tg_base32_decode(const char *in, uint8_t *out, size_t out_size, size_t *ret_len) {
        size_t o = 0;
        unsigned buf = 0, bits = 0;

        for (const char *c = in; *c; c++) {
                const char *pos;
                char ch = *c;
                if (ch == '=' || ch == ' ' || ch == '-')
                        continue;
                if (ch >= 'a' && ch <= 'z')
                        ch = (char) (ch - 'a' + 'A');
                pos = strchr(b32, ch);
                if (!pos || ch == '\0')
                        return -EINVAL;
                buf = (buf << 5) | (unsigned) (pos - b32);
                bits += 5;
                if (bits >= 8) {
                        if (o >= out_size)
                                return -ENOBUFS;
                        out[o++] = (uint8_t) (buf >> (bits - 8));
                        bits -= 8;
                }
        }
        *ret_len = o;
        return 0;
}
