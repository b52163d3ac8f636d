/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "termguard/totp.h"

static const EVP_MD *md_for(tg_otp_algorithm alg) {
        switch (alg) {
        case TG_OTP_SHA1: return EVP_sha1();
        case TG_OTP_SHA256: return EVP_sha256();
        case TG_OTP_SHA512: return EVP_sha512();
        }
        return NULL;
}

int tg_hotp(tg_otp_algorithm alg, const uint8_t *key, size_t key_len, uint64_t counter, unsigned digits,
            uint32_t *ret) {
        static const uint32_t pow10[] = {1, 10, 100, 1000, 10000, 100000, 1000000, 10000000, 100000000};
        unsigned char msg[8], md[EVP_MAX_MD_SIZE];
        unsigned int md_len = 0;
        const EVP_MD *evp = md_for(alg);

        if (!evp || !key || key_len == 0 || key_len > TG_OTP_KEY_MAX || digits < 6 || digits > 8 || !ret)
                return -EINVAL;
        for (int i = 7; i >= 0; i--) {
                msg[i] = (unsigned char) (counter & 0xff);
                counter >>= 8;
        }
        if (!HMAC(evp, key, (int) key_len, msg, sizeof(msg), md, &md_len) || md_len < 20)
                return -EIO;
        /* Dynamic truncation (RFC 4226 5.3). */
        unsigned off = md[md_len - 1] & 0x0f;
        uint32_t bin = ((uint32_t) (md[off] & 0x7f) << 24) | ((uint32_t) md[off + 1] << 16) |
                       ((uint32_t) md[off + 2] << 8) | (uint32_t) md[off + 3];
        OPENSSL_cleanse(md, sizeof(md));
        *ret = bin % pow10[digits];
        return 0;
}

int tg_totp_verify(const tg_totp_params *p, const uint8_t *key, size_t key_len, int64_t now, const char *code,
                   uint64_t last_step, uint64_t *ret_step) {
        char want[9], got[9];
        uint64_t step, matched = 0;
        int found = 0;
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
        for (int64_t d = -(int64_t) p->window; d <= (int64_t) p->window; d++) {
                uint32_t v;
                if (d < 0 && (uint64_t) (-d) > step)
                        continue;
                uint64_t s = step + (uint64_t) d;
                if (tg_hotp(p->algorithm, key, key_len, s, p->digits, &v) < 0)
                        return -EINVAL;
                /* snprintf of a fixed-width number: same length for every candidate. */
                (void) snprintf(want, sizeof(want), "%0*u", (int) p->digits, v);
                int eq = CRYPTO_memcmp(want, got, p->digits) == 0;
                /* Replay: a step at or before the last accepted one never counts. */
                int fresh = s > last_step;
                if (eq && fresh && !found) {
                        found = 1;
                        matched = s;
                }
        }
        OPENSSL_cleanse(want, sizeof(want));
        OPENSSL_cleanse(got, sizeof(got));
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
